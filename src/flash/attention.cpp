// The flash attention kernels attention_flash_<tier>: fused FlashAttention-2 style attention
// (src/flash/flash_impl.hpp), parallel over batch x heads x query blocks on Shape::threads threads;
// one entry per ISA tier of attn/isa_tiers.inc and `best`, the widest tier the CPU has at run time.
#include "flash.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Fused attention at each tier; q, o [B][H][n_q][d], k, v [B][KV heads][n_kv][d]; q, k and v
// stored as fp32, bf16 or f16 (the overloads).
#define ATTN_ISA(tier, flags, feature, feature2)                                                 \
    void attention_flash_##tier(const Shape& sh, const float* q, const float* k, const float* v, \
                                float* o) {                                                      \
        flash::flash_body(Isa::tier, sh.threads, sh, q, k, v, o);                                \
    }                                                                                            \
    void attention_flash_##tier(const Shape& sh, const bf16* q, const bf16* k, const bf16* v,    \
                                float* o) {                                                      \
        flash::flash_body(Isa::tier, sh.threads, sh, q, k, v, o);                                \
    }                                                                                            \
    void attention_flash_##tier(const Shape& sh, const f16* q, const f16* k, const f16* v,       \
                                float* o) {                                                      \
        flash::flash_body(Isa::tier, sh.threads, sh, q, k, v, o);                                \
    }
#include "attn/isa_tiers.inc"
ATTN_ISA(best, "", "", "")
#undef ATTN_ISA

}  // namespace attn::kernels
