// The simd scores kernels scores_simd_<tier>: one thread, one entry per ISA tier of
// attn/isa_tiers.inc and `best`, the widest tier the CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Scores at each tier, one overload per storage type; layouts as ScoresFn (attn/stages.hpp).
#define ATTN_SCORES(tier, T)                                                     \
    void scores_simd_##tier(const Shape& sh, const T* q, const T* k, float* s) { \
        simd::scores_body(Isa::tier, 1, sh, q, k, s);                            \
    }
#define ATTN_ISA(tier, flags, feature, feature2) \
    ATTN_SCORES(tier, float) ATTN_SCORES(tier, bf16) ATTN_SCORES(tier, f16)
#include "attn/isa_tiers.inc"
ATTN_ISA(best, "", "", "")
#undef ATTN_ISA

}  // namespace attn::kernels
