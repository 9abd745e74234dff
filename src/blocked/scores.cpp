#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "blocked/matmul.hpp"
#include "blocked/tiles.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// S = sim(Q, K) * scale per head, -inf where the causal mask hides a key, cosine 0 for a zero
// vector; q [B][H][n_q][d], k [B][kv_heads][n_kv][d], s [B][H][n_q][n_kv], all row-major.
void scores_blocked_scalar(const Shape& sh, const float* q, const float* k, float* s) {
    const auto d = sh.head_dim, n_q = sh.n_q, n_kv = sh.n_kv;
    const float scale = sh.effective_scale();
    const bool cosine = sh.similarity == Similarity::cosine;
    constexpr float kNegInf = -std::numeric_limits<float>::infinity();
    const std::int64_t tile = std::min(blocked::keys_per_tile(d), n_kv);
    std::vector<float> kt(std::size_t(tile * d));
    std::vector<float> q_norm(cosine ? std::size_t(n_q) : 0),
        k_norm(cosine ? std::size_t(tile) : 0);

    for (std::int64_t bh = 0; bh < sh.batch * sh.heads; ++bh) {
        const float* qh = q + bh * n_q * d;
        const float* kh = k + sh.kv_head_of(bh) * n_kv * d;
        float* sc = s + bh * n_q * n_kv;
        if (cosine)
            for (std::int64_t i = 0; i < n_q; ++i) {
                float qq = 0;
                for (std::int64_t c = 0; c < d; ++c) qq += qh[i * d + c] * qh[i * d + c];
                q_norm[std::size_t(i)] = std::sqrt(qq);
            }

        // Rows are visited in order and visible_keys never decreases with i, so the rows that see
        // nothing of a tile are a prefix; they get -inf without being computed.
        std::int64_t first = 0;
        for (std::int64_t j0 = 0; j0 < n_kv; j0 += tile) {
            const std::int64_t jn = std::min(tile, n_kv - j0);
            // Transposed to [d][keys], Q times the tile is an ordinary matrix product whose inner
            // loop runs along keys (unit stride, no dot-product reduction to serialise), and the
            // tile stays in L1 while every query row streams over it.
            for (std::int64_t j = 0; j < jn; ++j) {
                const float* krow = kh + (j0 + j) * d;
                for (std::int64_t c = 0; c < d; ++c) kt[std::size_t(c * jn + j)] = krow[c];
                if (cosine) {
                    float kk = 0;
                    for (std::int64_t c = 0; c < d; ++c) kk += krow[c] * krow[c];
                    k_norm[std::size_t(j)] = std::sqrt(kk);
                }
            }
            while (first < n_q && sh.visible_keys(first) <= j0) ++first;
            for (std::int64_t i = 0; i < first; ++i) std::fill_n(sc + i * n_kv + j0, jn, kNegInf);
            if (first == n_q) continue;

            blocked::matmul(n_q - first, jn, d, qh + first * d, d, kt.data(), jn,
                            sc + first * n_kv + j0, n_kv);

            // Mask, normalise and scale while the tile's scores are still in L1.
            for (std::int64_t i = first; i < n_q; ++i) {
                float* row = sc + i * n_kv + j0;
                const std::int64_t seen = std::clamp(sh.visible_keys(i) - j0, std::int64_t(0), jn);
                if (cosine)
                    for (std::int64_t j = 0; j < seen; ++j) {
                        const float norm = q_norm[std::size_t(i)] * k_norm[std::size_t(j)];
                        row[j] = (norm != 0 ? row[j] / norm : 0.0f) * scale;
                    }
                else
                    for (std::int64_t j = 0; j < seen; ++j) row[j] *= scale;
                std::fill(row + seen, row + jn, kNegInf);
            }
        }
    }
}

}  // namespace attn::kernels
