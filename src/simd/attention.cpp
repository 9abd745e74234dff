// The simd attention kernels attention_simd_<tier>: one thread, one entry per ISA tier of
// attn/isa_tiers.inc and `best`, the widest tier the CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Unfused attention by query blocks at each tier; layouts as AttentionFn (attn/stages.hpp).
#define ATTN_ISA(tier, flags, feature, feature2)                                                \
    void attention_simd_##tier(const Shape& sh, const float* q, const float* k, const float* v, \
                               float* o) {                                                      \
        simd::attention_body(Isa::tier, 1, sh, q, k, v, o);                                     \
    }
#include "attn/isa_tiers.inc"
ATTN_ISA(best, "", "", "")
#undef ATTN_ISA

}  // namespace attn::kernels
