// The simd scores kernels scores_simd_<tier>: one thread, one entry per ISA tier of
// attn/isa_tiers.inc and `best`, the widest tier the CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Scores at each tier; layouts as ScoresFn (attn/stages.hpp).
#define ATTN_ISA(tier, flags, feature, feature2)                                         \
    void scores_simd_##tier(const Shape& sh, const float* q, const float* k, float* s) { \
        simd::scores_body(Isa::tier, 1, sh, q, k, s);                                    \
    }
#include "attn/isa_tiers.inc"
ATTN_ISA(best, "", "", "")
#undef ATTN_ISA

}  // namespace attn::kernels
