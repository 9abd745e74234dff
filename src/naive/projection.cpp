#include "kernels.hpp"

namespace attn::kernels {

// Y = X W with the textbook i-j-k loop order; x, y [B * n_q][d_model], w [d_model][d_model].
void projection_naive(const Shape& sh, const float* x, const float* w, float* y) {
    const std::int64_t m = sh.batch * sh.n_q, n = sh.d_model();
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            float acc = 0;
            for (std::int64_t c = 0; c < n; ++c) acc += x[i * n + c] * w[c * n + j];
            y[i * n + j] = acc;
        }
}

}  // namespace attn::kernels
