#include <vector>

#include "attention_row.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// O = softmax(S) V built by chaining the naive stages through a full score matrix (then the rows
// whose hidden keys' V made them NaN recomputed over the keys they see); q, o [B][H][n_q][d],
// k, v [B][kv_heads][n_kv][d].
void attention_naive_scalar(const Shape& sh, const float* q, const float* k, const float* v,
                            float* o) {
    std::vector<float> s(sh.score_elems());
    scores_naive_scalar(sh, q, k, s.data());
    softmax_naive_scalar(sh, s.data(), s.data());
    weighted_sum_naive_scalar(sh, s.data(), v, o);
    const auto d = sh.head_dim;
    for (std::int64_t bh = 0; bh < sh.batch * sh.heads; ++bh)
        repair_hidden_key_rows(sh, q + bh * sh.n_q * d, k + sh.kv_head_of(bh) * sh.n_kv * d,
                               v + sh.kv_head_of(bh) * sh.n_kv * d, o + bh * sh.n_q * d, 0, sh.n_q);
}

}  // namespace attn::kernels
