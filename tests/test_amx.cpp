// The avx512 tier's AMX projection (src/simd/amx.hpp) against its definition, Y = X W summed in
// double from the stored bf16 values, at every edge of its tiles, across its task chunks and
// through the registry's bf16 projection with the tiles on and off. They run only where the CPU
// has AMX-BF16 and the OS grants its tiles; elsewhere each test says it was skipped.
// x86-64 only: aarch64 has no AMX.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "attn/dtype.hpp"
#include "attn/isa.hpp"
#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "expected.hpp"
#include "simd/amx.hpp"

#if defined(__x86_64__)

namespace attn::testing {
namespace {

using i64 = std::int64_t;
using simd::kAmxRows;
using simd::kAmxSpan;

#define ATTN_SKIP_WITHOUT_AMX() \
    if (!cpu_has_amx_bf16()) GTEST_SKIP() << "this CPU or OS gives no AMX-BF16 tiles"

// X [m x k] and W [k x n] of random normal bf16 values (no subnormals, which the tiles read as
// zeros), the product by the tiles on `threads` threads, and its definition in double with the
// bound of k fp32 additions: each sum within k 2^-24 of the sum of the products' magnitudes.
void expect_product_within_bound(i64 m, i64 n, i64 k, int threads) {
    std::mt19937 rng(std::uint32_t(m * 131 + n * 17 + k));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<bf16> x(m * k), w(k * n);
    for (bf16& v : x) v = from_float<bf16>(normal(rng));
    for (bf16& v : w) v = from_float<bf16>(normal(rng));
    std::vector<float> y(m * n, std::numeric_limits<float>::quiet_NaN());
    simd::amx_projection(threads, m, n, k, x.data(), w.data(), y.data());
    int bad = 0;
    for (i64 r = 0; r < m; ++r)
        for (i64 c = 0; c < n; ++c) {
            double sum = 0, magnitude = 0;
            for (i64 i = 0; i < k; ++i) {
                const double p = double(to_float(x[r * k + i])) * to_float(w[i * n + c]);
                sum += p, magnitude += std::fabs(p);
            }
            const double bound = double(k + 1) * std::ldexp(1.0, -24) * magnitude;
            if (!(std::fabs(y[r * n + c] - sum) <= bound) && bad++ < 3)
                ADD_FAILURE() << "m " << m << " n " << n << " k " << k << " t " << threads << " y["
                              << r << "][" << c << "] = " << y[r * n + c] << ", want " << sum
                              << " within " << bound;
        }
    EXPECT_EQ(bad, 0);
}

// Every row count and column count below, at and past one and two tiles, every k below, at and
// past one and two spans (odd ones leave half a pair), on one and two threads.
TEST(Amx, ProductMatchesTheDefinitionAtEveryTileEdge) {
    ATTN_SKIP_WITHOUT_AMX();
    const i64 R = kAmxRows, S = kAmxSpan;
    for (i64 m : {i64(1), R - 1, R, R + 1, 2 * R + 1, 3 * R})
        for (i64 n : {i64(1), R - 1, R, R + 1, 2 * R + 1, 3 * R})
            for (i64 k : {i64(1), i64(2), S - 1, S, S + 1, 2 * S + 3})
                for (int threads : {1, 2}) expect_product_within_bound(m, n, k, threads);
}

// Long k splits the columns into several chunks, each into row groups, across both threads.
TEST(Amx, ProductMatchesTheDefinitionAcrossTaskChunks) {
    ATTN_SKIP_WITHOUT_AMX();
    expect_product_within_bound(5 * kAmxRows + 3, 20 * kAmxRows + 5, 64 * kAmxSpan + 1, 2);
    expect_product_within_bound(9 * kAmxRows, 12 * kAmxRows, 32 * kAmxSpan, 1);
}

// A NaN in one element of X reaches exactly its row of Y, an infinity in W exactly its column:
// the zeros that pad the tiles never meet them.
TEST(Amx, NonFiniteValuesStayInTheirRowAndColumn) {
    ATTN_SKIP_WITHOUT_AMX();
    const i64 m = kAmxRows + 3, n = kAmxRows + 5, k = kAmxSpan + 7, row = m - 1, col = n - 1;
    std::vector<bf16> x(m * k, from_float<bf16>(0.5f)), w(k * n, from_float<bf16>(0.25f));
    x[row * k + k - 1] = from_float<bf16>(std::numeric_limits<float>::quiet_NaN());
    w[(k - 1) * n + col] = from_float<bf16>(std::numeric_limits<float>::infinity());
    std::vector<float> y(m * n);
    simd::amx_projection(2, m, n, k, x.data(), w.data(), y.data());
    for (i64 r = 0; r < m; ++r)
        for (i64 c = 0; c < n; ++c) {
            const float v = y[r * n + c];
            if (r == row) EXPECT_TRUE(std::isnan(v)) << r << " " << c;
            else if (c == col)
                EXPECT_EQ(v, std::numeric_limits<float>::infinity()) << r << " " << c;
            else EXPECT_FLOAT_EQ(v, float(k) * 0.125f) << r << " " << c;
        }
}

// The registry's bf16 projection at the avx512 tier with the tiles and with the widening path,
// each within the reference's bound, on row counts past the few-rows path and at tile edges.
TEST(Amx, ProjectionBothPathsWithinBound) {
    ATTN_SKIP_WITHOUT_AMX();
    const Kernel* kernel = find_kernel(Stage::projection, "omp", Isa::best, DType::bf16);
    ASSERT_NE(kernel, nullptr);
    std::vector<Shape> shapes;
    for (i64 n : {kAmxRows + 1, 3 * kAmxRows})
        for (i64 d : {i64(7), kAmxSpan + 1}) {
            Shape sh;
            sh.n_q = sh.n_kv = n, sh.heads = 3, sh.head_dim = d, sh.dtype = DType::bf16;
            sh.threads = 2;
            shapes.push_back(sh);
        }
    for (bool tiles : {true, false}) {
        simd::enable_amx(tiles);
        for (const Shape& sh : shapes) {
            ASSERT_EQ(simd::amx_serves(Isa::best), tiles && best_isa() == Isa::avx512);
            Workload work(Stage::projection, sh);
            work.run(*kernel);
            const Expected want = expected_output(work);
            const float* got = work.output().data();
            int bad = 0;
            for (std::size_t i = 0; i < want.value.size(); ++i)
                if (!(std::fabs(double(got[i]) - want.value[i]) <= want.tolerance[i]) && bad++ < 3)
                    ADD_FAILURE() << (tiles ? "AMX" : "widening") << " on " << sh.text() << " ["
                                  << i << "] got " << got[i] << " want " << want.value[i]
                                  << " bound " << want.tolerance[i];
            EXPECT_EQ(bad, 0);
        }
    }
    simd::enable_amx(true);
}

}  // namespace
}  // namespace attn::testing

#endif
