#include <type_traits>
#include <vector>

#include "attention_row.hpp"
#include "kernels.hpp"

namespace attn::kernels {

namespace {

// O = softmax(S) V built by chaining the naive stages through a full score matrix (then the rows
// whose hidden keys' V made them NaN recomputed over the keys they see); q, o [B][H][n_q][d],
// k, v [B][kv_heads][n_kv][d], q, k and v stored as T. The probabilities stay fp32: a 16-bit V
// is widened once, element for element what a load would widen.
template <class T>
void attention_naive(const Shape& sh, const T* q, const T* k, const T* v, float* o) {
    std::vector<float> s(sh.score_elems());
    scores_naive_scalar(sh, q, k, s.data());
    softmax_naive_scalar(sh, s.data(), s.data());
    if constexpr (std::is_same_v<T, float>) {
        weighted_sum_naive_scalar(sh, s.data(), v, o);
    } else {
        std::vector<float> wide(sh.kv_elems());
        for (std::size_t i = 0; i < wide.size(); ++i) wide[i] = to_float(v[i]);
        weighted_sum_naive_scalar(sh, s.data(), wide.data(), o);
    }
    const auto d = sh.head_dim;
    for (std::int64_t bh = 0; bh < sh.batch * sh.heads; ++bh)
        repair_hidden_key_rows(sh, q + bh * sh.n_q * d, k + sh.kv_head_of(bh) * sh.n_kv * d,
                               v + sh.kv_head_of(bh) * sh.n_kv * d, o + bh * sh.n_q * d, 0, sh.n_q);
}

}  // namespace

void attention_naive_scalar(const Shape& sh, const float* q, const float* k, const float* v,
                            float* o) {
    attention_naive(sh, q, k, v, o);
}
void attention_naive_scalar(const Shape& sh, const bf16* q, const bf16* k, const bf16* v,
                            float* o) {
    attention_naive(sh, q, k, v, o);
}
void attention_naive_scalar(const Shape& sh, const f16* q, const f16* k, const f16* v, float* o) {
    attention_naive(sh, q, k, v, o);
}

}  // namespace attn::kernels
