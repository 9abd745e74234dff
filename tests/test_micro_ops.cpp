// The building blocks of the simd, omp and flash kernels on their own, for every ISA tier the CPU
// has, each against a scalar definition: packing, the packed matrix product and the softmax of
// rows, on sizes derived from each tier's tiles (at, below, above and past a multiple of MR, NR,
// KC, the vector width and the softmax's row buffer), and every cross-lane or tier-specific
// operation the kernels use, called through the probes of tests/micro_ops.hpp exactly as the
// kernels call it: the horizontal sums and maxima (also of the flash kernel's groups of rows),
// the lane-order fold of the decode path's scores, the non-temporal store, the scaling by 2^n,
// the 8 x 8 shuffle transpose, the query packing with its masked store, and the decode path's
// score and P V tiles, and the widening of bf16 and f16 storage. The exponentials' accuracy and
// clamps have their own test (test_exp.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "attn/buffer.hpp"
#include "attn/dtype.hpp"
#include "attn/isa.hpp"
#include "micro_ops.hpp"
#include "simd/bodies.hpp"
#include "simd/ops.hpp"
#include "tiers.hpp"

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

// Entries of C [m x ldc] that break C = alpha A B (+ C0 with `accumulate`) for A [m x k] (lda)
// and B [k x n] (ldb), row i of A B also scaled by row_scale[i] where it is given: an entry of the
// product outside the fp32 bound of a k-term sum, or a padding column [n, ldc) changed from C0.
int product_errors(i64 m, i64 n, i64 k, const std::vector<float>& a, i64 lda,
                   const std::vector<float>& b, i64 ldb, const std::vector<float>& c,
                   const std::vector<float>& c0, i64 ldc, float alpha, bool accumulate,
                   const float* row_scale = nullptr) {
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
                exact += double(a[i * lda + t]) * b[t * ldb + j];
                magnitude += std::fabs(double(a[i * lda + t]) * b[t * ldb + j]);
            }
            const double factor = double(alpha) * (row_scale ? row_scale[i] : 1.0f);
            exact *= factor, magnitude *= std::fabs(factor);
            if (accumulate) exact += c0[at], magnitude += std::fabs(c0[at]);
            bad += !(std::fabs(c[at] - exact) <= 2.0 * u * double(k + 2) * magnitude + FLT_MIN);
        }
    return bad;
}

