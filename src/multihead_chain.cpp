#include "multihead_chain.hpp"

#include <vector>

#include "heads.hpp"

namespace attn {

void multihead_chain(const Shape& sh, const float* x, const MhaWeights& w, float* y,
                     ProjectionFn* project, AttentionFn* attend) {
    const std::size_t elems = sh.q_elems();
    std::vector<float> rows(elems), q(elems), k(elems), v(elems), heads_out(elems);
    project(sh, x, w.wq, rows.data());
    permute_heads(sh, rows.data(), q.data(), HeadLayout::split);
    project(sh, x, w.wk, rows.data());
    permute_heads(sh, rows.data(), k.data(), HeadLayout::split);
    project(sh, x, w.wv, rows.data());
    permute_heads(sh, rows.data(), v.data(), HeadLayout::split);
    attend(sh, q.data(), k.data(), v.data(), heads_out.data());
    permute_heads(sh, heads_out.data(), rows.data(), HeadLayout::merge);
    project(sh, rows.data(), w.wo, y);
}

}  // namespace attn
