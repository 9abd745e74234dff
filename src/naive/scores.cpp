#include <cmath>
#include <limits>

#include "kernels.hpp"

namespace attn::kernels {

namespace {

// S[b][h][i][j] = sim(Q[b][h][i], K[b][h][j]) * scale, -inf where the causal mask hides j;
// q [B][H][n_q][d], k [B][kv_heads][n_kv][d] stored as T, each element widened as it is read
// (query head h reads K/V head h / group), s [B][H][n_q][n_kv]. A zero vector has cosine 0.
template <class T> void scores_naive(const Shape& sh, const T* q, const T* k, float* s) {
    const auto d = sh.head_dim;
    const float scale = sh.effective_scale();
    for (std::int64_t bh = 0; bh < sh.batch * sh.heads; ++bh) {
        const T* qh = q + bh * sh.n_q * d;
        const T* kh = k + sh.kv_head_of(bh) * sh.n_kv * d;
        float* sh_row = s + bh * sh.n_q * sh.n_kv;
        for (std::int64_t i = 0; i < sh.n_q; ++i) {
            const auto visible = sh.visible_keys(i);
            for (std::int64_t j = 0; j < sh.n_kv; ++j) {
                float& out = sh_row[i * sh.n_kv + j];
                if (j >= visible) {
                    out = -std::numeric_limits<float>::infinity();
                    continue;
                }
                float dot = 0, qq = 0, kk = 0;
                for (std::int64_t c = 0; c < d; ++c) {
                    const float qc = to_float(qh[i * d + c]), kc = to_float(kh[j * d + c]);
                    dot += qc * kc;
                    qq += qc * qc;
                    kk += kc * kc;
                }
                if (sh.similarity == Similarity::cosine) {
                    const float norm = std::sqrt(qq) * std::sqrt(kk);
                    dot = norm != 0 ? dot / norm : 0.0f;
                }
                out = dot * scale;
            }
        }
    }
}

}  // namespace

void scores_naive_scalar(const Shape& sh, const float* q, const float* k, float* s) {
    scores_naive(sh, q, k, s);
}
void scores_naive_scalar(const Shape& sh, const bf16* q, const bf16* k, float* s) {
    scores_naive(sh, q, k, s);
}
void scores_naive_scalar(const Shape& sh, const f16* q, const f16* k, float* s) {
    scores_naive(sh, q, k, s);
}

}  // namespace attn::kernels