class MicroOps : public ::testing::TestWithParam<Isa> {
protected:
    void SetUp() override { ATTN_SKIP_UNLESS_RUNS_HERE(GetParam()); }
    const testing::MicroOpProbes& probes() const { return testing::micro_op_probes(GetParam()); }
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
// counts around NR and depths around KC (several K slices accumulate into one tile), with and
// without a factor per row; C's padding columns stay untouched.
TEST_P(MicroOps, PackedProductWithinErrorBound) {
    const simd::GemmOps& g = simd::gemm_ops(GetParam());
    for (i64 m : around(g.mr))
        for (i64 n : {g.nr - 1, g.nr + 1, 2 * g.nr + 1})
            for (i64 k : around(g.kc))
                for (bool accumulate : {false, true})
                    for (bool per_row : {false, true}) {
                        const float alpha = accumulate ? 0.5f : 1.0f;
                        const i64 lda = k + 3, ldc = n + 2;
                        const std::vector<float> a = random_floats(std::size_t(m * lda), 7),
                                                 b = random_floats(std::size_t(k * n), 8);
                        const std::vector<float> c0 = random_floats(std::size_t(m * ldc), 9);
                        // Distinct factors of both signs, so that a row scaled by its
                        // neighbour's factor is caught.
                        const std::vector<float> row_scale = random_floats(std::size_t(m), 10);
                        Buffer bp(std::size_t(g.packed_size(k, n)), 0);
                        std::vector<float> c = c0;
                        const float* scale = per_row ? row_scale.data() : nullptr;
                        g.pack_b(k, n, b.data(), n, false, bp.data());
                        g.gemm_packed(m, n, k, alpha, a.data(), lda, bp.data(), k * g.nr, c.data(),
                                      ldc, accumulate, scale);
                        const int bad = product_errors(m, n, k, a, lda, b, n, c, c0, ldc, alpha,
                                                       accumulate, scale);
                        EXPECT_EQ(bad, 0)
                            << "m " << m << " n " << n << " k " << k
                            << (accumulate ? " accumulate" : "") << (per_row ? " row-scaled" : "");
                    }
}

// gemm_tiles: the product of an A packed by pack_a (tiles spaced wider than they need, as one K
// slice of a deeper A is) or read in place (rows wider than the slice), and a B either packed
// already or packed by the call as its first row tile multiplies (below MR rows, before the
// product), for row counts around MR, column counts around NR, depths up to KC, overwriting and
// accumulating: C within the fp32 bound of a k-term sum, C's padding columns untouched, and the
// packed B exactly what pack_b lays out.
TEST_P(MicroOps, TiledProductPacksAndMultiplies) {
    const simd::GemmOps& g = simd::gemm_ops(GetParam());
    for (i64 m : {i64(1), g.mr - 1, g.mr, g.mr + 1, 2 * g.mr + 3})
        for (i64 n : {g.nr - 1, g.nr, 3 * g.nr + 5})
            for (i64 k : {i64(1), i64(7), g.kc - 1, g.kc})
                for (bool a_packed : {true, false})
                    for (bool packs : {false, true})
                        for (bool accumulate : {false, true}) {
                            const i64 lda = k + 3, ldb = n + 4, ldc = n + 2;
                            const std::vector<float> a = random_floats(std::size_t(m * lda), 21);
                            const std::vector<float> b = random_floats(std::size_t(k * ldb), 22),
                                                     c0 = random_floats(std::size_t(m * ldc), 23);
                            // Each packed tile's slice is followed by NaN, as a deeper A's next
                            // slice would be; so is each row's slice of an A read in place.
                            const i64 tiles = (m + g.mr - 1) / g.mr, stride = g.mr * (k + 5);
                            Buffer ap(std::size_t(a_packed ? tiles * stride : m * lda), 0);
                            std::fill(ap.span().begin(), ap.span().end(),
                                      std::numeric_limits<float>::quiet_NaN());
                            for (i64 t = 0; a_packed && t < tiles; ++t)
                                g.pack_a(std::min(g.mr, m - t * g.mr), k, a.data() + t * g.mr * lda,
                                         lda, 1.0f, ap.data() + t * stride);
                            for (i64 r = 0; !a_packed && r < m; ++r)
                                std::copy_n(a.data() + r * lda, k, ap.data() + r * lda);
                            Buffer bp(std::size_t(g.packed_size(k, n)), 0), want(bp.size(), 0);
                            g.pack_b(k, n, b.data(), ldb, false, want.data());
                            if (!packs) std::copy_n(want.data(), want.size(), bp.data());
                            std::vector<float> c = c0;
                            g.gemm_tiles(m, n, k, ap.data(), a_packed ? stride : lda, a_packed,
                                         packs ? b.data() : nullptr, ldb, bp.data(), c.data(), ldc,
                                         accumulate, b.data(), packs ? k : 0);
                            const std::string what =
                                "m " + std::to_string(m) + " n " + std::to_string(n) + " k " +
                                std::to_string(k) + (a_packed ? " A packed" : " A in place") +
                                (packs ? " packing" : "") + (accumulate ? " accumulate" : "");
                            int bad = 0;
                            for (std::size_t i = 0; i < bp.size(); ++i)
                                bad += !(bp.data()[i] == want.data()[i]);
                            EXPECT_EQ(bad, 0) << "packed B differs: " << what;
                            bad = product_errors(m, n, k, a, lda, b, ldb, c, c0, ldc, 1.0f,
                                                 accumulate);
                            EXPECT_EQ(bad, 0) << what;
                        }
}

// Y = X W with W read in place (the projections' few-rows path), W stored as T: rows up to the
// path's limit, column counts around the vector width and the 256-column pass, depths around its
// 4-row blocks; W's and Y's padding columns untouched, every output within the fp32 bound of a
// k-term sum of the stored (widened) values.
template <class T> void check_few_rows_product(Isa isa) {
    const simd::GemmOps& g = simd::gemm_ops(isa);
    const i64 w = simd::softmax_ops(isa).width;
    for (i64 m : {i64(1), i64(2), g.direct_rows - 1, g.direct_rows})
        for (i64 n : {w - 1, w + 1, 2 * w, i64(255), i64(256), i64(257), i64(513)})
            for (i64 k : {i64(1), i64(3), i64(4), i64(5), i64(8), i64(67)}) {
                const i64 ldx = k + 1, ldw = n + 5, ldy = n + 2;
                const std::vector<float> x = random_floats(std::size_t(m * ldx), 11),
                                         y0 = random_floats(std::size_t(m * ldy), 13);
                std::vector<float> b = random_floats(std::size_t(k * ldw), 12);
                std::vector<T> stored(b.size());
                for (std::size_t i = 0; i < b.size(); ++i) {
                    stored[i] = from_float<T>(b[i]);
                    b[i] = to_float(stored[i]);
                }
                std::vector<float> y = y0;
                g.few_rows(m, n, k, x.data(), ldx, stored.data(), ldw, y.data(), ldy);
                const int bad = product_errors(m, n, k, x, ldx, b, ldw, y, y0, ldy, 1.0f, false);
                EXPECT_EQ(bad, 0) << to_string(dtype_of<T>()) << " m " << m << " n " << n << " k "
                                  << k;
            }
}

TEST_P(MicroOps, FewRowsProductWithinErrorBound) {
    check_few_rows_product<float>(GetParam());
    check_few_rows_product<bf16>(GetParam());
    check_few_rows_product<f16>(GetParam());
}

// Y = X W by the few-rows projection, which reads W in parts of its rows and may split the
// columns among threads: depths with one part and with several, column counts that leave a
// thread spans of their own (3 threads over 4 parts), every output within the fp32 bound and the
// same bits at 1, 2 and 3 threads; no rows of W (k = 0) give zeros.
template <class T> void check_few_rows_projection(Isa isa) {
    const simd::GemmOps& g = simd::gemm_ops(isa);
    for (i64 m : {i64(1), i64(3), g.direct_rows})
        for (i64 n : {i64(17), i64(513)})
            for (i64 k : {i64(0), i64(1), i64(67), i64(300)}) {
                const std::vector<float> x = random_floats(std::size_t(m * k + 1), 31),
                                         y0(std::size_t(m * n), -1.0f);
                std::vector<float> b = random_floats(std::size_t(k * n + 1), 32);
                std::vector<T> stored(b.size());
                for (std::size_t i = 0; i < b.size(); ++i) {
                    stored[i] = from_float<T>(b[i]);
                    b[i] = to_float(stored[i]);
                }
                std::vector<float> one = y0;
                simd::few_rows_projection(isa, 1, m, n, k, x.data(), stored.data(), one.data());
                const int bad = product_errors(m, n, k, x, k, b, n, one, y0, n, 1.0f, false);
                EXPECT_EQ(bad, 0) << to_string(dtype_of<T>()) << " m " << m << " n " << n << " k "
                                  << k;
                for (int threads : {2, 3}) {
                    std::vector<float> y = y0;
                    simd::few_rows_projection(isa, threads, m, n, k, x.data(), stored.data(),
                                              y.data());
                    EXPECT_EQ(0, std::memcmp(y.data(), one.data(), y.size() * sizeof(float)))
                        << to_string(dtype_of<T>()) << " threads " << threads << " m " << m << " n "
                        << n << " k " << k;
                }
            }
}

TEST_P(MicroOps, FewRowsProjectionSameBitsAtAnyThreadCount) {
    check_few_rows_projection<float>(GetParam());
    check_few_rows_projection<bf16>(GetParam());
    check_few_rows_projection<f16>(GetParam());
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

// lane_sums: lane i is the sum of row i. Rows of distinct small integers make every sum exact
// and different, so any lane out of place shows; random rows check the rounding too.
TEST_P(MicroOps, LaneSumsPutRowIInLaneI) {
    const testing::MicroOpProbes& p = probes();
    const i64 w = p.width;
    std::vector<float> rows(static_cast<std::size_t>(w * w)), out(static_cast<std::size_t>(w));
    for (i64 i = 0; i < w; ++i)
        for (i64 j = 0; j < w; ++j) rows[std::size_t(i * w + j)] = float(1 + i * w + (j * 7) % w);
    p.lane_sums(rows.data(), out.data());
    for (i64 i = 0; i < w; ++i) {
        double want = 0;
        for (i64 j = 0; j < w; ++j) want += rows[std::size_t(i * w + j)];
        EXPECT_EQ(out[std::size_t(i)], want) << "lane " << i;
    }
    rows = random_floats(rows.size(), 21);
    p.lane_sums(rows.data(), out.data());
    for (i64 i = 0; i < w; ++i) {
        double want = 0, magnitude = 0;
        for (i64 j = 0; j < w; ++j)
            want += rows[std::size_t(i * w + j)],
                magnitude += std::fabs(rows[std::size_t(i * w + j)]);
        EXPECT_LE(std::fabs(out[std::size_t(i)] - want), u * double(w) * magnitude) << "lane " << i;
    }
}

// hsum and hmax read every lane: integers sum exactly, and the maximum is found in each lane.
TEST_P(MicroOps, HorizontalSumAndMaximumReadEveryLane) {
    const testing::MicroOpProbes& p = probes();
    const i64 w = p.width;
    std::vector<float> v(static_cast<std::size_t>(w));
    for (i64 j = 0; j < w; ++j) v[std::size_t(j)] = float(1 << j);  // each lane its own bit
    EXPECT_EQ(p.hsum(v.data()), float((1 << w) - 1));
    for (i64 at = 0; at < w; ++at) {
        std::vector<float> x = random_floats(std::size_t(w), 23 + std::uint64_t(at));
        x[std::size_t(at)] = 5.0f;
        EXPECT_EQ(p.hmax(x.data()), 5.0f) << "maximum in lane " << at;
    }
}

// stream_aligned stores every lane in place and nothing past the vector.
TEST_P(MicroOps, StreamingStoreWritesEveryLaneInPlace) {
    const testing::MicroOpProbes& p = probes();
    const i64 w = p.width;
    std::vector<float> v(static_cast<std::size_t>(w));
    for (i64 j = 0; j < w; ++j) v[std::size_t(j)] = float(j + 1);
    Buffer out(std::size_t(2 * w), 0);  // 64-byte aligned
    std::fill(out.span().begin(), out.span().end(), -1.0f);
    p.stream_aligned(out.data(), v.data());
    for (i64 j = 0; j < w; ++j) EXPECT_EQ(out.data()[j], v[std::size_t(j)]) << "lane " << j;
    for (i64 j = w; j < 2 * w; ++j) EXPECT_EQ(out.data()[j], -1.0f) << "past the vector at " << j;
}

// times_pow2 multiplies by exactly 2^n for every n the exponentials produce, in every lane.
TEST_P(MicroOps, TimesPow2ScalesByExactPowersOfTwo) {
    const testing::MicroOpProbes& p = probes();
    const i64 w = p.width;
    std::vector<float> mant(static_cast<std::size_t>(w)), n(static_cast<std::size_t>(w)),
        out(static_cast<std::size_t>(w));
    int bad = 0;
    for (int first = -126; first <= 127; first += int(w)) {
        for (i64 j = 0; j < w; ++j) {
            n[std::size_t(j)] = float(std::min<i64>(127, first + (j * 5) % w));
            mant[std::size_t(j)] = 1.0f + float(j) / float(w);  // in [1, 2): p 2^n stays normal
        }
        p.times_pow2(mant.data(), n.data(), out.data());
        for (i64 j = 0; j < w; ++j)
            bad +=
                !(out[std::size_t(j)] == std::ldexp(mant[std::size_t(j)], int(n[std::size_t(j)])));
    }
    EXPECT_EQ(bad, 0);
}

// dot over lengths around the width: the vector part, the horizontal sum and the scalar tail.
TEST_P(MicroOps, DotWithinErrorBound) {
    const testing::MicroOpProbes& p = probes();
    for (i64 n = 0; n <= 4 * p.width + 1; ++n) {
        const std::vector<float> a = random_floats(std::size_t(n) + 1, 31),
                                 b = random_floats(std::size_t(n) + 1, 32);
        double want = 0, magnitude = 0;
        for (i64 j = 0; j < n; ++j)
            want += double(a[std::size_t(j)]) * b[std::size_t(j)],
                magnitude += std::fabs(double(a[std::size_t(j)]) * b[std::size_t(j)]);
        EXPECT_LE(std::fabs(p.dot(a.data(), b.data(), n) - want),
                  2.0 * u * double(n + 1) * magnitude)
            << "n " << n;
    }
}

// max_n finds the maximum wherever it is: in each of the four interleaved maxima, the single
// vector loop and the scalar tail; -inf for an empty or fully masked row.
TEST_P(MicroOps, MaxFindsTheMaximumAtEveryPosition) {
    const testing::MicroOpProbes& p = probes();
    const float neg_inf = -std::numeric_limits<float>::infinity();
    int bad = 0;
    for (i64 n = 1; n <= 9 * p.width + 1; ++n)
        for (i64 at = 0; at < n; ++at) {
            std::vector<float> x = random_floats(std::size_t(n), 41 + std::uint64_t(n));
            x[std::size_t(at)] = 5.0f;
            bad += !(p.max_n(x.data(), n) == 5.0f);
        }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(p.max_n(nullptr, 0), neg_inf);
    const std::vector<float> masked(std::size_t(2 * p.width + 3), neg_inf);
    EXPECT_EQ(p.max_n(masked.data(), i64(masked.size())), neg_inf);
}

// scale_n multiplies every entry once, vector part and tail alike (the same rounding as a scalar
// multiplication).
TEST_P(MicroOps, ScaleMultipliesEveryEntry) {
    const testing::MicroOpProbes& p = probes();
    for (i64 n = 1; n <= 2 * p.width + 1; ++n) {
        const std::vector<float> x0 = random_floats(std::size_t(n), 51);
        std::vector<float> x = x0;
        p.scale_n(x.data(), n, 0.375f);
        for (i64 j = 0; j < n; ++j)
            EXPECT_EQ(x[std::size_t(j)], x0[std::size_t(j)] * 0.375f) << "n " << n << " at " << j;
    }
}

// exp_shifted_sum, e^x and the flash kernel's 2^x: each entry within 2 ulp of the exact value of
// its float argument, the sum within its bound; lengths around the width, so the tail vector runs
// too. e^x gives exactly 0 for a masked (-inf) entry; 2^x, which the kernel only calls on scores
// it sees, gives its clamp 2^-125 below -125.
TEST_P(MicroOps, ShiftedExponentialsAndTheirSum) {
    const testing::MicroOpProbes& p = probes();
    const float neg_inf = -std::numeric_limits<float>::infinity();
    for (bool base2 : {false, true})
        for (i64 n : around(p.width)) {
            const float shift = 3.5f;
            std::vector<float> s = random_floats(std::size_t(n), 61, -30.0f, shift);
            s[std::size_t(n / 2)] = base2 ? -200.0f : neg_inf;
            std::vector<float> out(std::size_t(n) + 1, -1.0f);
            const float sum = p.exp_shifted_sum(base2, s.data(), out.data(), n, shift);
            double want_sum = 0;
            for (i64 j = 0; j < n; ++j) {
                const double x = double(s[std::size_t(j)] - shift);
                const double want = base2 ? std::exp2(std::max(x, -125.0)) : std::exp(x);
                want_sum += want;
                EXPECT_LE(std::fabs(out[std::size_t(j)] - want), 2.0 * u * want)
                    << (base2 ? "2^" : "e^") << x << " n " << n << " at " << j;
            }
            EXPECT_EQ(out[std::size_t(n)], -1.0f) << "written past n " << n;
            EXPECT_LE(std::fabs(sum - want_sum), 2.0 * u * double(n + 2) * want_sum)
                << (base2 ? "2^x" : "e^x") << " n " << n;
        }
}

// max_rows: each row's own maximum wherever it sits, vector part or tail, whatever the other
// rows hold; -inf for no entries or masked rows.
TEST_P(MicroOps, MaxRowsFindEachRowsMaximum) {
    const testing::MicroOpProbes& p = probes();
    const float neg_inf = -std::numeric_limits<float>::infinity();
    const i64 rows = p.row_group;
    int bad = 0;
    for (i64 n = 1; n <= 3 * p.width + 1; ++n) {
        const i64 ld = n + 5;
        for (i64 r = 0; r < rows; ++r)
            for (i64 at = 0; at < n; ++at) {
                std::vector<float> x = random_floats(std::size_t(rows * ld), 43 + std::uint64_t(n));
                x[std::size_t(r * ld + at)] = 5.0f;
                x[std::size_t(r * ld + n)] = 9.0f;  // past the row: never read
                std::vector<float> m(static_cast<std::size_t>(rows));
                p.max_rows(x.data(), ld, n, m.data());
                for (i64 i = 0; i < rows; ++i) {
                    const auto row = x.begin() + i * ld;
                    bad += !(m[std::size_t(i)] == *std::max_element(row, row + n));
                }
                bad += !(m[std::size_t(r)] == 5.0f);
            }
    }
    EXPECT_EQ(bad, 0);
    std::vector<float> m(std::size_t(rows), 0.0f);
    p.max_rows(nullptr, 0, 0, m.data());
    EXPECT_EQ(std::count(m.begin(), m.end(), neg_inf), rows);
    const std::vector<float> masked(std::size_t(rows * (p.width + 3)), neg_inf);
    p.max_rows(masked.data(), p.width + 3, p.width + 3, m.data());
    EXPECT_EQ(std::count(m.begin(), m.end(), neg_inf), rows);
}

// exp2_shifted_sums: every row within 2 ulp of 2^(x - its shift), the same bits and sum as the
// one-row exp_shifted_sum, which the kernel calls on the rows it takes one at a time, and nothing
// written between rows.
TEST_P(MicroOps, RowGroupExponentialsMatchOneRowAtATime) {
    const testing::MicroOpProbes& p = probes();
    const i64 rows = p.row_group;
    for (i64 n : around(p.width)) {
        const i64 ld = n + 3;
        std::vector<float> x = random_floats(std::size_t(rows * ld), 63, -30.0f, 0.0f);
        std::vector<float> shift(static_cast<std::size_t>(rows));
        for (i64 r = 0; r < rows; ++r) {
            shift[std::size_t(r)] = 0.25f * float(r + 1);
            x[std::size_t(r * ld + n / 2)] = -200.0f;  // the clamp: 2^-125
            for (i64 j = n; j < ld; ++j) x[std::size_t(r * ld + j)] = -7.0f;
        }
        std::vector<float> got = x, sums(static_cast<std::size_t>(rows));
        p.exp2_shifted_sums(got.data(), ld, n, shift.data(), sums.data());
        for (i64 r = 0; r < rows; ++r) {
            const float* in = x.data() + r * ld;
            const float* row = got.data() + r * ld;
            std::vector<float> one(static_cast<std::size_t>(n));
            const float sum = p.exp_shifted_sum(true, in, one.data(), n, shift[std::size_t(r)]);
            EXPECT_EQ(sums[std::size_t(r)], sum) << "n " << n << " row " << r;
            int bad = 0;
            for (i64 j = 0; j < n; ++j) {
                const double want =
                    std::exp2(std::max(double(in[j] - shift[std::size_t(r)]), -125.0));
                bad += !(row[j] == one[std::size_t(j)]);
                bad += !(std::fabs(row[j] - want) <= 2.0 * u * want);
            }
            for (i64 j = n; j < ld; ++j) bad += !(row[j] == -7.0f);
            EXPECT_EQ(bad, 0) << "n " << n << " row " << r;
        }
    }
}

// pack_a's layout: tile t holds rows [t MR, t MR + MR) of scale * A k-major, zero past M, and
// nothing is written past the packed size (AVX2 stores the buffer's last run masked, AVX-512
// copies it). Depths at and around the 8 k-steps of AVX2's and the 16 of AVX-512's transposes.
TEST_P(MicroOps, PackALaysOutScaledTilesOfMrRows) {
    const simd::GemmOps& g = simd::gemm_ops(GetParam());
    const float scale = 0.75f;
    for (i64 m : around(g.mr))
        for (i64 k : {1, 7, 8, 9, 15, 16, 17, 24, 32, 33}) {
            const i64 lda = k + 3, tiles = (m + g.mr - 1) / g.mr, size = tiles * g.mr * k;
            const std::vector<float> a = random_floats(std::size_t(m * lda), 71);
            std::vector<float> out(std::size_t(size + 16), -7.0f);
            g.pack_a(m, k, a.data(), lda, scale, out.data());
            int bad = 0;
            for (i64 t = 0; t < tiles; ++t)
                for (i64 c = 0; c < k; ++c)
                    for (i64 r = 0; r < g.mr; ++r) {
                        const i64 row = t * g.mr + r;
                        const float want = row < m ? scale * a[std::size_t(row * lda + c)] : 0.0f;
                        bad += !(out[std::size_t(t * g.mr * k + c * g.mr + r)] == want);
                    }
            for (i64 j = size; j < size + 16; ++j) bad += !(out[std::size_t(j)] == -7.0f);
            EXPECT_EQ(bad, 0) << "m " << m << " k " << k;
        }
}

// Entries of the score tile s [rq x lds] that break s[r][j] = q_r . k_j for q [rq x d] and the bk
// keys k [bk x d]: a score outside the fp32 bound of a d-term sum, or one past the block that is
// not the -9 it was filled with.
int score_tile_errors(int rq, i64 bk, i64 d, i64 lds, const std::vector<float>& q,
                      const std::vector<float>& k, const std::vector<float>& s) {
    int bad = 0;
    for (i64 r = 0; r < rq; ++r)
        for (i64 j = 0; j < lds; ++j) {
            const float got = s[std::size_t(r * lds + j)];
            if (j >= bk) {
                bad += !(got == -9.0f);
                continue;
            }
            double want = 0, magnitude = 0;
            for (i64 c = 0; c < d; ++c) {
                const double x = double(q[std::size_t(r * d + c)]) * k[std::size_t(j * d + c)];
                want += x, magnitude += std::fabs(x);
            }
            bad += !(std::fabs(got - want) <= 2.0 * u * double(d + 1) * magnitude);
        }
    return bad;
}

// Entries of acc [rows x d] that break acc = acc0 + P V for P [rows x lds] over bk keys and
// V [bk x d]: outside the fp32 bound of a (bk + 1)-term sum.
int pv_tile_errors(int rows, i64 bk, i64 d, i64 lds, const std::vector<float>& pr,
                   const std::vector<float>& v, const std::vector<float>& acc0,
                   const std::vector<float>& acc) {
    int bad = 0;
    for (i64 r = 0; r < rows; ++r)
        for (i64 c = 0; c < d; ++c) {
            double want = acc0[std::size_t(r * d + c)], magnitude = std::fabs(want);
            for (i64 j = 0; j < bk; ++j) {
                const double x = double(pr[std::size_t(r * lds + j)]) * v[std::size_t(j * d + c)];
                want += x, magnitude += std::fabs(x);
            }
            bad += !(std::fabs(acc[std::size_t(r * d + c)] - want) <=
                     2.0 * u * double(bk + 2) * magnitude);
        }
    return bad;
}

// bf16 bits of n random values in [-1, 1), and the values they hold.
std::vector<std::uint16_t> random_bf16(std::size_t n, std::uint64_t seed,
                                       std::vector<float>& held) {
    const std::vector<float> x = random_floats(n, seed);
    std::vector<std::uint16_t> bits(n);
    held.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const bf16 b = from_float<bf16>(x[i]);
        bits[i] = b.bits, held[i] = to_float(b);
    }
    return bits;
}

// The decode path's score tile: every (row, key) dot product in its place, for 1, 2 and 4 rows,
// key counts around a tile (W / rows keys) and head sizes around the width; the scores past the
// block are not touched.
TEST_P(MicroOps, DecodeScoreTileWithinErrorBound) {
    const testing::MicroOpProbes& p = probes();
    const i64 w = p.width;
    for (int rq : {1, 2, 4})
        for (i64 bk : around(w / rq))
            for (i64 d : {i64(1), w - 1, w, w + 1, 2 * w + 1, 4 * w}) {
                const i64 lds = bk + 5;
                const std::vector<float> q = random_floats(std::size_t(rq * d), 91),
                                         k = random_floats(std::size_t(bk * d), 92);
                std::vector<float> s(std::size_t(rq * lds), -9.0f);
                p.dot_rows(rq, q.data(), k.data(), bk, d, s.data(), lds,
                           reinterpret_cast<const char*>(k.data() + bk * d));
                EXPECT_EQ(score_tile_errors(rq, bk, d, lds, q, k, s), 0)
                    << rq << " rows, " << bk << " keys, d " << d;
            }
}

// The decode path's P V tile: acc += P V for 1, 2 and 4 rows, key counts around its 16-key
// chunks and head sizes around the width and the register tile's columns.
TEST_P(MicroOps, DecodePvTileWithinErrorBound) {
    const testing::MicroOpProbes& p = probes();
    const i64 w = p.width;
    for (int rows : {1, 2, 4})
        for (i64 bk : {1, 15, 16, 17, 40})
            for (i64 d : {i64(1), w - 1, w, w + 1, 2 * w + 3, 4 * w, 4 * w + 1, 8 * w + 1}) {
                const i64 lds = bk + 3;
                const std::vector<float> pr = random_floats(std::size_t(rows * lds), 101, 0.0f,
                                                            1.0f),
                                         v = random_floats(std::size_t(bk * d), 102),
                                         acc0 = random_floats(std::size_t(rows * d), 103);
                std::vector<float> acc = acc0;
                p.pv_rows(rows, pr.data(), lds, v.data(), bk, d, acc.data(),
                          reinterpret_cast<const char*>(v.data() + bk * d));
                EXPECT_EQ(pv_tile_errors(rows, bk, d, lds, pr, v, acc0, acc), 0)
                    << rows << " rows, " << bk << " keys, d " << d;
            }
}

// The decode score tile on a bf16 cache in EvenOdd order: every (row, key) dot product of the
// query rows with the stored keys, for 1, 2 and 4 rows, key counts around a tile and head sizes
// of one to four runs of 2W values.
TEST_P(MicroOps, EvenOddScoreTileWithinErrorBound) {
    const testing::MicroOpProbes& p = probes();
    const i64 w = p.width;
    for (int rq : {1, 2, 4})
        for (i64 bk : around(w / rq))
            for (i64 d : {2 * w, 4 * w, 6 * w, 8 * w}) {
                const i64 lds = bk + 5;
                const std::vector<float> q = random_floats(std::size_t(rq * d), 111);
                std::vector<float> k;
                const std::vector<std::uint16_t> k_bits = random_bf16(std::size_t(bk * d), 112, k);
                std::vector<float> s(std::size_t(rq * lds), -9.0f);
                p.dot_rows_even_odd(rq, q.data(), k_bits.data(), bk, d, s.data(), lds);
                EXPECT_EQ(score_tile_errors(rq, bk, d, lds, q, k, s), 0)
                    << rq << " rows, " << bk << " keys, d " << d;
            }
}

// The decode P V tile on a bf16 cache in EvenOdd order: acc += P V for 1, 2 and 4 rows, key
// counts around its 16-key chunks and head sizes of one to four runs of 2W values (past the
// register tile's columns).
TEST_P(MicroOps, EvenOddPvTileWithinErrorBound) {
    const testing::MicroOpProbes& p = probes();
    const i64 w = p.width;
    for (int rows : {1, 2, 4})
        for (i64 bk : {1, 15, 16, 17, 40})
            for (i64 d : {2 * w, 4 * w, 6 * w, 8 * w}) {
                const i64 lds = bk + 3;
                const std::vector<float> pr = random_floats(std::size_t(rows * lds), 121, 0.0f,
                                                            1.0f),
                                         acc0 = random_floats(std::size_t(rows * d), 123);
                std::vector<float> v;
                const std::vector<std::uint16_t> v_bits = random_bf16(std::size_t(bk * d), 122, v);
                std::vector<float> acc = acc0;
                p.pv_rows_even_odd(rows, pr.data(), lds, v_bits.data(), bk, d, acc.data());
                EXPECT_EQ(pv_tile_errors(rows, bk, d, lds, pr, v, acc0, acc), 0)
                    << rows << " rows, " << bk << " keys, d " << d;
            }
}

// The 8 x 8 shuffle transpose, on the tiers that have one (AVX2: the packing of K^T and of the
// queries).
class ShuffleTranspose : public MicroOps {};

TEST_P(ShuffleTranspose, Transpose8x8) {
    const testing::MicroOpProbes& p = probes();
    const i64 ld = 11, dst_ld = 13;
    const std::vector<float> src = random_floats(std::size_t(8 * ld), 81);
    std::vector<float> dst(std::size_t(8 * dst_ld), -1.0f);
    p.transpose_8x8(src.data(), ld, dst.data(), dst_ld);
    for (i64 r = 0; r < 8; ++r)
        for (i64 c = 0; c < dst_ld; ++c)
            EXPECT_EQ(dst[std::size_t(r * dst_ld + c)],
                      c < 8 ? src[std::size_t(c * ld + r)] : -1.0f)
                << "dst row " << r << " column " << c;
}

// The widening of 16-bit storage against attn::to_float: every one of the 65,536 patterns of
// bf16 and of f16 (zeros, subnormals, infinities and NaNs included), from an address that is not
// vector-aligned, with a length that leaves a scalar tail; equal bits, or NaN for NaN.
TEST_P(MicroOps, WidensEveryBf16AndF16PatternExactly) {
    constexpr i64 kPatterns = 1 << 16;
    std::vector<std::uint16_t> src(kPatterns + 1);
    for (i64 i = 0; i < kPatterns; ++i) src[std::size_t(i + 1)] = std::uint16_t(i);
    for (bool brain : {true, false}) {
        std::vector<float> out(kPatterns, -1.0f);
        probes().widen(brain, src.data() + 1, kPatterns - 3, out.data());
        int bad = 0;
        for (i64 i = 0; i < kPatterns - 3; ++i) {
            const std::uint16_t h = std::uint16_t(i);
            const float want = brain ? to_float(bf16{h}) : to_float(f16{h});
            const float got = out[std::size_t(i)];
            const bool ok = std::isnan(want) ? std::isnan(got)
                                             : std::bit_cast<std::uint32_t>(got) ==
                                                   std::bit_cast<std::uint32_t>(want);
            if (!ok && bad++ < 5)
                ADD_FAILURE() << (brain ? "bf16" : "f16") << " 0x" << std::hex << i << ": got "
                              << got << " want " << want;
        }
        EXPECT_EQ(bad, 0) << (brain ? "bf16" : "f16");
        EXPECT_EQ(out[std::size_t(kPatterns - 3)], -1.0f) << "wrote past n";
    }
}

// load_bf16_pairs against attn::to_float: every one of the 65,536 bf16 patterns, at an even and
// at an odd place of a pair, from addresses that are not vector-aligned; equal bits, or NaN for
// NaN.
TEST_P(MicroOps, WidensBf16PairsIntoEvenAndOddExactly) {
    constexpr i64 kPatterns = 1 << 16;
    const i64 w = probes().width;
    // Pattern i at place i, and again shifted by one place, so each pattern is read as both the
    // even and the odd value of a pair.
    std::vector<std::uint16_t> src(2 * kPatterns + 2 * w + 2);
    for (i64 i = 0; i < kPatterns; ++i)
        src[std::size_t(1 + i)] = src[std::size_t(1 + kPatterns + 2 * w + 1 + i)] =
            std::uint16_t(i);
    std::vector<float> even(static_cast<std::size_t>(w)), odd(static_cast<std::size_t>(w));
    int bad = 0;
    auto check = [&](float got, std::uint16_t h) {
        const float want = to_float(bf16{h});
        const bool ok = std::isnan(want) ? std::isnan(got)
                                         : std::bit_cast<std::uint32_t>(got) ==
                                               std::bit_cast<std::uint32_t>(want);
        if (!ok && bad++ < 5)
            ADD_FAILURE() << "bf16 0x" << std::hex << h << ": got " << got << " want " << want;
    };
    for (const i64 start : {i64(1), 1 + kPatterns + 2 * w}) {
        for (i64 at = start; at + 2 * w <= start + kPatterns + 1; at += 2 * w) {
            probes().widen_bf16_pairs(src.data() + at, even.data(), odd.data());
            for (i64 i = 0; i < w; ++i) {
                check(even[std::size_t(i)], src[std::size_t(at + 2 * i)]);
                check(odd[std::size_t(i)], src[std::size_t(at + 2 * i + 1)]);
            }
        }
    }
    EXPECT_EQ(bad, 0);
}

// A tier's name as the test name's suffix.
std::string tier_name(const ::testing::TestParamInfo<Isa>& info) { return to_string(info.param); }

INSTANTIATE_TEST_SUITE_P(Tiers, MicroOps,
                         ::testing::ValuesIn(isa_tiers().begin(), isa_tiers().end()), tier_name);

std::vector<Isa> tiers_with_transpose() {
    std::vector<Isa> out;
    for (Isa tier : isa_tiers())
        if (testing::micro_op_probes(tier).transpose_8x8) out.push_back(tier);
    return out;
}

INSTANTIATE_TEST_SUITE_P(Tiers, ShuffleTranspose, ::testing::ValuesIn(tiers_with_transpose()),
                         tier_name);
// aarch64's tiers have no shuffle transpose: none of its cases exists there.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ShuffleTranspose);

}  // namespace

namespace testing {

const MicroOpProbes& micro_op_probes(Isa tier) {
    switch (tier) {
#define ATTN_ISA(name, flags, feature, feature2) \
    case Isa::name:                              \
        return micro_op_probes_for<Isa::name>();
#include "attn/isa_tiers.inc"
#undef ATTN_ISA
        default:
            throw std::invalid_argument(std::string("no micro-op probes for ") + to_string(tier));
    }
}

}  // namespace testing
}  // namespace attn
