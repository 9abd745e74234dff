#include "kernels.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

// Self-attention block from the naive projection and naive attention; x, y [B][n][d_model], x and
// the weights stored as the overload's type (16-bit: Q, K, V and the heads' outputs too).
void multihead_naive_scalar(const Shape& sh, const float* x, const MhaWeights& w, float* y) {
    multihead_chain(sh, x, w, y, project_columns_naive, attention_naive_scalar, 1);
}
void multihead_naive_scalar(const Shape& sh, const bf16* x, const MhaWeightsOf<bf16>& w, float* y) {
    multihead_chain<bf16>(sh, x, w, y, project_columns_naive, attention_naive_scalar, 1);
}
void multihead_naive_scalar(const Shape& sh, const f16* x, const MhaWeightsOf<f16>& w, float* y) {
    multihead_chain<f16>(sh, x, w, y, project_columns_naive, attention_naive_scalar, 1);
}

}  // namespace attn::kernels
