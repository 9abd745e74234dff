// The multi-head block assembled from a projection kernel and an attention kernel, so each
// multihead variant is the same recipe with its own building blocks.
#pragma once

#include "attn/stages.hpp"

namespace attn {

// x, y [B][n][d_model]; the four projections use `project`, each head uses `attend`.
void multihead_chain(const Shape& sh, const float* x, const MhaWeights& w, float* y,
                     ProjectionFn* project, AttentionFn* attend);

}  // namespace attn
