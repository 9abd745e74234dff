// The flash attention kernels: fused FlashAttention-2 style attention (src/flash/flash_impl.hpp),
// parallel over batch x heads x query blocks on Shape::threads threads; one entry per ISA tier and
// `best`, the widest tier the CPU has at run time.
#include "flash.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Fused attention with the sse2 blocks; q, o [B][H][n_q][d], k, v [B][H][n_kv][d].
void attention_flash_sse2(const Shape& sh, const float* q, const float* k, const float* v,
                          float* o) {
    flash::flash_body(Isa::sse2, sh.threads, sh, q, k, v, o);
}
// Fused attention with the avx2 blocks; q, o [B][H][n_q][d], k, v [B][H][n_kv][d].
void attention_flash_avx2(const Shape& sh, const float* q, const float* k, const float* v,
                          float* o) {
    flash::flash_body(Isa::avx2, sh.threads, sh, q, k, v, o);
}
// Fused attention with the avx512 blocks; q, o [B][H][n_q][d], k, v [B][H][n_kv][d].
void attention_flash_avx512(const Shape& sh, const float* q, const float* k, const float* v,
                            float* o) {
    flash::flash_body(Isa::avx512, sh.threads, sh, q, k, v, o);
}
// Fused attention with the best blocks; q, o [B][H][n_q][d], k, v [B][H][n_kv][d].
void attention_flash_best(const Shape& sh, const float* q, const float* k, const float* v,
                          float* o) {
    flash::flash_body(Isa::best, sh.threads, sh, q, k, v, o);
}

}  // namespace attn::kernels
