#include <cmath>
#include <limits>

#include "kernels.hpp"

namespace attn::kernels {

// S[b][h][i][j] = sim(Q[b][h][i], K[b][h][j]) * scale, -inf where the causal mask hides j;
// q [B][H][n_q][d], k [B][kv_heads][n_kv][d] (query head h reads K/V head h / group),
// s [B][H][n_q][n_kv]. A zero vector has cosine 0.
void scores_naive_scalar(const Shape& sh, const float* q, const float* k, float* s) {
    const auto d = sh.head_dim;
    const float scale = sh.effective_scale();
    for (std::int64_t bh = 0; bh < sh.batch * sh.heads; ++bh) {
        const float* qh = q + bh * sh.n_q * d;
        const float* kh = k + sh.kv_head_of(bh) * sh.n_kv * d;
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
                    dot += qh[i * d + c] * kh[j * d + c];
                    qq += qh[i * d + c] * qh[i * d + c];
                    kk += kh[j * d + c] * kh[j * d + c];
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

}  // namespace attn::kernels
