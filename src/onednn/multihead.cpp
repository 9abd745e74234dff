#include "kernels.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

// The multi-head block as a framework composes it on oneDNN: four matmul projections, the heads
// split and merged by copies, attention_onednn_best in between (src/multihead_chain.cpp); x, y
// [B][n][d_model].
void multihead_onednn_best(const Shape& sh, const float* x, const MhaWeights& w, float* y) {
    multihead_chain(sh, x, w, y, project_columns_onednn, attention_onednn_best, sh.threads);
}
// The same on bf16 storage: the projections' outputs stored as bf16 as the heads are split.
void multihead_onednn_best(const Shape& sh, const bf16* x, const MhaWeightsOf<bf16>& w, float* y) {
    multihead_chain<bf16>(sh, x, w, y, project_columns_onednn, attention_onednn_best, sh.threads);
}

}  // namespace attn::kernels
