#include "multihead_chain.hpp"

#include <type_traits>

#include "heads.hpp"
#include "layer_math.hpp"
#include "step_clock.hpp"
#include "workspace.hpp"

namespace attn {

namespace {

// Floats of workspace that hold n elements of T.
template <class T> std::int64_t floats_for(std::int64_t n) {
    return (n * std::int64_t(sizeof(T)) + 3) / 4;
}

// The block through the rows' layout: each projection's fp32 rows go to the per-head output
// buffer o, and the head split stores them as T in Q, K and V (rounding them when T is 16-bit);
// the concatenation stores the heads' fp32 outputs as T for the output projection. q, k, v hold
// q_elems / kv_elems of T, o q_elems floats; under rope Q and K are turned at tier rotary_isa.
template <class T> void chain_through_rows(const Shape& sh, const T* x, const MhaWeightsOf<T>& w,
                                           float* y, ProjectColumnsFnOf<T>* project,
                                           AttentionFnOf<T>* attend, int threads, T* q, T* k, T* v,
                                           float* o, Isa rotary_isa) {
    const std::int64_t kvh = sh.kv_head_count();
    run_step(LayerStep::qkv, [&] {
        project(sh, sh.d_model(), x, w.wq, o);
        permute_heads(sh, sh.heads, o, q, HeadLayout::split, threads);
        project(sh, sh.kv_dim(), x, w.wk, o);
        permute_heads(sh, kvh, o, k, HeadLayout::split, threads);
        project(sh, sh.kv_dim(), x, w.wv, o);
        permute_heads(sh, kvh, o, v, HeadLayout::split, threads);
    });
    if constexpr (std::is_same_v<T, float>)
        if (sh.rope)  // the layer stage's rotary embeddings (fp32 only)
            run_step(LayerStep::rotary, [&] {
                layer::rotate_heads(sh, sh.heads, q, threads, rotary_isa);
                layer::rotate_heads(sh, kvh, k, threads, rotary_isa);
            });
    run_step(LayerStep::attention, [&] { attend(sh, q, k, v, o); });
    // Q is spent: its buffer takes the concatenated heads.
    run_step(LayerStep::output, [&] {
        permute_heads(sh, sh.heads, o, q, HeadLayout::merge, threads);
        project(sh, sh.d_model(), q, w.wo, y);
    });
}

// Scratch that stays mapped between calls, as a model's layers would reuse it: fresh vectors
// cost the block a page fault per 4 KiB and a zero fill on every call. Q, K and V hold T; the
// per-head output buffer (fp32) first receives each projection's rows, which the split then
// spreads over heads (unless the projection writes the heads itself).
template <class T> struct BlockScratch {
    T* q;
    T* k;
    T* v;
    float* o;
    explicit BlockScratch(const Shape& sh)
        : q(reinterpret_cast<T*>(workspace(Slot::block_q, floats_for<T>(sh.q_elems())))),
          k(reinterpret_cast<T*>(workspace(Slot::block_k, floats_for<T>(sh.kv_elems())))),
          v(reinterpret_cast<T*>(workspace(Slot::block_v, floats_for<T>(sh.kv_elems())))),
          o(workspace(Slot::block_heads, sh.q_elems())) {}
};

}  // namespace

void multihead_chain(const Shape& sh, const float* x, const MhaWeights& w, float* y,
                     ProjectColumnsFn* project, AttentionFn* attend, int threads,
                     ProjectHeadsFn* project_heads, Isa rotary_isa) {
    const BlockScratch<float> s(sh);
    if (project_heads) {
        run_step(LayerStep::qkv, [&] {
            project_heads(sh, sh.d_model(), x, w.wq, s.q, HeadsAt::output);
            project_heads(sh, sh.kv_dim(), x, w.wk, s.k, HeadsAt::output);
            project_heads(sh, sh.kv_dim(), x, w.wv, s.v, HeadsAt::output);
        });
        if (sh.rope)
            run_step(LayerStep::rotary, [&] {
                layer::rotate_heads(sh, sh.heads, s.q, threads, rotary_isa);
                layer::rotate_heads(sh, sh.kv_head_count(), s.k, threads, rotary_isa);
            });
        run_step(LayerStep::attention, [&] { attend(sh, s.q, s.k, s.v, s.o); });
        run_step(LayerStep::output,
                 [&] { project_heads(sh, sh.d_model(), s.o, w.wo, y, HeadsAt::input); });
        return;
    }
    chain_through_rows(sh, x, w, y, project, attend, threads, s.q, s.k, s.v, s.o, rotary_isa);
}

template <class T> void multihead_chain(const Shape& sh, const T* x, const MhaWeightsOf<T>& w,
                                        float* y, ProjectColumnsFnOf<T>* project,
                                        AttentionFnOf<T>* attend, int threads) {
    const BlockScratch<T> s(sh);
    chain_through_rows(sh, x, w, y, project, attend, threads, s.q, s.k, s.v, s.o, Isa::best);
}

template void multihead_chain(const Shape&, const bf16*, const MhaWeightsOf<bf16>&, float*,
                              ProjectColumnsFnOf<bf16>*, AttentionFnOf<bf16>*, int);
template void multihead_chain(const Shape&, const f16*, const MhaWeightsOf<f16>&, float*,
                              ProjectColumnsFnOf<f16>*, AttentionFnOf<f16>*, int);

}  // namespace attn
