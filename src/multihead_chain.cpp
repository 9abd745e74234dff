#include "multihead_chain.hpp"

#include <algorithm>
#include <vector>

namespace attn {

void split_heads(const Shape& sh, const float* in, float* out) {
    const auto n = sh.n_q, d = sh.head_dim, H = sh.heads;
    for (std::int64_t b = 0; b < sh.batch; ++b)
        for (std::int64_t t = 0; t < n; ++t)
            for (std::int64_t h = 0; h < H; ++h)
                std::copy_n(in + ((b * n + t) * H + h) * d, d, out + ((b * H + h) * n + t) * d);
}

void merge_heads(const Shape& sh, const float* in, float* out) {
    const auto n = sh.n_q, d = sh.head_dim, H = sh.heads;
    for (std::int64_t b = 0; b < sh.batch; ++b)
        for (std::int64_t h = 0; h < H; ++h)
            for (std::int64_t t = 0; t < n; ++t)
                std::copy_n(in + ((b * H + h) * n + t) * d, d, out + ((b * n + t) * H + h) * d);
}

void multihead_chain(const Shape& sh, const float* x, const MhaWeights& w, float* y,
                     ProjectionFn* project, AttentionFn* attend) {
    const std::size_t elems = sh.q_elems();
    std::vector<float> rows(elems), q(elems), k(elems), v(elems), heads_out(elems);
    project(sh, x, w.wq, rows.data());
    split_heads(sh, rows.data(), q.data());
    project(sh, x, w.wk, rows.data());
    split_heads(sh, rows.data(), k.data());
    project(sh, x, w.wv, rows.data());
    split_heads(sh, rows.data(), v.data());
    attend(sh, q.data(), k.data(), v.data(), heads_out.data());
    merge_heads(sh, heads_out.data(), rows.data());
    project(sh, rows.data(), w.wo, y);
}

}  // namespace attn
