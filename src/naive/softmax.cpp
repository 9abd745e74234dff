#include <cmath>
#include <limits>

#include "kernels.hpp"
#include "softmax_row.hpp"

namespace attn::kernels {

// P = softmax of each row of S with the row maximum subtracted first; s, p [B][H][n_q][n_kv]
// (in place allowed); an all -inf row becomes zeros.
void softmax_naive_scalar(const Shape& sh, const float* s, float* p) {
    const std::int64_t rows = sh.batch * sh.heads * sh.n_q, n = sh.n_kv;
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* in = s + r * n;
        float* out = p + r * n;
        float m = -std::numeric_limits<float>::infinity();
        for (std::int64_t j = 0; j < n; ++j) m = std::fmax(m, in[j]);
        softmax_row_with_max(in, out, n, m);
    }
}

}  // namespace attn::kernels
