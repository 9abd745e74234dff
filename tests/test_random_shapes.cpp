// Every kernel that runs here against the reference on shapes drawn at random from the whole space
// the interface allows, where the grid of tests/grid.cpp takes the tiles' edges: any batch, head
// count and grouping, head size, query and key count (decoding, prefill, a prompt appended to a
// cache), mask, similarity, scale, storage type, thread count, input range and misalignment,
// and the layer's feed-forward width, activation, position encoding, normalisation and
// vocabulary. The draw is seeded, so a failure names its seed and the shape to rerun.
// ATTN_RANDOM_SEED, ATTN_RANDOM_SHAPES and ATTN_RANDOM_WORK change the seed, how many shapes are
// drawn and the most multiply-adds of one (by default a few dozen small ones, to keep the suite
// quick; tests/random_shapes.sh draws many more, and larger).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "expected.hpp"
#include "tiers.hpp"

namespace attn::testing {
namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

// Draws shapes and their fills for a stage from one seeded generator.
class ShapeDraw {
public:
    explicit ShapeDraw(std::uint64_t seed) : gen_(seed) {}

    std::int64_t pick(std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(gen_);
    }

    // A shape for `stage`; the multi-head block and the layer are self-attention and kept narrow,
    // since the double-precision reference of their projections grows with d_model^2.
    Shape shape(Stage stage) {
        Shape s;
        s.batch = pick(1, 2);
        const std::int64_t kv = pick(1, 4);
        s.heads = kv * (pick(0, 3) == 0 ? pick(1, 16) : pick(1, 3));
        s.kv_heads = pick(0, 2) == 0 ? 0 : kv;
        s.head_dim = pick(0, 3) == 0 ? pick(1, 20)
                                     : std::max<std::int64_t>(1, 16 * pick(1, 10) + pick(-3, 3));
        switch (pick(0, 2)) {
            case 0: s.n_q = pick(1, 16), s.n_kv = pick(1, 3000); break;    // decoding
            case 1: s.n_q = s.n_kv = pick(1, 600); break;                  // prefill
            default: s.n_q = pick(1, 300), s.n_kv = s.n_q + pick(0, 300);  // a prompt after a cache
        }
        s.causal = pick(0, 1) == 1;
        if (pick(0, 4) == 0) s.similarity = Similarity::cosine;
        if (pick(0, 4) == 0) s.scale = pick(0, 1) ? 1.0 : (pick(0, 1) ? 0.01 : 7.5);
        // The softmax reads the scores stage's fp32 output, and the layer runs in fp32 with dot
        // products: drawing what they refuse would only waste draws.
        s.dtype = std::array{DType::f32, DType::bf16, DType::f16}[std::size_t(pick(0, 2))];
        if (stage == Stage::softmax || stage == Stage::layer) s.dtype = DType::f32;
        if (stage == Stage::layer) s.similarity = Similarity::dot;
        s.threads = int(pick(1, 2));
        if (stage == Stage::projection || stage == Stage::multihead || stage == Stage::layer) {
            s.head_dim = std::max<std::int64_t>(1, std::min(s.head_dim, 512 / s.heads));
            if (stage != Stage::projection) s.n_kv = s.n_q = std::min<std::int64_t>(s.n_q, 200);
        }
        if (stage == Stage::layer) {
            if (pick(0, 1)) s.d_ff = pick(1, 700);
            s.swiglu = pick(0, 1) == 1, s.rms = pick(0, 1) == 1;
            s.rope = s.head_dim % 2 == 0 && pick(0, 1) == 1;
            if (pick(0, 3) == 0) s.vocab = pick(1, 300);
        }
        return s;
    }

    Fill fill() {
        const float lo = -float(pick(1, 8)), hi = float(pick(1, 8));
        return {lo, hi, std::uint64_t(pick(1, 1 << 30))};
    }

private:
    std::mt19937_64 gen_;
};

// Multiply-adds of the attention products of a shape: what bounds a draw's cost, and the size the
// naive kernels are spared above.
double work_of(const Shape& s) {
    return double(s.batch) * double(s.heads) * double(s.n_q) * double(s.n_kv) * double(s.head_dim);
}

TEST(RandomShapes, EveryKernelWithinBound) {
    const std::uint64_t seed = env_or("ATTN_RANDOM_SEED", 20261206);
    const std::uint64_t shapes = env_or("ATTN_RANDOM_SHAPES", 24);
    const double most_work = double(env_or("ATTN_RANDOM_WORK", 2000000));
    ShapeDraw draw(seed);
    const Stage stages[] = {Stage::scores,    Stage::softmax,    Stage::weighted_sum,
                            Stage::attention, Stage::projection, Stage::multihead,
                            Stage::layer};
    std::uint64_t drawn = 0, runs = 0;
    for (std::uint64_t i = 0; drawn < shapes && i < 1000 * shapes; ++i) {
        const Stage stage = stages[draw.pick(0, std::size(stages) - 1)];
        const Shape s = draw.shape(stage);
        const Fill fill = draw.fill();
        const std::size_t misalign = draw.pick(0, 3) == 0 ? std::size_t(draw.pick(1, 15)) : 0;
        if (work_of(s) > most_work) continue;
        std::unique_ptr<Workload> work;
        try {
            work = std::make_unique<Workload>(stage, s, fill, misalign);
        } catch (const std::invalid_argument&) {
            continue;  // a combination the stage refuses (Workload names the field)
        }
        ++drawn;
        const Expected want = expected_output(*work);  // the kernels do not write their inputs
        for (const Kernel& k : registry()) {
            if (k.stage != stage || k.dtype != s.dtype || !runs_here(k)) continue;
            if (k.variant == "naive" && work_of(s) > 5e7) continue;
            work->run(k);
            ++runs;
            EXPECT_EQ(outputs_outside_bound(*work, want, k.typed_name()), 0)
                << "seed " << seed << ", shape " << drawn
                << "; benchmark it with: " << repro_command(k, s);
        }
    }
    EXPECT_EQ(drawn, shapes) << "too many draws refused or too large";
    EXPECT_GT(runs, drawn) << "every shape has kernels of its stage and type";
}

}  // namespace
}  // namespace attn::testing
