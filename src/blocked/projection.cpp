#include "blocked/matmul.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Y = X W; x, y [B * n_q][d_model], w [d_model][d_model], all row-major (batch and sequence
// fold into the rows of X, so one matrix product covers the call).
void projection_blocked(const Shape& sh, const float* x, const float* w, float* y) {
    const std::int64_t m = sh.batch * sh.n_q, n = sh.d_model();
    blocked::matmul(m, n, n, x, n, w, n, y, n);
}

}  // namespace attn::kernels
