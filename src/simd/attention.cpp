// The simd attention kernels attention_simd_<tier>: one thread, one entry per ISA tier of
// attn/isa_tiers.inc and `best`, the widest tier the CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Unfused attention by query blocks at each tier, one overload per storage type; layouts as
// AttentionFn (attn/stages.hpp).
#define ATTN_ATTENTION(tier, T)                                                                 \
    void attention_simd_##tier(const Shape& sh, const T* q, const T* k, const T* v, float* o) { \
        simd::attention_body(Isa::tier, 1, sh, q, k, v, o);                                     \
    }
#define ATTN_ISA(tier, flags, feature, feature2) \
    ATTN_ATTENTION(tier, float) ATTN_ATTENTION(tier, bf16) ATTN_ATTENTION(tier, f16)
#include "attn/isa_tiers.inc"
ATTN_ISA(best, "", "", "")
#undef ATTN_ISA

}  // namespace attn::kernels
