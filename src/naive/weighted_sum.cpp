#include "kernels.hpp"

namespace attn::kernels {

// O[i][c] = sum_j P[i][j] V[j][c] per head; p [B][H][n_q][n_kv], v [B][kv_heads][n_kv][d],
// o [B][H][n_q][d]. The inner loop walks V down a column, as the textbook formula reads.
void weighted_sum_naive_scalar(const Shape& sh, const float* p, const float* v, float* o) {
    const auto d = sh.head_dim;
    for (std::int64_t bh = 0; bh < sh.batch * sh.heads; ++bh) {
        const float* ph = p + bh * sh.n_q * sh.n_kv;
        const float* vh = v + sh.kv_head_of(bh) * sh.n_kv * d;
        float* oh = o + bh * sh.n_q * d;
        for (std::int64_t i = 0; i < sh.n_q; ++i)
            for (std::int64_t c = 0; c < d; ++c) {
                float acc = 0;
                for (std::int64_t j = 0; j < sh.n_kv; ++j)
                    acc += ph[i * sh.n_kv + j] * vh[j * d + c];
                oh[i * d + c] = acc;
            }
    }
}

}  // namespace attn::kernels
