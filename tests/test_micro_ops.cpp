// The building blocks of the simd, omp and flash kernels on their own, for every ISA tier the CPU
// has: packing, the packed matrix product and the softmax of rows, on sizes derived from each
// tier's tiles (at, below, above and past a multiple of MR, NR, KC, the vector width and the
// softmax's row buffer). The exponentials have their own test (test_exp.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "attn/buffer.hpp"
#include "attn/isa.hpp"
#include "simd/ops.hpp"

namespace attn {
namespace {

using i64 = std::int64_t;
constexpr double u = FLT_EPSILON;

std::vector<float> random_floats(std::size_t n, std::uint64_t seed, float lo = -1.0f,
                                 float hi = 1.0f) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// Below, at, above and past a multiple of a tile.
std::vector<i64> around(i64 tile) {
    return {std::max<i64>(1, tile - 1), tile, tile + 1, 2 * tile + 1};
}

class MicroOps : public ::testing::TestWithParam<Isa> {
protected:
    void SetUp() override {
        if (!cpu_supports(GetParam())) GTEST_SKIP() << "this CPU lacks " << to_string(GetParam());
    }
};

// pack_b's layout: strip s holds columns [s NR, s NR + NR) of op(B) as K rows of NR floats,
// zero past N.
TEST_P(MicroOps, PackBLaysOutStripsOfNrColumns) {
    const simd::GemmOps& g = simd::gemm_ops(GetParam());
    for (i64 n : around(g.nr))
        for (i64 k : {i64(1), i64(3), g.kc + 1})
            for (bool transposed : {false, true}) {
                const i64 ldb = (transposed ? k : n) + 2;  // padded rows
                const std::vector<float> b =
                    random_floats(std::size_t((transposed ? n : k) * ldb), 5);
                Buffer out(std::size_t(g.packed_size(k, n)),
                           0);  // packed strips are vector-aligned
                std::fill(out.span().begin(), out.span().end(),
                          std::numeric_limits<float>::quiet_NaN());
                g.pack_b(k, n, b.data(), ldb, transposed, out.data());
                ASSERT_EQ(out.size(), std::size_t((n + g.nr - 1) / g.nr * g.nr * k));
                int bad = 0;
                for (i64 col = 0; col < (n + g.nr - 1) / g.nr * g.nr; ++col)
                    for (i64 row = 0; row < k; ++row) {
                        const float want = col >= n     ? 0.0f
                                           : transposed ? b[col * ldb + row]
                                                        : b[row * ldb + col];
                        const float got =
                            out.data()[(col / g.nr) * k * g.nr + row * g.nr + col % g.nr];
                        bad += !(got == want);
                    }
                EXPECT_EQ(bad, 0) << "k " << k << " n " << n << (transposed ? " transposed" : "");
            }
}

// C = alpha A B (+ C) within the fp32 bound of a K-term sum, for row counts around MR, column
// counts around NR and depths around KC (several K slices accumulate into one tile); C's padding
// columns stay untouched.
TEST_P(MicroOps, PackedProductWithinErrorBound) {
    const simd::GemmOps& g = simd::gemm_ops(GetParam());
    for (i64 m : around(g.mr))
        for (i64 n : {g.nr - 1, g.nr + 1, 2 * g.nr + 1})
            for (i64 k : around(g.kc))
                for (bool accumulate : {false, true}) {
                    const float alpha = accumulate ? 0.5f : 1.0f;
                    const i64 lda = k + 3, ldc = n + 2;
                    const std::vector<float> a = random_floats(std::size_t(m * lda), 7),
                                             b = random_floats(std::size_t(k * n), 8);
                    const std::vector<float> c0 = random_floats(std::size_t(m * ldc), 9);
                    Buffer bp(std::size_t(g.packed_size(k, n)), 0);
                    std::vector<float> c = c0;
                    g.pack_b(k, n, b.data(), n, false, bp.data());
                    g.gemm_packed(m, n, k, alpha, a.data(), lda, bp.data(), k * g.nr, c.data(), ldc,
                                  accumulate);
                    int bad = 0;
                    for (i64 i = 0; i < m; ++i)
                        for (i64 j = 0; j < ldc; ++j) {
                            const std::size_t at = std::size_t(i * ldc + j);
                            if (j >= n) {
                                bad += !(c[at] == c0[at]);
                                continue;
                            }
                            double exact = 0, magnitude = 0;
                            for (i64 t = 0; t < k; ++t) {
                                exact += double(a[i * lda + t]) * b[t * n + j];
                                magnitude += std::fabs(double(a[i * lda + t]) * b[t * n + j]);
                            }
                            exact *= alpha, magnitude *= alpha;
                            if (accumulate) exact += c0[at], magnitude += std::fabs(c0[at]);
                            bad += !(std::fabs(c[at] - exact) <=
                                     2.0 * u * double(k + 2) * magnitude + FLT_MIN);
                        }
                    EXPECT_EQ(bad, 0) << "m " << m << " n " << n << " k " << k
                                      << (accumulate ? " accumulate" : "");
                }
}

// softmax_rows on rows around the vector width and around the streaming path's row buffer, with a
// masked tail and a fully masked row, cached and streaming, into a misaligned output.
TEST_P(MicroOps, SoftmaxRowsWithinErrorBound) {
    const simd::SoftmaxOps& sm = simd::softmax_ops(GetParam());
    std::vector<i64> lengths = around(sm.width);
    for (i64 n : {sm.row_buffer - 1, sm.row_buffer, sm.row_buffer + 1}) lengths.push_back(n);
    const float neg_inf = -std::numeric_limits<float>::infinity();
    for (i64 n : lengths)
        for (bool streaming : {false, true}) {
            const i64 rows = 3;
            std::vector<float> s = random_floats(std::size_t(rows * n), 11, -30.0f, 30.0f);
            for (i64 j = n / 2 + 1; j < n; ++j)
                s[std::size_t(n + j)] = neg_inf;                              // row 1: masked tail
            for (i64 j = 0; j < n; ++j) s[std::size_t(2 * n + j)] = neg_inf;  // row 2: fully masked
            std::vector<float> p(std::size_t(rows * n + 1));
            sm.softmax_rows(n, s.data(), p.data() + 1, rows, streaming);
            int bad = 0;
            for (i64 r = 0; r < rows; ++r) {
                double m = -INFINITY, sum = 0;
                for (i64 j = 0; j < n; ++j) m = std::max(m, double(s[r * n + j]));
                for (i64 j = 0; j < n; ++j) sum += std::isinf(m) ? 0.0 : std::exp(s[r * n + j] - m);
                for (i64 j = 0; j < n; ++j) {
                    const float got = p[std::size_t(r * n + j + 1)];
                    if (std::isinf(m)) {
                        bad += !(got == 0.0f);
                        continue;
                    }
                    const double x = s[r * n + j], want = std::exp(x - m) / sum;
                    const double gap = std::isinf(x) ? 0.0 : m - x;
                    bad += !(std::fabs(got - want) <=
                             2.0 * u * (gap + double(n) + 8.0) * want + FLT_MIN);
                }
            }
            EXPECT_EQ(bad, 0) << "n " << n << (streaming ? " streaming" : "");
        }
}

INSTANTIATE_TEST_SUITE_P(Tiers, MicroOps,
                         ::testing::ValuesIn(isa_tiers().begin(), isa_tiers().end()),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace attn
