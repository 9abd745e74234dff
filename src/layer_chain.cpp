#include "layer_chain.hpp"

#include <algorithm>

#include "layer_math.hpp"
#include "parallel.hpp"
#include "simd/ops.hpp"
#include "step_clock.hpp"
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

void residual_norm(const Shape& sh, const float* a, const float* b, const float* norm, float* out,
                   int threads, Isa isa) {
    const i64 dm = sh.d_model();
    const simd::LayerOps* ops = isa == Isa::scalar ? nullptr : &simd::layer_ops(isa);
    parallel_region(threads, [&] {
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

LayerScratch::LayerScratch(const Shape& sh) {
    const i64 rows = sh.batch * sh.n_q;
    h = workspace(Slot::layer_h, rows * sh.d_model());
    hidden = workspace(Slot::layer_ff, rows * sh.ff_width());
    gate = sh.swiglu ? workspace(Slot::layer_gate, rows * sh.ff_width()) : nullptr;
}

const float* layer_input(const Shape& sh, const float* x, const float* embedding, int threads,
                         Isa isa) {
    if (!sh.vocab && sh.rope) return x;
    float* x0 = workspace(Slot::layer_x0, sh.batch * sh.n_q * sh.d_model());
    const float* in = x;
    if (sh.vocab)
        run_step(LayerStep::embedding, [&] {
            layer::look_up_tokens(sh, x, embedding, x0, threads);
            in = x0;
        });
    if (!sh.rope)
        run_step(LayerStep::positions, [&] { layer::add_positions(sh, in, x0, threads, isa); });
    return x0;
}

void layer_chain(const Shape& sh, const float* x, const LayerWeights& w, float* y,
                 const LayerParts& parts) {
    const i64 dm = sh.d_model(), ff = sh.ff_width();
    const LayerScratch s(sh);
    float *h = s.h, *hidden = s.hidden, *gate = s.gate;
    const float* x0 = layer_input(sh, x, w.embedding, parts.threads, parts.isa);
    multihead_chain(sh, x0, w.attention, h, parts.project, parts.attend, parts.threads,
                    parts.project_heads, parts.isa);
    run_step(LayerStep::norm1,
             [&] { residual_norm(sh, x0, h, w.norms, h, parts.threads, parts.isa); });
    run_step(LayerStep::ffn_up, [&] {
        parts.project(sh, ff, h, w.w1, hidden);
        if (gate) parts.project(sh, ff, h, w.w3, gate);
    });
    run_step(LayerStep::activation, [&] { activate(sh, hidden, gate, parts); });
    run_step(LayerStep::ffn_down, [&] { parts.project(with_inner(sh, ff), dm, hidden, w.w2, y); });
    run_step(LayerStep::norm2,
             [&] { residual_norm(sh, h, y, w.norms + 2 * dm, y, parts.threads, parts.isa); });
}

}  // namespace attn
