// The omp multihead kernel: the multi-head block from the omp projection and attention.
#include "kernels.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

// Self-attention block; x, y [B][n][d_model], x and the weights stored as the overload's type
// (16-bit: Q, K, V and the heads' outputs too).
void multihead_omp_best(const Shape& sh, const float* x, const MhaWeights& w, float* y) {
    multihead_chain(sh, x, w, y, project_columns_omp, attention_omp_best, sh.threads,
                    project_heads_omp);
}
void multihead_omp_best(const Shape& sh, const bf16* x, const MhaWeightsOf<bf16>& w, float* y) {
    multihead_chain<bf16>(sh, x, w, y, project_columns_omp, attention_omp_best, sh.threads);
}
void multihead_omp_best(const Shape& sh, const f16* x, const MhaWeightsOf<f16>& w, float* y) {
    multihead_chain<f16>(sh, x, w, y, project_columns_omp, attention_omp_best, sh.threads);
}

}  // namespace attn::kernels
