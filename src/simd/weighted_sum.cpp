// The simd weighted_sum kernels weighted_sum_simd_<tier>: one thread, one entry per ISA tier of
// attn/isa_tiers.inc and `best`, the widest tier the CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// O = P V at each tier, one overload per storage type; layouts as WeightedSumFn
// (attn/stages.hpp).
#define ATTN_WEIGHTED_SUM(tier, T)                                                     \
    void weighted_sum_simd_##tier(const Shape& sh, const T* p, const T* v, float* o) { \
        simd::weighted_sum_body(Isa::tier, 1, sh, p, v, o);                            \
    }
#define ATTN_ISA(tier, flags, feature, feature2) \
    ATTN_WEIGHTED_SUM(tier, float) ATTN_WEIGHTED_SUM(tier, bf16) ATTN_WEIGHTED_SUM(tier, f16)
#include "attn/isa_tiers.inc"
ATTN_ISA(best, "", "", "")
#undef ATTN_ISA

}  // namespace attn::kernels
