#include "multihead_chain.hpp"

#include <vector>

#include "heads.hpp"

namespace attn {

void multihead_chain(const Shape& sh, const float* x, const MhaWeights& w, float* y,
                     ProjectColumnsFn* project, AttentionFn* attend) {
    const std::size_t elems = sh.q_elems(), kv_elems = sh.kv_elems();
    const std::int64_t kvh = sh.kv_head_count();
    std::vector<float> rows(elems), q(elems), k(kv_elems), v(kv_elems), heads_out(elems);
    project(sh, sh.d_model(), x, w.wq, rows.data());
    permute_heads(sh, sh.heads, rows.data(), q.data(), HeadLayout::split);
    project(sh, sh.kv_dim(), x, w.wk, rows.data());
    permute_heads(sh, kvh, rows.data(), k.data(), HeadLayout::split);
    project(sh, sh.kv_dim(), x, w.wv, rows.data());
    permute_heads(sh, kvh, rows.data(), v.data(), HeadLayout::split);
    attend(sh, q.data(), k.data(), v.data(), heads_out.data());
    permute_heads(sh, sh.heads, heads_out.data(), rows.data(), HeadLayout::merge);
    project(sh, sh.d_model(), rows.data(), w.wo, y);
}

}  // namespace attn
