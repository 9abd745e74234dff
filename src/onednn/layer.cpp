// The onednn layer kernel: the transformer layer as a framework composes it on oneDNN — the onednn
// multi-head block, a binary add and a layer_normalization primitive for each residual and norm,
// the feed-forward's products as matmuls with GELU (or SwiGLU's SiLU and gate) fused as post-ops
// and the second residual as a sum post-op.
#include <algorithm>

#include "kernels.hpp"
#include "layer_chain.hpp"
#include "layer_math.hpp"
#include "onednn/onednn.hpp"
#include "step_clock.hpp"

namespace attn::kernels {

namespace {

using i64 = std::int64_t;

// The primitives of one layer shape. oneDNN 2.6 has no RMSNorm (layer_normalization's rms flag
// came with 3.x), so under rms both norms run on the best tier's residual_norm rows instead, as a
// framework falls back to its own kernel, and the second residual is then not fused.
struct LayerPlan {
    dnnl::memory::desc rows_md, hidden_md, w1_md, w2_md, norm_md;
    dnnl::binary add;                        // h = x0 + h, LayerNorm only
    dnnl::layer_normalization_forward norm;  // in place, LayerNorm only
    dnnl::matmul up;                         // hidden = act(h w1) (* gate under swiglu)
    dnnl::matmul gate;                       // gate = h w3, swiglu only
    dnnl::matmul down;                       // y = hidden w2 (+ y under LayerNorm)
};

LayerPlan make_plan(const Shape& sh) {
    const i64 rows = sh.batch * sh.n_q, dm = sh.d_model(), ff = sh.ff_width();
    LayerPlan p;
    p.rows_md = onednn::f32_desc({rows, dm}, {dm, 1});
    p.hidden_md = onednn::f32_desc({rows, ff}, {ff, 1});
    p.w1_md = onednn::f32_desc({dm, ff}, {ff, 1});
    p.w2_md = onednn::f32_desc({ff, dm}, {dm, 1});
    p.norm_md = onednn::f32_desc({dm}, {1});
    if (!sh.rms) {
        p.add = onednn::make_add(p.rows_md);
        p.norm = onednn::make_layer_norm(p.rows_md, float(layer::kNormEpsilon));
    }
    dnnl::post_ops up_ops;
    if (sh.swiglu) {
        onednn::append_eltwise(up_ops, dnnl::algorithm::eltwise_swish, 1.f);
        up_ops.append_binary(dnnl::algorithm::binary_mul, p.hidden_md);
        p.gate = onednn::make_matmul(p.rows_md, p.w1_md, p.hidden_md);
    } else {
        onednn::append_eltwise(up_ops, dnnl::algorithm::eltwise_gelu_tanh, 0.f);
    }
    dnnl::primitive_attr up_attr;
    up_attr.set_post_ops(up_ops);
    p.up = onednn::make_matmul(p.rows_md, p.w1_md, p.hidden_md, up_attr);
    dnnl::primitive_attr down_attr;
    if (!sh.rms) {
        dnnl::post_ops down_ops;
        down_ops.append_sum(1.f);
        down_attr.set_post_ops(down_ops);
    }
    p.down = onednn::make_matmul(p.hidden_md, p.w2_md, p.rows_md, down_attr);
    return p;
}

}  // namespace

// One post-norm transformer layer (LayerFn) from oneDNN primitives on Shape::threads threads; x, y
// [B][n][d_model], fp32. The positions are added and Q and K rotated by the suite's own rows
// (src/layer_math.cpp), as a framework runs them outside oneDNN.
void layer_onednn_best(const Shape& sh, const float* x, const LayerWeights& w, float* y) {
    const i64 rows = sh.batch * sh.n_q, dm = sh.d_model();
    const LayerScratch s(sh);
    float *h = s.h, *hidden = s.hidden, *gate = s.gate;
    const float* x0 = layer_input(sh, x, w.embedding, sh.threads, Isa::best);
    multihead_chain(sh, x0, w.attention, h, project_columns_onednn, attention_onednn_best,
                    sh.threads);

    const onednn::ThreadScope threads(sh.threads);
    static onednn::PlanCache<LayerPlan> cache;
    LayerPlan& p = cache.get(sh.text(false) + "/t:" + std::to_string(sh.threads),
                             [&] { return make_plan(sh); });
    auto& strm = onednn::stream();
    auto rows_of = [&](const float* data) { return onednn::wrap(p.rows_md, data); };
    auto norm_of = [&](const float* at) {
        return std::unordered_map<int, dnnl::memory>{
            {DNNL_ARG_SCALE, onednn::wrap(p.norm_md, at)},
            {DNNL_ARG_SHIFT, onednn::wrap(p.norm_md, at + dm)}};
    };
    auto layer_norm = [&](float* data, const float* at) {
        auto args = norm_of(at);
        args[DNNL_ARG_SRC] = rows_of(data);
        args[DNNL_ARG_DST] = rows_of(data);
        p.norm.execute(strm, args);
    };

    run_step(LayerStep::norm1, [&] {
        if (sh.rms) return residual_norm(sh, x0, h, w.norms, h, sh.threads, Isa::best);
        p.add.execute(strm, {{DNNL_ARG_SRC_0, rows_of(h)},
                             {DNNL_ARG_SRC_1, rows_of(x0)},
                             {DNNL_ARG_DST, rows_of(h)}});
        layer_norm(h, w.norms);
        strm.wait();
    });
    std::unordered_map<int, dnnl::memory> up_args{
        {DNNL_ARG_SRC, rows_of(h)},
        {DNNL_ARG_WEIGHTS, onednn::wrap(p.w1_md, w.w1)},
        {DNNL_ARG_DST, onednn::wrap(p.hidden_md, hidden)}};
    if (gate)
        up_args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1] =
            onednn::wrap(p.hidden_md, gate);
    // The activation is a post-op of ffn_up: no step of its own.
    run_step(LayerStep::ffn_up, [&] {
        if (gate)
            p.gate.execute(strm, {{DNNL_ARG_SRC, rows_of(h)},
                                  {DNNL_ARG_WEIGHTS, onednn::wrap(p.w1_md, w.w3)},
                                  {DNNL_ARG_DST, onednn::wrap(p.hidden_md, gate)}});
        p.up.execute(strm, up_args);
        strm.wait();
    });
    run_step(LayerStep::ffn_down, [&] {
        if (!sh.rms) std::copy_n(h, rows * dm, y);  // the sum post-op adds the product to it
        p.down.execute(strm, {{DNNL_ARG_SRC, onednn::wrap(p.hidden_md, hidden)},
                              {DNNL_ARG_WEIGHTS, onednn::wrap(p.w2_md, w.w2)},
                              {DNNL_ARG_DST, rows_of(y)}});
        strm.wait();
    });
    run_step(LayerStep::norm2, [&] {
        if (sh.rms) return residual_norm(sh, h, y, w.norms + 2 * dm, y, sh.threads, Isa::best);
        layer_norm(y, w.norms + 2 * dm);
        strm.wait();
    });
}

}  // namespace attn::kernels
