// The avx512 tier's AMX projection (src/simd/amx.hpp) against its definition, Y = X W summed in
// double from the stored bf16 values, at every edge of its tiles, across its task chunks and
// through the registry's bf16 projection with the tiles on and off; and flash's bf16 prefill on
// the tiles: its two products against theirs, and the whole kernel against the reference and the
// non-finite contract with the tiles on and off; each path's count of the multiply-adds it was
// called for (attn::amx_multiply_adds); and the tile peak probe's loop. They run only where the CPU
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
#include "attn/stages.hpp"
#include "attn/workload.hpp"
#include "expected.hpp"
#include "flash/bf16_dot.hpp"
#include "flash/flash.hpp"
#include "peak.hpp"
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
    for (const Shape& sh : shapes) {
        // Each path writes a workload of its own (same inputs), so neither reads the other's
        // output.
        const Expected want = expected_output(Workload(Stage::projection, sh));
        for (bool tiles : {true, false}) {
            simd::enable_amx(tiles);
            ASSERT_EQ(simd::amx_serves(Isa::best), tiles && best_isa() == Isa::avx512);
            Workload work(Stage::projection, sh);
            const std::int64_t before = amx_multiply_adds();
            work.run(*kernel);
            EXPECT_EQ(outputs_outside_bound(work, want, tiles ? "AMX" : "widening"), 0);
            // The tiles' call counts its multiply-adds, the ones the stage's flops count; the
            // widening path counts none.
            EXPECT_EQ(double(amx_multiply_adds() - before),
                      simd::amx_serves(Isa::best) ? flops(Stage::projection, sh) / 2 : 0.0);
        }
    }
    simd::enable_amx(true);
}

// The tile peak probe's loop does the products its GFLOP/s counts: each sum of its four C tiles
// gains 32 products a b per round, and it returns two sums of each tile.
TEST(Amx, PeakLoopDoesTheWorkItCounts) {
    ATTN_SKIP_WITHOUT_AMX();
    constexpr int kRounds = 5;
    EXPECT_EQ(attnbench::amx_peak_loop(kRounds, 0.125f, 0.5f), 4 * 2 * kRounds * 32 * 0.0625f);
}

// n bf16 values drawn from a normal distribution (no subnormals, which the tiles read as zeros).
std::vector<bf16> normal_bf16(i64 n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<bf16> out(static_cast<std::size_t>(n));
    for (bf16& v : out) v = from_float<bf16>(normal(rng));
    return out;
}

// The start of p rounded up to 64 bytes, as the workspace gives the packings their strips.
std::uint32_t* aligned64(std::uint32_t* p) {
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    return reinterpret_cast<std::uint32_t*>((at + 63) / 64 * 64);
}

// Whether |got - want| is within k fp32 additions of the products' summed magnitude.
bool within_sum_bound(double got, double want, double magnitude, i64 k) {
    return std::fabs(got - want) <= double(k + 1) * std::ldexp(1.0, -24) * magnitude;
}

// The prefill's Q K^T on tiles: a row pair of queries against one to three steps of keys, at head
// sizes of one, two and four tile rows, against the products summed in double; the score columns
// past the keys are left as they were.
TEST(AmxFlash, ScoreRowsMatchTheDefinition) {
    ATTN_SKIP_WITHOUT_AMX();
    const i64 rows = 2 * kAmxRows;
    for (i64 d : {kAmxSpan, 2 * kAmxSpan, 4 * kAmxSpan})
        for (i64 keys : {kAmxSpan, 3 * kAmxSpan}) {
            const std::vector<bf16> q = normal_bf16(rows * d, std::uint32_t(d + keys));
            const std::vector<bf16> k = normal_bf16(keys * d, std::uint32_t(7 * d + keys));
            const i64 strip = flash::bf16_dot_strip();
            std::vector<std::uint32_t> raw(
                std::size_t((keys + strip - 1) / strip * strip * d / 2 + 16));
            std::uint32_t* kp = aligned64(raw.data());
            flash::pack_pairs_transposed(keys, d, k.data(), d, kp);
            const i64 lds = keys + 16;
            std::vector<float> s(std::size_t(rows * lds), 12345.0f);
            attn::amx_configure_tiles();
            flash::amx_score_rows(reinterpret_cast<const std::uint32_t*>(q.data()), d, kp, keys,
                                  s.data(), lds);
            attn::amx_release_tiles();
            int bad = 0;
            for (i64 r = 0; r < rows; ++r)
                for (i64 j = 0; j < lds; ++j) {
                    double sum = 0, magnitude = 0;
                    for (i64 c = 0; c < d && j < keys; ++c) {
                        const double p = double(to_float(q[r * d + c])) * to_float(k[j * d + c]);
                        sum += p, magnitude += std::fabs(p);
                    }
                    const float got = s[r * lds + j];
                    const bool ok =
                        j < keys ? within_sum_bound(got, sum, magnitude, d) : got == 12345.0f;
                    if (!ok && bad++ < 3)
                        ADD_FAILURE() << "d " << d << " keys " << keys << " s[" << r << "][" << j
                                      << "] = " << got << ", want " << sum;
                }
            EXPECT_EQ(bad, 0);
        }
}

