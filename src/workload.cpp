#include "attn/workload.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

namespace attn {

namespace {

struct Sizes {
    std::vector<std::size_t> in;
    std::size_t out;
};

Sizes sizes_of(Stage stage, const Shape& s) {
    const std::size_t w = std::size_t(s.d_model() * s.d_model()),
                      w_kv = std::size_t(s.d_model() * s.kv_dim());
    switch (stage) {
        case Stage::scores: return {{s.q_elems(), s.kv_elems()}, s.score_elems()};
        case Stage::softmax: return {{s.score_elems()}, s.score_elems()};
        case Stage::weighted_sum: return {{s.score_elems(), s.kv_elems()}, s.q_elems()};
        case Stage::attention: return {{s.q_elems(), s.kv_elems(), s.kv_elems()}, s.q_elems()};
        case Stage::projection: return {{s.q_elems(), w}, s.q_elems()};
        case Stage::multihead: return {{s.q_elems(), w, w_kv, w_kv, w}, s.q_elems()};
        case Stage::layer: {
            // Under vocab, token ids in place of X and the embedding table last.
            const std::size_t ff = std::size_t(s.d_model() * s.ff_width());
            const std::size_t x = s.vocab ? std::size_t(s.batch * s.n_q) : s.q_elems();
            return {{x, w, w_kv, w_kv, w, ff, ff, s.swiglu ? ff : 0, std::size_t(4 * s.d_model()),
                     std::size_t(s.vocab * s.d_model())},
                    s.q_elems()};
        }
    }
    return {};
}

// What each drawn value of input `input` is multiplied by: weight matrices by 1/sqrt(fan-in),
// the usual initialisation, so that projected activations stay in the range of the inputs (the
// layer's w2 has d_ff rows); 1 for activations and for the layer's norm parameters.
float scale_of(Stage stage, std::size_t input, const Shape& s) {
    const bool weight = (stage == Stage::projection || stage == Stage::multihead ||
                         (stage == Stage::layer && input < 8)) &&
                        input > 0;
    if (!weight) return 1.0f;
    const bool w2 = stage == Stage::layer && input == 6;
    return float(1.0 / std::sqrt(double(w2 ? s.ff_width() : s.d_model())));
}

}  // namespace

Workload::Workload(Stage stage, const Shape& shape, const Fill& fill, std::size_t misalign)
    : stage_(stage), shape_(shape), output_(0, 0) {
    if (auto p = stage_problem(stage, shape); !p.empty()) throw std::invalid_argument(p);
    const Sizes sz = sizes_of(stage, shape);
    std::mt19937_64 rng(fill.seed);
    std::uniform_real_distribution<float> dist(fill.lo, fill.hi);
    for (std::size_t i = 0; i < sz.in.size(); ++i) {
        // Filled in the storage type: each drawn value rounded once, as a model's stored tensors
        // are, so that the reference reads exactly what the kernel reads.
        Buffer b(sz.in[i], misalign, shape.dtype);
        const float factor = scale_of(stage, i, shape);
        if (shape.dtype == DType::f32)
            for (float& x : b.span()) x = dist(rng) * factor;
        else
            for (std::size_t j = 0; j < b.size(); ++j) b.set(j, dist(rng) * factor);
        inputs_.push_back(std::move(b));
    }
    // The layer's norm parameters: gains within 1 +- hi/2 (a trained norm's gains sit near 1),
    // biases within +-hi/2.
    if (stage == Stage::layer) {
        float* norms = inputs_[8].data();
        const std::int64_t dm = shape.d_model();
        for (std::int64_t i = 0; i < 4 * dm; ++i)
            norms[i] = (i / dm) % 2 == 0 ? 1.0f + 0.5f * norms[i] : 0.5f * norms[i];
        // Token ids drawn uniformly from the vocabulary.
        if (shape.vocab) {
            std::uniform_int_distribution<std::int64_t> id(0, shape.vocab - 1);
            for (float& t : inputs_[0].span()) t = float(id(rng));
        }
    }
    // Softmax sees what the scores stage produces: -inf wherever the causal mask hides a key.
    if (stage == Stage::softmax && shape.causal) {
        float* s = inputs_[0].data();
        for (std::int64_t r = 0; r < shape.batch * shape.heads * shape.n_q; ++r)
            for (std::int64_t j = shape.visible_keys(r % shape.n_q); j < shape.n_kv; ++j)
                s[r * shape.n_kv + j] = -std::numeric_limits<float>::infinity();
    }
    output_ = Buffer(sz.out, misalign);
}

namespace {

#ifdef ATTN_INJECT_KERNEL
// Proof builds only (CMake's ATTN_INJECT_SLOWDOWN, absent from normal builds): the shape of the
// extra call that makes the named kernel do ATTN_INJECT_FRACTION more work. It keeps n_kv and the
// head size and takes R query rows as one head (whole rows of X for projection and multihead),
// with R the most rows whose FLOPs stay within the fraction, so the extra call reads and writes
// only the front of the real buffers and costs a fixed share of every call, whatever the
// iteration count (the deterministic instruction-count lane runs a handful of iterations).
Shape injected_shape(Stage stage, const Shape& s) {
    const bool rows_of_x = reads_rows_of_x(stage);
    Shape sub = s;
    sub.batch = 1;
    sub.causal = false;
    if (!rows_of_x) sub.heads = 1, sub.kv_heads = 0;
    const std::int64_t max_rows = rows_of_x ? s.batch * s.n_q : s.batch * s.heads * s.n_q;
    const double budget = ATTN_INJECT_FRACTION * flops(stage, s);
    auto at = [&](std::int64_t rows) {
        Shape t = sub;
        t.n_q = rows;
        if (rows_of_x) t.n_kv = rows;
        return t;
    };
    std::int64_t lo = 1, hi = max_rows;
    while (lo < hi) {
        const std::int64_t mid = (lo + hi + 1) / 2;
        if (flops(stage, at(mid)) <= budget) lo = mid;
        else hi = mid - 1;
    }
    return at(lo);
}
#endif

}  // namespace

void Workload::run(const Kernel& kernel) {
    if (kernel.stage != stage_)
        throw std::invalid_argument("kernel " + kernel.name() + " does not belong to stage " +
                                    to_string(stage_));
    if (kernel.dtype != shape_.dtype)
        throw std::invalid_argument("kernel " + kernel.typed_name() +
                                    " reads dt:" + to_string(kernel.dtype) +
                                    ", the workload stores dt:" + to_string(shape_.dtype));
    float* out = output_.data();
    auto call_at = [&](const Shape& s) {
        std::visit(
            [&](auto fn) {
                using F = decltype(fn);
                using T = typename F::Storage;
                auto in = [&](std::size_t i) { return inputs_[i].template as<T>(); };
                if constexpr (F::stage == Stage::scores) fn.call(s, in(0), in(1), out);
                else if constexpr (F::stage == Stage::softmax) fn.call(s, in(0), out);
                else if constexpr (F::stage == Stage::weighted_sum) fn.call(s, in(0), in(1), out);
                else if constexpr (F::stage == Stage::attention)
                    fn.call(s, in(0), in(1), in(2), out);
                else if constexpr (F::stage == Stage::projection) fn.call(s, in(0), in(1), out);
                else if constexpr (F::stage == Stage::multihead)
                    fn.call(s, in(0), MhaWeightsOf<T>{in(1), in(2), in(3), in(4)}, out);
                else
                    fn.call(s, in(0),
                            LayerWeights{
                                {in(1), in(2), in(3), in(4)}, in(5), in(6), in(7), in(8), in(9)},
                            out);
            },
            kernel.fn);
    };
#ifdef ATTN_INJECT_KERNEL
    // Before the real call, which then overwrites whatever the extra one wrote.
    if (kernel.name() == ATTN_INJECT_KERNEL) call_at(injected_shape(stage_, shape_));
#endif
    call_at(shape_);
}

}  // namespace attn
