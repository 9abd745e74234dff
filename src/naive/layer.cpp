// The naive layer kernel: the transformer layer from the naive projection and naive attention: the
// textbook chain.
#include "kernels.hpp"
#include "layer_chain.hpp"

namespace attn::kernels {

// One post-norm transformer layer (LayerFn); x, y [B][n][d_model], fp32.
void layer_naive_scalar(const Shape& sh, const float* x, const LayerWeights& w, float* y) {
    layer_chain(sh, x, w, y,
                {project_columns_naive, attention_naive_scalar, nullptr, 1, Isa::scalar});
}

}  // namespace attn::kernels
