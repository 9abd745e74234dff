// The flash variant: fused FlashAttention-2 style attention (see simd/ops_impl.hpp flash_rows):
// query blocks outer, KV blocks of 512 keys inner, K and V packed once per head, online
// softmax, causal blocks above the diagonal skipped, parallel over batch x heads x query blocks.
#include "simd/bodies.hpp"
#include "kernels.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

// Fused attention; q, o [B][H][n_q][d], k, v [B][H][n_kv][d].
void attention_flash(const Shape& sh, const float* q, const float* k, const float* v, float* o) {
    simd::flash_body(simd::ops(Isa::best), sh.threads, sh, q, k, v, o);
}

// Multi-head block from the omp projection and flash attention; x, y [B][n][d_model].
void multihead_flash(const Shape& sh, const float* x, const MhaWeights& w, float* y) {
    multihead_chain(sh, x, w, y, projection_omp, attention_flash);
}

}  // namespace attn::kernels
