// The omp multihead kernel: the multi-head block from the omp projection and attention.
#include "kernels.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

// Self-attention block; x, y [B][n][d_model].
void multihead_omp_best(const Shape& sh, const float* x, const MhaWeights& w, float* y) {
    multihead_chain(sh, x, w, y, project_columns_omp, attention_omp_best, sh.threads,
                    project_heads_omp);
}

}  // namespace attn::kernels
