// The simd multihead kernels: the multi-head block from the simd projection and attention of each
// tier (src/multihead_chain.cpp).
#include "bodies.hpp"
#include "kernels.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

// Self-attention block with the sse2 simd kernels; x, y [B][n][d_model].
void multihead_simd_sse2(const Shape& sh, const float* x, const MhaWeights& w, float* y) {
    multihead_chain(sh, x, w, y, simd::project_columns<Isa::sse2>, attention_simd_sse2, 1);
}
// Self-attention block with the avx2 simd kernels; x, y [B][n][d_model].
void multihead_simd_avx2(const Shape& sh, const float* x, const MhaWeights& w, float* y) {
    multihead_chain(sh, x, w, y, simd::project_columns<Isa::avx2>, attention_simd_avx2, 1);
}
// Self-attention block with the avx512 simd kernels; x, y [B][n][d_model].
void multihead_simd_avx512(const Shape& sh, const float* x, const MhaWeights& w, float* y) {
    multihead_chain(sh, x, w, y, simd::project_columns<Isa::avx512>, attention_simd_avx512, 1);
}
// Self-attention block with the best simd kernels; x, y [B][n][d_model].
void multihead_simd_best(const Shape& sh, const float* x, const MhaWeights& w, float* y) {
    multihead_chain(sh, x, w, y, simd::project_columns<Isa::best>, attention_simd_best, 1);
}

}  // namespace attn::kernels
