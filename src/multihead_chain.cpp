#include "multihead_chain.hpp"

#include "heads.hpp"
#include "workspace.hpp"

namespace attn {

void multihead_chain(const Shape& sh, const float* x, const MhaWeights& w, float* y,
                     ProjectColumnsFn* project, AttentionFn* attend, int threads,
                     ProjectHeadsFn* project_heads) {
    const std::int64_t elems = sh.q_elems(), kv_elems = sh.kv_elems(), kvh = sh.kv_head_count();
    // Scratch that stays mapped between calls, as a model's layers would reuse it: fresh vectors
    // cost the block a page fault per 4 KiB and a zero fill on every call. The per-head output
    // buffer first receives each projection's rows, which the split then spreads over heads
    // (unless the projection writes the heads itself).
    float* q = workspace(Slot::block_q, elems);
    float* k = workspace(Slot::block_k, kv_elems);
    float* v = workspace(Slot::block_v, kv_elems);
    float* o = workspace(Slot::block_heads, elems);
    if (project_heads) {
        project_heads(sh, sh.d_model(), x, w.wq, q, HeadsAt::output);
        project_heads(sh, sh.kv_dim(), x, w.wk, k, HeadsAt::output);
        project_heads(sh, sh.kv_dim(), x, w.wv, v, HeadsAt::output);
        attend(sh, q, k, v, o);
        project_heads(sh, sh.d_model(), o, w.wo, y, HeadsAt::input);
        return;
    }
    project(sh, sh.d_model(), x, w.wq, o);
    permute_heads(sh, sh.heads, o, q, HeadLayout::split, threads);
    project(sh, sh.kv_dim(), x, w.wk, o);
    permute_heads(sh, kvh, o, k, HeadLayout::split, threads);
    project(sh, sh.kv_dim(), x, w.wv, o);
    permute_heads(sh, kvh, o, v, HeadLayout::split, threads);
    attend(sh, q, k, v, o);
    // Q is spent: its buffer takes the concatenated heads.
    permute_heads(sh, sh.heads, o, q, HeadLayout::merge, threads);
    project(sh, sh.d_model(), q, w.wo, y);
}

template <class T> void multihead_chain(const Shape& sh, const T* x, const MhaWeightsOf<T>& w,
                                        float* y, ProjectColumnsFnOf<T>* project,
                                        AttentionFnOf<T>* attend, int threads) {
    const std::int64_t elems = sh.q_elems(), kv_elems = sh.kv_elems(), kvh = sh.kv_head_count();
    // 16-bit tensors in fp32 workspaces of half as many floats (rounded up).
    auto half = [](std::int64_t n) { return (n + 1) / 2; };
    T* q = reinterpret_cast<T*>(workspace(Slot::block_q, half(elems)));
    T* k = reinterpret_cast<T*>(workspace(Slot::block_k, half(kv_elems)));
    T* v = reinterpret_cast<T*>(workspace(Slot::block_v, half(kv_elems)));
    float* o = workspace(Slot::block_heads, elems);
    project(sh, sh.d_model(), x, w.wq, o);
    permute_heads(sh, sh.heads, o, q, HeadLayout::split, threads);
    project(sh, sh.kv_dim(), x, w.wk, o);
    permute_heads(sh, kvh, o, k, HeadLayout::split, threads);
    project(sh, sh.kv_dim(), x, w.wv, o);
    permute_heads(sh, kvh, o, v, HeadLayout::split, threads);
    attend(sh, q, k, v, o);
    // Q is spent: its buffer takes the concatenated heads.
    permute_heads(sh, sh.heads, o, q, HeadLayout::merge, threads);
    project(sh, sh.d_model(), q, w.wo, y);
}

template void multihead_chain(const Shape&, const bf16*, const MhaWeightsOf<bf16>&, float*,
                              ProjectColumnsFnOf<bf16>*, AttentionFnOf<bf16>*, int);
template void multihead_chain(const Shape&, const f16*, const MhaWeightsOf<f16>&, float*,
                              ProjectColumnsFnOf<f16>*, AttentionFnOf<f16>*, int);

}  // namespace attn
