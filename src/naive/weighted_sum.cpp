#include "kernels.hpp"

namespace attn::kernels {

namespace {

// O[i][c] = sum_j P[i][j] V[j][c] per head; p [B][H][n_q][n_kv], v [B][kv_heads][n_kv][d] stored
// as T, each element widened as it is read, o [B][H][n_q][d]. The inner loop walks V down a
// column, as the textbook formula reads.
template <class T> void weighted_sum_naive(const Shape& sh, const T* p, const T* v, float* o) {
    const auto d = sh.head_dim;
    for (std::int64_t bh = 0; bh < sh.batch * sh.heads; ++bh) {
        const T* ph = p + bh * sh.n_q * sh.n_kv;
        const T* vh = v + sh.kv_head_of(bh) * sh.n_kv * d;
        float* oh = o + bh * sh.n_q * d;
        for (std::int64_t i = 0; i < sh.n_q; ++i)
            for (std::int64_t c = 0; c < d; ++c) {
                float acc = 0;
                for (std::int64_t j = 0; j < sh.n_kv; ++j)
                    acc += to_float(ph[i * sh.n_kv + j]) * to_float(vh[j * d + c]);
                oh[i * d + c] = acc;
            }
    }
}

}  // namespace

void weighted_sum_naive_scalar(const Shape& sh, const float* p, const float* v, float* o) {
    weighted_sum_naive(sh, p, v, o);
}
void weighted_sum_naive_scalar(const Shape& sh, const bf16* p, const bf16* v, float* o) {
    weighted_sum_naive(sh, p, v, o);
}
void weighted_sum_naive_scalar(const Shape& sh, const f16* p, const f16* v, float* o) {
    weighted_sum_naive(sh, p, v, o);
}

}  // namespace attn::kernels
