// The multi-head block assembled from a projection and an attention kernel, so each multihead
// variant is the same recipe with its own building blocks.
#pragma once

#include <cstdint>

#include "attn/isa.hpp"
#include "attn/stages.hpp"
#include "heads.hpp"

namespace attn {

// Y [rows][cols] = X [rows][d_model] W [d_model][cols], rows = batch * n_q: a projection
// variant's product with any number of output columns (kv_dim for Wk and Wv under grouping).
template <class T> using ProjectColumnsFnOf = void(const Shape& sh, std::int64_t cols, const T* x,
                                                   const T* w, float* y);
using ProjectColumnsFn = ProjectColumnsFnOf<float>;

// The same product with X or Y in the heads' layout [B][heads][n][head_dim] (`heads`), as
// attention reads Q, K and V and writes its output: a projection that reads and writes it
// directly spares the block a pass over each.
using ProjectHeadsFn = void(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                            float* y, HeadsAt heads);

// x, y [B][n][d_model]; the four projections use `project`, each head uses `attend`, and the head
// split and concatenation run on `threads` threads (1 for the single-threaded variants). Under
// Shape::rope (the layer stage's) Q and K are rotated by their positions before attention, at tier
// `rotary_isa` (Isa::scalar for the textbook chain). With `project_heads` the four projections
// write and read the heads' layout: no split, no merge.
void multihead_chain(const Shape& sh, const float* x, const MhaWeights& w, float* y,
                     ProjectColumnsFn* project, AttentionFn* attend, int threads,
                     ProjectHeadsFn* project_heads = nullptr, Isa rotary_isa = Isa::best);

// The block with 16-bit storage T (bf16 or f16): each projection's fp32 output is rounded to T as
// the head split stores it, as frameworks keep Q, K, V and the concatenated heads, and `attend`
// reads those; x stored as T, y fp32.
template <class T> void multihead_chain(const Shape& sh, const T* x, const MhaWeightsOf<T>& w,
                                        float* y, ProjectColumnsFnOf<T>* project,
                                        AttentionFnOf<T>* attend, int threads);

}  // namespace attn
