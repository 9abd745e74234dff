#include "blocked/matmul.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Y = X W; x [B * n_q][d_model], w [d_model][cols], y [B * n_q][cols], all row-major (batch and
// sequence fold into the rows of X, so one matrix product covers the call).
void project_columns_blocked(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                             float* y) {
    const std::int64_t m = sh.batch * sh.n_q, k = sh.d_model();
    blocked::matmul(m, cols, k, x, k, w, cols, y, cols);
}

// Y = X W; x, y [B * n_q][d_model], w [d_model][d_model].
void projection_blocked_scalar(const Shape& sh, const float* x, const float* w, float* y) {
    project_columns_blocked(sh, sh.d_model(), x, w, y);
}

}  // namespace attn::kernels
