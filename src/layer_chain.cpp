#include "layer_chain.hpp"

#include <algorithm>

#include "layer_math.hpp"
#include "parallel.hpp"
#include "simd/ops.hpp"
#include "workspace.hpp"

namespace attn {

namespace {

using i64 = std::int64_t;

// The shape whose d_model() is `inner`, for a product whose rows are the layer's and whose inner
// dimension is not d_model (the feed-forward's w2 reads d_ff columns): one head of that width.
Shape with_inner(const Shape& sh, i64 inner) {
    Shape s = sh;
    s.heads = 1, s.kv_heads = 0, s.head_dim = inner;
    return s;
}

// out = Norm(a + b) row by row (out may be a or b), rows [B * n] of d_model, with the gain and
// bias at `norm` ([2][d_model]).
void residual_norm(const Shape& sh, const float* a, const float* b, const float* norm, float* out,
                   const LayerParts& parts) {
    const i64 dm = sh.d_model();
    const simd::LayerOps* ops = parts.isa == Isa::scalar ? nullptr : &simd::layer_ops(parts.isa);
    parallel_region(parts.threads, [&] {
#pragma omp for schedule(static)
        for (i64 r = 0; r < sh.batch * sh.n_q; ++r) {
            float* row = out + r * dm;
            if (ops) {
                ops->residual_norm(a + r * dm, b + r * dm, dm, norm, norm + dm, sh.rms, row);
                continue;
            }
            for (i64 c = 0; c < dm; ++c) row[c] = a[r * dm + c] + b[r * dm + c];
            layer::norm_row<float>(row, dm, norm, norm + dm, sh.rms, row);
        }
    });
}

// hidden = GELU(hidden), or SiLU(hidden) * gate under swiglu; [rows][ff].
void activate(const Shape& sh, float* hidden, const float* gate, const LayerParts& parts) {
    const i64 ff = sh.ff_width();
    const simd::LayerOps* ops = parts.isa == Isa::scalar ? nullptr : &simd::layer_ops(parts.isa);
    parallel_region(parts.threads, [&] {
#pragma omp for schedule(static)
        for (i64 r = 0; r < sh.batch * sh.n_q; ++r) {
            float* h = hidden + r * ff;
            if (ops && gate) ops->silu_gate(h, gate + r * ff, ff);
            else if (ops) ops->gelu(h, ff);
            else if (gate)
                for (i64 c = 0; c < ff; ++c) h[c] = layer::silu(h[c]) * gate[r * ff + c];
            else
                for (i64 c = 0; c < ff; ++c) h[c] = layer::gelu(h[c]);
        }
    });
}

}  // namespace

void layer_chain(const Shape& sh, const float* x, const LayerWeights& w, float* y,
                 const LayerParts& parts) {
    const i64 rows = sh.batch * sh.n_q, dm = sh.d_model(), ff = sh.ff_width();
    float* x0 = workspace(Slot::layer_x0, rows * dm);
    float* h = workspace(Slot::layer_h, rows * dm);
    float* hidden = workspace(Slot::layer_ff, rows * ff);
    float* gate = sh.swiglu ? workspace(Slot::layer_gate, rows * ff) : nullptr;
    std::copy_n(x, rows * dm, x0);
    if (!sh.rope) layer::add_positions(sh, x0, parts.threads);
    multihead_chain(sh, x0, w.attention, h, parts.project, parts.attend, parts.threads,
                    parts.project_heads);
    residual_norm(sh, x0, h, w.norms, h, parts);
    parts.project(sh, ff, h, w.w1, hidden);
    if (gate) parts.project(sh, ff, h, w.w3, gate);
    activate(sh, hidden, gate, parts);
    parts.project(with_inner(sh, ff), dm, hidden, w.w2, y);
    residual_norm(sh, h, y, w.norms + 2 * dm, y, parts);
}

}  // namespace attn
