// The omp layer kernel: the transformer layer from the omp projection and omp attention on
// Shape::threads threads.
#include "kernels.hpp"
#include "layer_chain.hpp"

namespace attn::kernels {

// One post-norm transformer layer (LayerFn); x, y [B][n][d_model], fp32.
void layer_omp_best(const Shape& sh, const float* x, const LayerWeights& w, float* y) {
    layer_chain(
        sh, x, w, y,
        {project_columns_omp, attention_omp_best, project_heads_omp, sh.threads, Isa::best});
}

}  // namespace attn::kernels
