// The transformer layer assembled from a variant's multi-head chain, its projection and the
// layer's elementwise steps, so each layer variant is the same recipe with its own blocks.
#pragma once

#include "attn/isa.hpp"
#include "attn/stages.hpp"
#include "multihead_chain.hpp"

namespace attn {

// A variant's building blocks: its product with any number of columns (the feed-forward's too),
// its attention, optionally its projection into the heads' layout (as multihead_chain takes it),
// the threads the elementwise steps run on and the tier they run at (scalar: the float formulas
// of layer_math.hpp as written; a vector tier: its LayerOps).
struct LayerParts {
    ProjectColumnsFn* project;
    AttentionFn* attend;
    ProjectHeadsFn* project_heads;
    int threads;
    Isa isa;
};

// The layer's scratch, kept mapped between calls (src/workspace.hpp): the block's output then H
// [B * n][d_model], the feed-forward's hidden activations and, under swiglu, its gate [B * n][d_ff]
// (gate null otherwise).
struct LayerScratch {
    float* h;
    float* hidden;
    float* gate;
    explicit LayerScratch(const Shape& sh);
};

// out = Norm(a + b) row by row (out may be a or b), rows [B * n] of d_model, with the gain and
// bias at `norm` ([2][d_model]), LayerNorm or under Shape::rms RMSNorm, on `threads` threads: the
// float formulas of layer_math.hpp for Isa::scalar, else the tier's LayerOps rows.
void residual_norm(const Shape& sh, const float* a, const float* b, const float* norm, float* out,
                   int threads, Isa isa);

// X0 [B][n][d_model], timed as the embedding and positions steps: X (x itself, or under vocab the
// rows of `embedding` its token ids pick, in scratch), plus the sinusoidal positions unless rope
// (rotary embeddings turn Q and K instead), on `threads` threads at tier `isa`.
const float* layer_input(const Shape& sh, const float* x, const float* embedding, int threads,
                         Isa isa);

// The layer of LayerFn (attn/stages.hpp) from `parts`; x, y [B][n][d_model].
void layer_chain(const Shape& sh, const float* x, const LayerWeights& w, float* y,
                 const LayerParts& parts);

}  // namespace attn
