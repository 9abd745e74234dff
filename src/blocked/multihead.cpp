#include "kernels.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

// Self-attention block from the blocked projection and blocked attention; x, y [B][n][d_model].
void multihead_blocked_scalar(const Shape& sh, const float* x, const MhaWeights& w, float* y) {
    multihead_chain(sh, x, w, y, project_columns_blocked, attention_blocked_scalar, 1);
}

}  // namespace attn::kernels
