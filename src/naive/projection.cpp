#include "kernels.hpp"

namespace attn::kernels {

// Y = X W with the textbook i-j-k loop order; x [B * n_q][d_model], w [d_model][cols],
// y [B * n_q][cols].
void project_columns_naive(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                           float* y) {
    const std::int64_t m = sh.batch * sh.n_q, k = sh.d_model();
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < cols; ++j) {
            float acc = 0;
            for (std::int64_t c = 0; c < k; ++c) acc += x[i * k + c] * w[c * cols + j];
            y[i * cols + j] = acc;
        }
}

// Y = X W; x, y [B * n_q][d_model], w [d_model][d_model].
void projection_naive_scalar(const Shape& sh, const float* x, const float* w, float* y) {
    project_columns_naive(sh, sh.d_model(), x, w, y);
}

}  // namespace attn::kernels
