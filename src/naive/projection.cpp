#include "kernels.hpp"

namespace attn::kernels {

namespace {

// Y = X W with the textbook i-j-k loop order; x [B * n_q][d_model], w [d_model][cols] stored as T,
// each element widened as it is read, y [B * n_q][cols].
template <class T>
void project_naive(const Shape& sh, std::int64_t cols, const T* x, const T* w, float* y) {
    const std::int64_t m = sh.batch * sh.n_q, k = sh.d_model();
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < cols; ++j) {
            float acc = 0;
            for (std::int64_t c = 0; c < k; ++c)
                acc += to_float(x[i * k + c]) * to_float(w[c * cols + j]);
            y[i * cols + j] = acc;
        }
}

}  // namespace

// project_naive for each storage type.
void project_columns_naive(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                           float* y) {
    project_naive(sh, cols, x, w, y);
}
void project_columns_naive(const Shape& sh, std::int64_t cols, const bf16* x, const bf16* w,
                           float* y) {
    project_naive(sh, cols, x, w, y);
}
void project_columns_naive(const Shape& sh, std::int64_t cols, const f16* x, const f16* w,
                           float* y) {
    project_naive(sh, cols, x, w, y);
}

// Y = X W; x, y [B * n_q][d_model], w [d_model][d_model]; x and w stored as the overload's type.
void projection_naive_scalar(const Shape& sh, const float* x, const float* w, float* y) {
    project_naive(sh, sh.d_model(), x, w, y);
}
void projection_naive_scalar(const Shape& sh, const bf16* x, const bf16* w, float* y) {
    project_naive(sh, sh.d_model(), x, w, y);
}
void projection_naive_scalar(const Shape& sh, const f16* x, const f16* w, float* y) {
    project_naive(sh, sh.d_model(), x, w, y);
}

}  // namespace attn::kernels
