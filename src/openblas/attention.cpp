#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "attention_row.hpp"
#include "kernels.hpp"
#include "openblas/blas.hpp"
#include "row_norms.hpp"
#include "softmax_row.hpp"

namespace attn::kernels {

// Attention as a user writes it on a BLAS, per K/V head: S = scale * Q K^T by cblas_sgemm with the
// group's query heads stacked as rows (they are contiguous in Q), the causal mask, a scalar
// softmax (row maximum subtracted, fully masked row -> zeros), O = P V by cblas_sgemm;
// q, o [B][H][n_q][d], k, v [B][kv_heads][n_kv][d]. OpenBLAS runs on Shape::threads.
void attention_openblas_best(const Shape& sh, const float* q, const float* k, const float* v,
                             float* o) {
    const auto d = sh.head_dim, nq = sh.n_q, nkv = sh.n_kv;
    const float scale = sh.effective_scale();
    const bool cosine = sh.similarity == Similarity::cosine;
    const float neg_inf = -std::numeric_limits<float>::infinity();
    openblas_set_num_threads(sh.threads);

    // Rows of the stacked group: row r is query r % n_q of query head r / n_q of the group.
    const std::int64_t group = sh.group_size(), m = group * nq;
    std::vector<float> s(std::size_t(m * nkv));
    std::vector<float> q_norm(cosine ? std::size_t(m) : 0), k_norm(cosine ? std::size_t(nkv) : 0);
    for (std::int64_t g = 0; g < sh.batch * sh.kv_head_count(); ++g) {
        const float* qh = q + g * m * d;
        const float* kh = k + g * nkv * d;
        const float* vh = v + g * nkv * d;
        float* oh = o + g * m * d;

        // S [m][n_kv] = alpha * Q [m][d] * K^T; cosine scales after dividing by the norms.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(nkv), int(d),
                    cosine ? 1.0f : scale, qh, int(d), kh, int(d), 0.0f, s.data(), int(nkv));
        if (cosine) {
            row_norms(qh, m, d, q_norm.data());
            row_norms(kh, nkv, d, k_norm.data());
            for (std::int64_t i = 0; i < m; ++i)
                for (std::int64_t j = 0; j < nkv; ++j) {
                    const float norm = q_norm[i] * k_norm[j];
                    float& x = s[i * nkv + j];
                    x = (norm != 0 ? x / norm : 0.0f) * scale;
                }
        }

        // Mask and softmax, row by row.
        for (std::int64_t i = 0; i < m; ++i) {
            float* row = s.data() + i * nkv;
            const auto visible = sh.visible_keys(i % nq);
            for (std::int64_t j = visible; j < nkv; ++j) row[j] = neg_inf;
            float m = neg_inf;
            for (std::int64_t j = 0; j < nkv; ++j) m = std::max(m, row[j]);
            softmax_row_with_max(row, row, nkv, m);
        }

        // O [m][d] = P [m][n_kv] * V [n_kv][d].
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(d), int(nkv), 1.0f,
                    s.data(), int(nkv), vh, int(d), 0.0f, oh, int(d));
        for (std::int64_t h = 0; h < group; ++h)
            repair_hidden_key_rows(sh, qh + h * nq * d, kh, vh, oh + h * nq * d, 0, nq);
    }
}

}  // namespace attn::kernels
