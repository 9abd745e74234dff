// The layer stage's elementwise steps against their definitions (src/layer_math.hpp): the float
// rotary embeddings and position encoding the fast chain reads from its tables, and the float
// norms and activations, each within a few roundings of the double definition. The whole-layer
// bound (tests/expected.cpp) compounds magnitudes through the block and would let a wrong
// rotation through; these catch it. And every layer kernel's step clock: each step it runs is
// charged, and no more than the call's time in all.
#include <gtest/gtest.h>

#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iterator>
#include <random>
#include <tuple>
#include <vector>

#include "attn/isa.hpp"
#include "attn/layer_steps.hpp"
#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "grid.hpp"
#include "layer_math.hpp"
#include "simd/ops.hpp"
#include "tiers.hpp"

namespace attn {
namespace {

constexpr double u = FLT_EPSILON;

std::vector<float> random_values(std::size_t n, float lo, float hi, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

TEST(LayerSteps, RotaryEmbeddingsTurnEachPairByItsAngle) {
    // Positions up to 300 (large angles), two batches, grouped widths, 1 and 2 threads, the plain
    // loop and the best tier's rows.
    for (const Isa isa : {Isa::scalar, Isa::best})
        for (const int threads : {1, 2}) {
            Shape s;
            s.batch = 2, s.heads = 3, s.n_q = s.n_kv = 300, s.head_dim = 10;
            const std::size_t n = std::size_t(s.batch * s.heads * s.n_q * s.head_dim);
            std::vector<float> t = random_values(n, -2.0f, 2.0f, 5);
            std::vector<double> ref(t.begin(), t.end());
            layer::rotate_heads(s, s.heads, t.data(), threads, isa);
            layer::rotate_heads_reference(s, s.heads, ref.data());
            const std::vector<float> in = random_values(n, -2.0f, 2.0f, 5);
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t pair = i & ~std::size_t(1);
                const double mag = std::fabs(in[pair]) + std::fabs(in[pair + 1]);
                ASSERT_NEAR(t[i], ref[i], 4.0 * u * mag)
                    << "element " << i << ", " << threads << "t, " << to_string(isa);
            }
        }
}

TEST(LayerSteps, PositionsAddTheSinusoidOfEachColumn) {
    Shape s;
    s.batch = 2, s.heads = 3, s.n_q = s.n_kv = 257, s.head_dim = 5;  // d_model 15: odd
    const std::int64_t dm = s.d_model();
    const std::vector<float> x = random_values(std::size_t(s.batch * s.n_q * dm), -4.0f, 4.0f, 3);
    for (const Isa isa : {Isa::scalar, Isa::best}) {
        std::vector<float> out(x.size()), in_place = x;
        layer::add_positions(s, x.data(), out.data(), 2, isa);
        layer::add_positions(s, in_place.data(), in_place.data(), 1, isa);
        for (std::int64_t r = 0; r < s.batch * s.n_q; ++r)
            for (std::int64_t c = 0; c < dm; ++c) {
                const std::size_t i = std::size_t(r * dm + c);
                const double want = double(x[i]) + layer::sinusoid(r % s.n_q, c, dm);
                ASSERT_NEAR(out[i], want, 6 * u)
                    << "row " << r << " column " << c << ", " << to_string(isa);
                ASSERT_EQ(out[i], in_place[i])
                    << "row " << r << " column " << c << ", " << to_string(isa);
            }
    }
}

TEST(LayerSteps, TokenLookupCopiesTheRowEachIdPicks) {
    Shape s;
    s.batch = 2, s.heads = 3, s.n_q = s.n_kv = 5, s.head_dim = 3, s.vocab = 4;
    const std::int64_t dm = s.d_model();
    const std::vector<float> table = random_values(std::size_t(s.vocab * dm), -1.0f, 1.0f, 4);
    // Good ids, repeated, and each kind of id that picks no row.
    const float ids[] = {0.0f, 3.0f, 1.0f, 3.0f, 2.0f, 4.0f, -1.0f, 2.5f, NAN, INFINITY};
    for (const int threads : {1, 2}) {
        std::vector<float> x(std::size(ids) * std::size_t(dm), 7.0f);
        layer::look_up_tokens(s, ids, table.data(), x.data(), threads);
        for (std::size_t r = 0; r < std::size(ids); ++r)
            for (std::int64_t c = 0; c < dm; ++c) {
                const float got = x[r * std::size_t(dm) + std::size_t(c)];
                if (r < 5)
                    ASSERT_EQ(got, table[std::size_t(std::int64_t(ids[r]) * dm + c)])
                        << "id " << ids[r] << " column " << c;
                else ASSERT_TRUE(std::isnan(got)) << "id " << ids[r] << " column " << c;
            }
    }
}

TEST(LayerSteps, NormsInFloatFollowTheirDefinition) {
    for (const bool rms : {false, true})
        for (const std::int64_t n : {1, 7, 64, 1000}) {
            std::vector<float> z = random_values(std::size_t(n), -3.0f, 5.0f, unsigned(n));
            const std::vector<float> gain = random_values(std::size_t(n), 0.5f, 1.5f, 9);
            const std::vector<float> bias = random_values(std::size_t(n), -0.5f, 0.5f, 10);
            std::vector<double> ref(z.begin(), z.end());
            layer::norm_row<double>(ref.data(), n, gain.data(), bias.data(), rms, ref.data());
            layer::norm_row<float>(z.data(), n, gain.data(), bias.data(), rms, z.data());
            for (std::int64_t c = 0; c < n; ++c)
                ASSERT_NEAR(z[std::size_t(c)], ref[std::size_t(c)],
                            4.0 * u * double(n + 8) * (std::fabs(ref[std::size_t(c)]) + 2.0))
                    << (rms ? "RMSNorm" : "LayerNorm") << " n " << n << " entry " << c;
        }
}

TEST(LayerSteps, ActivationsInFloatFollowTheirDefinition) {
    for (float x = -30.0f; x <= 30.0f; x += 0.0137f) {
        ASSERT_NEAR(layer::gelu(x), layer::gelu(double(x)), 8.0 * u * std::fabs(x) + 1e-30) << x;
        ASSERT_NEAR(layer::silu(x), layer::silu(double(x)), 8.0 * u * std::fabs(x) + 1e-30) << x;
    }
    // Their shapes: GELU and SiLU pass large positive inputs and zero large negative ones.
    EXPECT_NEAR(layer::gelu(10.0), 10.0, 1e-12);
    EXPECT_NEAR(layer::gelu(-10.0), 0.0, 1e-12);
    EXPECT_NEAR(layer::gelu(1.0), 0.8411919906082768, 1e-15);  // the tanh form at 1
    EXPECT_NEAR(layer::silu(1.0), 1.0 / (1.0 + std::exp(-1.0)), 1e-15);
}

// The vectorised rows of each tier (simd::LayerOps) against the same double definitions, on
// lengths around the vector width (the remainder loops) and on the special values, which must come
// out as the scalar formulas make them.
class LayerRows : public ::testing::TestWithParam<Isa> {};

TEST_P(LayerRows, GeluAndGatedSiluFollowTheirDefinition) {
    ATTN_SKIP_UNLESS_RUNS_HERE(GetParam());
    const simd::LayerOps& ops = simd::layer_ops(GetParam());
    for (const std::int64_t n : {1, 7, 8, 15, 16, 17, 33, 4099}) {
        std::vector<float> x = random_values(std::size_t(n), -12.0f, 12.0f, unsigned(n));
        const std::vector<float> gate = random_values(std::size_t(n), -2.0f, 2.0f, 3);
        std::vector<float> g = x, h = x;
        ops.gelu(g.data(), n);
        ops.silu_gate(h.data(), gate.data(), n);
        for (std::int64_t i = 0; i < n; ++i) {
            const double xi = x[std::size_t(i)], gi = gate[std::size_t(i)];
            ASSERT_NEAR(g[std::size_t(i)], layer::gelu(xi), 8.0 * u * std::fabs(xi) + 1e-30)
                << "gelu(" << xi << "), n " << n;
            ASSERT_NEAR(h[std::size_t(i)], layer::silu(xi) * gi,
                        8.0 * u * std::fabs(xi * gi) + 1e-30)
                << "silu(" << xi << ") * " << gi << ", n " << n;
        }
    }
    // Special values, whole vectors of them and a tail: the scalar formulas' results.
    const float specials[] = {0.0f,   -0.0f, INFINITY, -INFINITY, NAN,    1e30f,
                              -1e30f, 88.0f, -88.0f,   -100.0f,   1e-30f, -1e-30f,
                              3.0f,   -3.0f, 0.5f,     -0.5f,     2.0f};
    const std::int64_t n = std::int64_t(std::size(specials));
    std::vector<float> g(specials, specials + n), h(specials, specials + n), ones(n, 1.0f);
    ops.gelu(g.data(), n);
    ops.silu_gate(h.data(), ones.data(), n);
    for (std::int64_t i = 0; i < n; ++i) {
        const double want_g = layer::gelu(double(specials[i])),
                     want_h = layer::silu(double(specials[i]));
        for (const auto& [got, want, what] :
             {std::tuple{g[std::size_t(i)], want_g, "gelu"}, {h[std::size_t(i)], want_h, "silu"}}) {
            if (std::isnan(want)) EXPECT_TRUE(std::isnan(got)) << what << "(" << specials[i] << ")";
            else if (std::isinf(want))
                EXPECT_EQ(double(got), want) << what << "(" << specials[i] << ")";
            else  // the vector exponential flushes results below FLT_MIN to 0: x times that
                EXPECT_NEAR(got, want,
                            8.0 * u * std::fabs(want) + 2.0 * FLT_MIN * std::fabs(specials[i]))
                    << what << "(" << specials[i] << ")";
        }
    }
}

TEST_P(LayerRows, ResidualNormFollowsTheDefinition) {
    ATTN_SKIP_UNLESS_RUNS_HERE(GetParam());
    const simd::LayerOps& ops = simd::layer_ops(GetParam());
    for (const bool rms : {false, true})
        for (const std::int64_t n : {1, 5, 16, 17, 31, 768, 1001}) {
            const std::vector<float> a = random_values(std::size_t(n), -3.0f, 5.0f, unsigned(n));
            const std::vector<float> b = random_values(std::size_t(n), -1.0f, 1.0f, 2);
            const std::vector<float> gain = random_values(std::size_t(n), 0.5f, 1.5f, 9);
            const std::vector<float> bias = random_values(std::size_t(n), -0.5f, 0.5f, 10);
            std::vector<double> ref(static_cast<std::size_t>(n), 0.0);
            for (std::size_t c = 0; c < ref.size(); ++c) ref[c] = double(a[c] + b[c]);
            layer::norm_row<double>(ref.data(), n, gain.data(), bias.data(), rms, ref.data());
            std::vector<float> y(static_cast<std::size_t>(n), 0.0f);
            ops.residual_norm(a.data(), b.data(), n, gain.data(), bias.data(), rms, y.data());
            for (std::int64_t c = 0; c < n; ++c)
                ASSERT_NEAR(y[std::size_t(c)], ref[std::size_t(c)],
                            4.0 * u * double(n + 8) * (std::fabs(ref[std::size_t(c)]) + 2.0))
                    << (rms ? "RMSNorm" : "LayerNorm") << " n " << n << " entry " << c;
            // In place over a, as the chain calls it.
            std::vector<float> in_place = a;
            ops.residual_norm(in_place.data(), b.data(), n, gain.data(), bias.data(), rms,
                              in_place.data());
            EXPECT_EQ(in_place, y) << "in place, n " << n;
        }
}

TEST_P(LayerRows, PairRotationAndSumFollowTheirDefinitions) {
    ATTN_SKIP_UNLESS_RUNS_HERE(GetParam());
    const simd::LayerOps& ops = simd::layer_ops(GetParam());
    // Lengths around every tier's width, odd ones too (the last entry has no partner); tables of
    // distinct values in every lane, so a lane swapped or dropped shows.
    for (const std::int64_t n : {1, 2, 3, 7, 8, 9, 16, 17, 31, 32, 33, 64, 130}) {
        const std::size_t sz = std::size_t(n);
        const std::vector<float> v = random_values(sz, -2.0f, 2.0f, unsigned(n));
        const std::vector<float> cos = random_values(sz, -1.0f, 1.0f, 7);
        const std::vector<float> sin = random_values(sz, -1.0f, 1.0f, 8);
        const std::vector<float> b = random_values(sz, -3.0f, 3.0f, 9);
        std::vector<float> y(sz), in_place = v, sum(sz), sum_in_place = v;
        ops.rotate_pairs(v.data(), cos.data(), sin.data(), n, y.data());
        ops.rotate_pairs(in_place.data(), cos.data(), sin.data(), n, in_place.data());
        ops.add(v.data(), b.data(), n, sum.data());
        ops.add(sum_in_place.data(), b.data(), n, sum_in_place.data());
        for (std::size_t c = 0; c < sz; ++c) {
            const std::size_t partner = c ^ 1;
            const double turn = partner < sz ? double(v[partner]) * sin[c] : 0.0;
            const double want = double(v[c]) * cos[c] + turn;
            ASSERT_NEAR(y[c], want, 2.0 * u * (std::fabs(double(v[c]) * cos[c]) + std::fabs(turn)))
                << "rotation, entry " << c << " of " << n;
            ASSERT_EQ(in_place[c], y[c]) << "rotation in place, entry " << c << " of " << n;
            ASSERT_EQ(sum[c], v[c] + b[c]) << "sum, entry " << c << " of " << n;
            ASSERT_EQ(sum_in_place[c], sum[c]) << "sum in place, entry " << c << " of " << n;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Tiers, LayerRows,
                         ::testing::ValuesIn(isa_tiers().begin(), isa_tiers().end()),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(LayerSteps, EveryLayerKernelTimesEachOfItsSteps) {
    // A BERT-like and a Llama-like layer: positions added or Q and K rotated; the BERT-like one
    // from token ids too.
    Shape bert;
    bert.heads = 4, bert.n_q = bert.n_kv = 48, bert.head_dim = 16;
    Shape llama = bert;
    llama.kv_heads = 2, llama.causal = true, llama.d_ff = 96,
    llama.swiglu = llama.rope = llama.rms = true;
    Shape tokens = bert;
    tokens.vocab = 100;
    int checked = 0;
    for (const auto& k : registry()) {
        if (k.stage != Stage::layer || !testing::runs_here(k)) continue;
        for (Shape s : {bert, llama, tokens}) {
            s.threads = k.parallel() ? 2 : 1;
            Workload w(k.stage, s);
            layer_step_seconds() = {};
            const auto t0 = std::chrono::steady_clock::now();
            w.run(k);
            const double call =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            const LayerStepSeconds steps = layer_step_seconds();
            double sum = 0;
            for (std::size_t i = 0; i < kLayerSteps; ++i) {
                const auto step = LayerStep(i);
                // Only the activation may be fused into another step, and only the step that
                // does not apply (positions under rope, rotary without, embedding without vocab)
                // may go uncharged.
                const bool skipped = (step == LayerStep::positions && s.rope) ||
                                     (step == LayerStep::rotary && !s.rope) ||
                                     (step == LayerStep::embedding && !s.vocab);
                if (skipped) {
                    EXPECT_EQ(steps[i], 0.0) << k.typed_name() << " " << to_string(step);
                } else if (step != LayerStep::activation) {
                    EXPECT_GT(steps[i], 0.0) << k.typed_name() << " " << to_string(step);
                }
                sum += steps[i];
            }
            EXPECT_LE(sum, call) << k.typed_name() << " on " << s.text();
            ++checked;
        }
    }
    EXPECT_GE(checked, 2);
}

TEST(LayerSteps, StepsAloneChargesEveryStepAndLeavesTheNextCallIntact) {
    Shape s;
    s.heads = 4, s.kv_heads = 2, s.n_q = s.n_kv = 40, s.head_dim = 16, s.d_ff = 72;
    s.swiglu = s.rope = s.rms = true;
    int checked = 0;
    for (const auto& k : registry()) {
        if (k.stage != Stage::layer || !testing::runs_here(k)) continue;
        for (const std::int64_t vocab : {0, 37})
            for (const bool rope : {false, true}) {
                Shape t = s;
                t.rope = rope, t.vocab = vocab, t.threads = k.parallel() ? 2 : 1;
                Workload w(k.stage, t);
                w.run(k);
                const std::vector<float> before(w.output().data(),
                                                w.output().data() + w.output().size());
                layer_step_seconds() = {};
                layer_steps_alone() = 2;
                w.run(k);
                layer_steps_alone() = 0;
                for (std::size_t i = 0; i < kLayerSteps; ++i) {
                    const auto step = LayerStep(i);
                    const bool runs = !(step == LayerStep::positions && rope) &&
                                      !(step == LayerStep::rotary && !rope) &&
                                      !(step == LayerStep::embedding && !vocab) &&
                                      step != LayerStep::activation;
                    if (runs) {
                        EXPECT_GT(layer_step_seconds()[i], 0.0) << k.typed_name();
                    }
                }
                // Scratch the repeated steps left behind must not reach a later call.
                w.run(k);
                EXPECT_EQ(
                    std::memcmp(before.data(), w.output().data(), before.size() * sizeof(float)), 0)
                    << k.typed_name() << " on " << t.text();
                ++checked;
            }
    }
    EXPECT_GE(checked, 2);
}

}  // namespace
}  // namespace attn
