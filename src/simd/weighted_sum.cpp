// The simd weighted_sum kernels weighted_sum_simd_<tier>: one thread, one entry per ISA tier of
// attn/isa_tiers.inc and `best`, the widest tier the CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// O = P V at each tier; layouts as WeightedSumFn (attn/stages.hpp).
#define ATTN_ISA(tier, flags, feature, feature2)                                               \
    void weighted_sum_simd_##tier(const Shape& sh, const float* p, const float* v, float* o) { \
        simd::weighted_sum_body(Isa::tier, 1, sh, p, v, o);                                    \
    }
#include "attn/isa_tiers.inc"
ATTN_ISA(best, "", "", "")
#undef ATTN_ISA

}  // namespace attn::kernels