// The prefill's P V on tiles: a row pair of probabilities (rows strided past their keys) against
// V packed in strips (strided past their pairs), overwriting or adding to an accumulator whose
// rows are strided past d, at one to three steps of keys and head sizes of one and three strips.
TEST(AmxFlash, ValueRowsMatchTheDefinition) {
    ATTN_SKIP_WITHOUT_AMX();
    const i64 rows = 2 * kAmxRows, strip = flash::bf16_dot_strip();
    for (i64 d : {kAmxSpan, 3 * kAmxSpan})
        for (i64 keys : {kAmxSpan, 3 * kAmxSpan})
            for (bool first : {true, false}) {
                const i64 ldp = keys / 2 + 8, ld_acc = d + 16, v_stride = (keys / 2 + 16) * strip;
                const std::vector<bf16> pv = normal_bf16(rows * 2 * ldp, std::uint32_t(d + keys));
                const std::vector<bf16> v = normal_bf16(keys * d, std::uint32_t(3 * d + keys));
                const auto* p = reinterpret_cast<const std::uint32_t*>(pv.data());
                std::vector<std::uint32_t> raw(std::size_t(d / strip * v_stride + 16));
                std::uint32_t* vp = aligned64(raw.data());
                for (i64 c0 = 0; c0 < d; c0 += strip)
                    flash::pack_pairs_interleaved(keys, strip, v.data() + c0, d,
                                                  vp + c0 / strip * v_stride);
                std::vector<float> acc(std::size_t(rows * ld_acc));
                for (std::size_t i = 0; i < acc.size(); ++i) acc[i] = float(i % 7) - 3.0f;
                const std::vector<float> before = acc;
                attn::amx_configure_tiles();
                flash::amx_value_rows(p, ldp, vp, v_stride, keys, d, acc.data(), ld_acc, first);
                attn::amx_release_tiles();
                int bad = 0;
                for (i64 r = 0; r < rows; ++r)
                    for (i64 c = 0; c < ld_acc; ++c) {
                        const double start = first ? 0.0 : before[r * ld_acc + c];
                        double sum = start, magnitude = std::fabs(start);
                        for (i64 j = 0; j < keys && c < d; ++j) {
                            const double x =
                                double(to_float(pv[r * 2 * ldp + j])) * to_float(v[j * d + c]);
                            sum += x, magnitude += std::fabs(x);
                        }
                        const float got = acc[r * ld_acc + c];
                        const bool ok = c < d ? within_sum_bound(got, sum, magnitude, keys + 1)
                                              : got == before[r * ld_acc + c];
                        if (!ok && bad++ < 3)
                            ADD_FAILURE()
                                << "d " << d << " keys " << keys << " first " << first << " acc["
                                << r << "][" << c << "] = " << got << ", want " << sum;
                    }
                EXPECT_EQ(bad, 0);
            }
}

// Shapes of flash's bf16 prefill at the tiles' edges: query counts past the decode path, a row
// pair, a query block and a KV block (plus a step of keys), causal or not, grouped heads, head
// sizes of one and four tile rows and one the tiles do not take, and a block of queries against a
// longer cache.
std::vector<Shape> amx_prefill_shapes(const Tiles& tiles) {
    std::vector<Shape> shapes;
    for (i64 n : {flash::kDecodeQueries + 1, 2 * kAmxRows + 1, tiles.row_block + 1,
                  tiles.kv_block + kAmxSpan + 1})
        for (i64 d : {kAmxSpan, 4 * kAmxSpan, kAmxSpan + 1})
            for (bool causal : {false, true}) {
                Shape sh;
                sh.n_q = sh.n_kv = n, sh.heads = 2, sh.kv_heads = 1, sh.head_dim = d;
                sh.causal = causal, sh.dtype = DType::bf16, sh.threads = 2;
                shapes.push_back(sh);
            }
    Shape cross;
    cross.n_q = 2 * kAmxRows + 8, cross.n_kv = tiles.kv_block + 3 * kAmxSpan;
    cross.heads = 2, cross.head_dim = 2 * kAmxSpan, cross.causal = true;
    cross.dtype = DType::bf16, cross.threads = 2;
    shapes.push_back(cross);
    return shapes;
}

