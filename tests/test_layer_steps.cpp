// The layer stage's elementwise steps against their definitions (src/layer_math.hpp): the float
// rotary embeddings and position encoding the fast chain reads from its tables, and the float
// norms and activations, each within a few roundings of the double definition. The whole-layer
// bound (tests/expected.cpp) compounds magnitudes through the block and would let a wrong
// rotation through; these catch it.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include "layer_math.hpp"

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
    // Positions up to 300 (large angles), two batches, grouped widths, 1 and 2 threads.
    for (const int threads : {1, 2}) {
        Shape s;
        s.batch = 2, s.heads = 3, s.n_q = s.n_kv = 300, s.head_dim = 10;
        const std::size_t n = std::size_t(s.batch * s.heads * s.n_q * s.head_dim);
        std::vector<float> t = random_values(n, -2.0f, 2.0f, 5);
        std::vector<double> ref(t.begin(), t.end());
        layer::rotate_heads(s, s.heads, t.data(), threads);
        layer::rotate_heads_reference(s, s.heads, ref.data());
        const std::vector<float> in = random_values(n, -2.0f, 2.0f, 5);
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t pair = i & ~std::size_t(1);
            const double mag = std::fabs(in[pair]) + std::fabs(in[pair + 1]);
            ASSERT_NEAR(t[i], ref[i], 4.0 * u * mag) << "element " << i << ", " << threads << "t";
        }
    }
}

TEST(LayerSteps, PositionsAddTheSinusoidOfEachColumn) {
    Shape s;
    s.batch = 2, s.heads = 3, s.n_q = s.n_kv = 257, s.head_dim = 5;  // d_model 15: odd
    const std::int64_t dm = s.d_model();
    std::vector<float> x(std::size_t(s.batch * s.n_q * dm), 0.0f);
    layer::add_positions(s, x.data(), 2);
    for (std::int64_t r = 0; r < s.batch * s.n_q; ++r)
        for (std::int64_t c = 0; c < dm; ++c)
            ASSERT_NEAR(x[std::size_t(r * dm + c)], layer::sinusoid(r % s.n_q, c, dm), u)
                << "row " << r << " column " << c;
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

}  // namespace
}  // namespace attn
