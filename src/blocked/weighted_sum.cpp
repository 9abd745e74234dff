#include "blocked/matmul.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// O = P V per head; p [B][H][n_q][n_kv], v [B][kv_heads][n_kv][d], o [B][H][n_q][d], all
// row-major.
void weighted_sum_blocked_scalar(const Shape& sh, const float* p, const float* v, float* o) {
    // The product adds P[i][j] * V[j][:] along whole rows of V (unit stride). Masked keys are not
    // skipped: this stage multiplies whatever P it is given; attention trims them instead.
    const auto d = sh.head_dim, n_q = sh.n_q, n_kv = sh.n_kv;
    for (std::int64_t bh = 0; bh < sh.batch * sh.heads; ++bh)
        blocked::matmul(n_q, d, n_kv, p + bh * n_q * n_kv, n_kv, v + sh.kv_head_of(bh) * n_kv * d,
                        d, o + bh * n_q * d, d);
}

}  // namespace attn::kernels