// The registry's flash bf16 attention at the avx512 tier with the tiles and without, each within
// the reference's bound; the tiles serve exactly the head sizes of whole tile rows.
TEST(AmxFlash, PrefillBothPathsWithinBound) {
    ATTN_SKIP_WITHOUT_AMX();
    const Kernel* flash = find_kernel(Stage::attention, "flash", Isa::avx512, DType::bf16);
    ASSERT_NE(flash, nullptr);
    for (const Shape& sh : amx_prefill_shapes(flash->tiles())) {
        // Each path writes a workload of its own (same inputs), so neither reads the other's
        // output.
        const Expected want = expected_output(Workload(Stage::attention, sh));
        for (bool tiles : {true, false}) {
            simd::enable_amx(tiles);
            ASSERT_EQ(flash::amx_prefill_serves(Isa::avx512, sh),
                      tiles && sh.head_dim % kAmxSpan == 0);
            Workload work(Stage::attention, sh);
            const std::int64_t before = amx_multiply_adds();
            work.run(*flash);
            EXPECT_EQ(double(amx_multiply_adds() - before),
                      flash::amx_prefill_serves(Isa::avx512, sh)
                          ? double(std::int64_t(flops(Stage::attention, sh) / 2))
                          : 0.0);
            EXPECT_EQ(outputs_outside_bound(work, want, tiles ? "AMX" : "without tiles"), 0);
        }
    }
    simd::enable_amx(true);
}

// Keys the causal mask hides weigh nothing however large their V: a block of queries against a
// longer cache, whose first rows do not see the last keys, with those keys' V rows at 2^100 (a
// product of the tiles that gave them a weight, however small, would show far outside the bound).
TEST(AmxFlash, HiddenKeysWeighNothingHoweverLarge) {
    ATTN_SKIP_WITHOUT_AMX();
    const Kernel* flash = find_kernel(Stage::attention, "flash", Isa::avx512, DType::bf16);
    ASSERT_NE(flash, nullptr);
    const Tiles tiles = flash->tiles();
    Shape sh;
    sh.n_q = 2 * kAmxRows + 8, sh.n_kv = tiles.kv_block + 3 * kAmxSpan;
    sh.heads = 2, sh.head_dim = 2 * kAmxSpan, sh.causal = true, sh.dtype = DType::bf16;
    sh.threads = 2;
    ASSERT_TRUE(flash::amx_prefill_serves(Isa::avx512, sh));
    Workload work(Stage::attention, sh);
    const i64 d = sh.head_dim, hidden_from_first = sh.n_q - 1;
    for (i64 g = 0; g < sh.kv_head_count(); ++g)
        for (i64 j = sh.n_kv - hidden_from_first; j < sh.n_kv; ++j)
            for (i64 c = 0; c < d; ++c)
                work.inputs()[2].set(std::size_t((g * sh.n_kv + j) * d + c), std::ldexp(1.0f, 100));
    work.run(*flash);
    EXPECT_EQ(outputs_outside_bound(work, "V at 2^100 on hidden keys"), 0);
}

// A NaN or an infinity in Q, K or V of the tiles' prefill gives the reference's pattern of NaN,
// inf and finite outputs: at the first and last query, at the keys either side of the KV block's
// edge and at the last key, which the causal mask hides from the first rows (its V row is
// multiplied by a zero weight in their tiles).
TEST(AmxFlash, NonFiniteInputsFollowTheReferencePattern) {
    ATTN_SKIP_WITHOUT_AMX();
    const Kernel* flash = find_kernel(Stage::attention, "flash", Isa::avx512, DType::bf16);
    ASSERT_NE(flash, nullptr);
    const Tiles tiles = flash->tiles();
    Shape sh;
    sh.n_q = 2 * kAmxRows + 8, sh.n_kv = tiles.kv_block + 2 * kAmxSpan + 5;
    sh.heads = 2, sh.head_dim = kAmxSpan, sh.causal = true, sh.dtype = DType::bf16;
    sh.threads = 2;
    ASSERT_TRUE(flash::amx_prefill_serves(Isa::avx512, sh));
    auto kind = [](double x) { return std::isnan(x) ? 0 : std::isinf(x) ? (x > 0 ? 1 : 2) : 3; };
    const i64 d = sh.head_dim;
    for (std::size_t input = 0; input < 3; ++input) {
        const i64 rows = input == 0 ? sh.n_q : sh.n_kv;
        for (i64 row : {i64(0), rows == sh.n_kv ? tiles.kv_block - 1 : rows / 2,
                        rows == sh.n_kv ? tiles.kv_block : rows / 2 + 1, rows - 1})
            for (float special : {std::numeric_limits<float>::quiet_NaN(),
                                  std::numeric_limits<float>::infinity()}) {
                Workload work(Stage::attention, sh);
                work.inputs()[input].set(std::size_t(row * d + row % d), special);
                work.run(*flash);
                const Expected want = expected_output(work);
                int bad = 0;
                for (std::size_t i = 0; i < want.value.size(); ++i)
                    if (kind(work.output().data()[i]) != kind(float(want.value[i])) && bad++ < 3)
                        ADD_FAILURE()
                            << special << " at input " << input << " row " << row << ": output ["
                            << i << "] " << work.output().data()[i] << " want " << want.value[i];
                EXPECT_EQ(bad, 0);
            }
    }
}

}  // namespace
}  // namespace attn::testing

#endif
