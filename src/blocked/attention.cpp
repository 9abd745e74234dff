#include <algorithm>
#include <vector>

#include "attention_row.hpp"
#include "blocked/tiles.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// O = softmax(sim(Q, K) * scale + mask) V per head; q, o [B][H][n_q][d],
// k, v [B][kv_heads][n_kv][d].
void attention_blocked_scalar(const Shape& sh, const float* q, const float* k, const float* v,
                              float* o) {
    const auto d = sh.head_dim, n_q = sh.n_q, n_kv = sh.n_kv;
    // One block of query rows at a time: its scores are computed, normalised in place and consumed
    // by the weighted sum while they are still in L2, instead of writing the whole n_q x n_kv
    // matrix out to memory and reading it back twice.
    const std::int64_t rows = std::min(blocked::rows_per_score_block(n_kv), n_q);
    std::vector<float> block(std::size_t(rows * n_kv));

    for (std::int64_t bh = 0; bh < sh.batch * sh.heads; ++bh) {
        const float* qh = q + bh * n_q * d;
        const float* kh = k + sh.kv_head_of(bh) * n_kv * d;
        const float* vh = v + sh.kv_head_of(bh) * n_kv * d;
        float* oh = o + bh * n_q * d;
        for (std::int64_t i0 = 0; i0 < n_q; i0 += rows) {
            const std::int64_t m = std::min(rows, n_q - i0);
            // Keys past what the block's last row sees are masked for every row of the block, so
            // under a causal mask the block skips them in all three steps.
            const std::int64_t keys = sh.visible_keys(i0 + m - 1);
            if (keys == 0) {  // every row fully masked: softmax gives zeros, so does O
                std::fill_n(oh + i0 * d, m * d, 0.0f);
                continue;
            }
            // The block as a problem of its own: one head, m queries, the first `keys` keys. With
            // n_kv' - n_q' = keys - m = i0 + (n_kv - n_q), its causal diagonal is the block's.
            Shape sub = sh;
            sub.batch = 1;
            sub.heads = 1;
            sub.kv_heads = 0;
            sub.n_q = m;
            sub.n_kv = keys;
            scores_blocked_scalar(sub, qh + i0 * d, kh, block.data());
            softmax_blocked_scalar(sub, block.data(), block.data());
            weighted_sum_blocked_scalar(sub, block.data(), vh, oh + i0 * d);
            repair_hidden_key_rows(sh, qh, kh, vh, oh, i0, i0 + m);
        }
    }
}

}  // namespace attn::kernels
