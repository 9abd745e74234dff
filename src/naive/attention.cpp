#include <vector>

#include "kernels.hpp"

namespace attn::kernels {

// O = softmax(S) V built by chaining the naive stages through a full score matrix;
// q, o [B][H][n_q][d], k, v [B][H][n_kv][d].
void attention_naive(const Shape& sh, const float* q, const float* k, const float* v, float* o) {
    std::vector<float> s(sh.score_elems());
    scores_naive(sh, q, k, s.data());
    softmax_naive(sh, s.data(), s.data());
    weighted_sum_naive(sh, s.data(), v, o);
}

}  // namespace attn::kernels
