// The avx512 tier's bf16 dot-product blocks (src/flash/bf16_dot.hpp) against scalar definitions:
// the rounding of fp32 to bf16 pairs, the two packings, the product over every row count of the
// register tile and every column count of a strip, and the decode path's two products; the bf16
// projection by them (src/simd/dot_projection.hpp) at its tiles' edges; and flash's bf16 prefill
// and decode and the projection against their widening paths on the same shapes. They run only
// where the CPU has AVX512_BF16; elsewhere each test says it was skipped (and the run's account
// says so). x86-64 only: aarch64 has no such tier.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
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
#include "flash/bf16_dot.hpp"
#include "flash/flash.hpp"
#include "simd/amx.hpp"
#include "simd/dot_projection.hpp"

#if defined(__x86_64__)

namespace attn::testing {
namespace {

using i64 = std::int64_t;

#define ATTN_SKIP_WITHOUT_BF16_DOT() \
    if (!cpu_has_bf16_dot()) GTEST_SKIP() << "this CPU lacks AVX512_BF16"

// The conversion instruction's definition: round to nearest even (attn::from_float), an fp32
// subnormal read as a zero of its sign, a NaN kept a NaN.
std::uint16_t bf16_by_definition(float x) {
    if (std::isnan(x)) return 0x7FC0;
    if (x != 0.0f && std::fabs(x) < std::numeric_limits<float>::min())
        return std::signbit(x) ? 0x8000 : 0x0000;
    return from_float<bf16>(x).bits;
}

// The choice of products: ATTNBENCH_BF16_DOT's 0 and 1 force it; otherwise the measured rate of
// vdpbf16ps over the FMA's decides, at kBf16DotPays.
TEST(Bf16Dot, ChoiceFollowsTheVariableThenTheMeasuredRate) {
    EXPECT_FALSE(prefer_bf16_dot("0", 2.0));
    EXPECT_TRUE(prefer_bf16_dot("1", 0.5));
    EXPECT_TRUE(prefer_bf16_dot(nullptr, kBf16DotPays));
    EXPECT_TRUE(prefer_bf16_dot("", 2.0));
    EXPECT_FALSE(prefer_bf16_dot(nullptr, 0.5));
    EXPECT_FALSE(prefer_bf16_dot("yes", kBf16DotPays * 0.99));
    EXPECT_FALSE(prefer_bf16_dot(nullptr, 0.0));
}

// The switches' variables: "1" on, "0" off, anything else (or nothing) left to the code.
TEST(Bf16Dot, PathSwitchReadsOnlyZeroAndOne) {
    EXPECT_EQ(path_switch("1"), PathSwitch::on);
    EXPECT_EQ(path_switch("0"), PathSwitch::off);
    EXPECT_EQ(path_switch(nullptr), PathSwitch::unset);
    EXPECT_EQ(path_switch(""), PathSwitch::unset);
    EXPECT_EQ(path_switch("01"), PathSwitch::unset);
    EXPECT_EQ(path_switch("yes"), PathSwitch::unset);
}

// The rate is measured where the CPU has vdpbf16ps, and reads between an eighth and eight times
// the FMA's (every CPU issues one or the other within those bounds); elsewhere it is 0 and the
// products are never preferred.
TEST(Bf16Dot, RateMeasuredOnlyWhereTheCpuHasThem) {
    const double rate = bf16_dot_rate_over_fma();
    if (cpu_has_bf16_dot()) {
        EXPECT_GT(rate, 0.125);
        EXPECT_LT(rate, 8.0);
        EXPECT_EQ(bf16_dot_rate_over_fma(), rate) << "measured once per process";
    } else {
        EXPECT_EQ(rate, 0.0);
        EXPECT_FALSE(bf16_dot_preferred());
    }
}

TEST(Bf16Dot, RoundsPairsAsTheDefinition) {
    ATTN_SKIP_WITHOUT_BF16_DOT();
    std::mt19937 rng(7);
    std::vector<float> x;
    // Ties and their neighbours, subnormals, the largest finite values, infinities and NaNs.
    for (std::uint32_t hi : {0x3F80u, 0x3F81u, 0x7F7Fu, 0x0001u, 0x8080u, 0x0080u})
        for (std::uint32_t lo : {0x0000u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu})
            x.push_back(std::bit_cast<float>(hi << 16 | lo));
    for (float v : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::max(),
                    -0.0f, 1e-40f, -1e-40f})
        x.push_back(v);
    std::uniform_real_distribution<float> any(-1e3f, 1e3f);
    while (x.size() < 101) x.push_back(any(rng));  // an odd count: the last pair's top is zero
    for (i64 n = 1; n <= i64(x.size()); n += (n < 40 ? 1 : 19)) {
        std::vector<std::uint32_t> out(std::size_t(n / 2 + 2), 0xDEADBEEF);
        flash::round_to_bf16_pairs(x.data(), n, out.data());
        for (i64 i = 0; i < (n + 1) / 2 * 2; ++i) {
            const std::uint16_t got = std::uint16_t(out[std::size_t(i / 2)] >> (16 * (i % 2)));
            const std::uint16_t want = i < n ? bf16_by_definition(x[std::size_t(i)]) : 0;
            const bool nan = (want & 0x7FFF) > 0x7F80;
            EXPECT_TRUE(nan ? (got & 0x7FFF) > 0x7F80 : got == want)
                << "n " << n << " element " << i << ": got 0x" << std::hex << got << " want 0x"
                << want;
        }
        EXPECT_EQ(out[std::size_t((n + 1) / 2)], 0xDEADBEEF) << "wrote past the pairs, n " << n;
    }
}

// count bf16 values drawn uniformly from [-2, 2) by rng.
std::vector<bf16> uniform_bf16(i64 count, std::mt19937& rng) {
    std::uniform_real_distribution<float> any(-2.0f, 2.0f);
    std::vector<bf16> v(static_cast<std::size_t>(count));
    for (auto& e : v) e = from_float<bf16>(any(rng));
    return v;
}

std::uint32_t* aligned64(std::uint32_t* p) {
    return reinterpret_cast<std::uint32_t*>((reinterpret_cast<std::uintptr_t>(p) + 63) / 64 * 64);
}

// A [m x k] times B [k x n] from bf16 values: both packings of B against the sum in double.
TEST(Bf16Dot, ProductMatchesTheDefinitionAtEveryTileEdge) {
    ATTN_SKIP_WITHOUT_BF16_DOT();
    const i64 strip = flash::bf16_dot_strip();
    std::mt19937 rng(11);
    auto draw = [&](i64 count) { return uniform_bf16(count, rng); };
    int checked = 0;
    for (i64 m : {i64(1), i64(5), i64(11), i64(12), i64(13), i64(25)})
        for (i64 n :
             {i64(1), i64(15), i64(16), i64(17), strip - 1, strip, strip + 1, 2 * strip + 3})
            for (i64 k : {i64(1), i64(2), i64(7), i64(64), i64(129)}) {
                const i64 pairs = (k + 1) / 2, strips = (n + strip - 1) / strip;
                const std::vector<bf16> a = draw(m * k), b = draw(k * n), bt = [&] {
                    std::vector<bf16> t(std::size_t(n * k));
                    for (i64 i = 0; i < k; ++i)
                        for (i64 j = 0; j < n; ++j)
                            t[std::size_t(j * k + i)] = b[std::size_t(i * n + j)];
                    return t;
                }();
                std::vector<std::uint32_t> ap(std::size_t(m * pairs));
                for (i64 r = 0; r < m; ++r)
                    for (i64 p = 0; p < pairs; ++p) {
                        const std::uint32_t lo = a[std::size_t(r * k + 2 * p)].bits;
                        const std::uint32_t hi =
                            2 * p + 1 < k ? a[std::size_t(r * k + 2 * p + 1)].bits : 0;
                        ap[std::size_t(r * pairs + p)] = lo | hi << 16;
                    }
                // The packings write 64-byte-aligned strips (as the workspace gives them).
                const std::size_t words = std::size_t(strips * pairs * strip);
                std::vector<std::uint32_t> rows_raw(words + 16), cols_raw(words + 16);
                std::uint32_t* by_rows = aligned64(rows_raw.data());
                std::uint32_t* by_cols = aligned64(cols_raw.data());
                flash::pack_pairs_interleaved(k, n, b.data(), n, by_rows);
                flash::pack_pairs_transposed(n, k, bt.data(), k, by_cols);
                for (const std::uint32_t* packed : {by_rows, by_cols})
                    for (bool accumulate : {false, true}) {
                        const i64 ldc = n + 3;
                        std::vector<float> c(std::size_t(m * ldc), 0.5f);
                        flash::bf16_dot_product(m, n, pairs, ap.data(), pairs, packed,
                                                pairs * strip, c.data(), ldc, accumulate);
                        for (i64 r = 0; r < m; ++r)
                            for (i64 j = 0; j < ldc; ++j) {
                                double want = 0.5, size = 0.5;
                                if (j < n) {
                                    want = accumulate ? 0.5 : 0.0;
                                    for (i64 i = 0; i < k; ++i) {
                                        const double t =
                                            double(to_float(a[std::size_t(r * k + i)])) *
                                            double(to_float(b[std::size_t(i * n + j)]));
                                        want += t, size += std::fabs(t);
                                    }
                                }
                                const double got = c[std::size_t(r * ldc + j)];
                                // fp32 sums of k products: at most k + 2 roundings of the
                                // running sum, each within 2^-24 of its size.
                                const double bound = j < n ? double(k + 2) * 0x1p-24 * size : 0.0;
                                ASSERT_LE(std::fabs(got - want), bound)
                                    << "m " << m << " n " << n << " k " << k << " row " << r
                                    << " column " << j << (accumulate ? " accumulating" : "")
                                    << (packed == by_rows ? " (interleaved)" : " (transposed)");
                                ++checked;
                            }
                    }
            }
    EXPECT_GT(checked, 0);
}

// The decode path's scores, q [rows x d] bf16 pairs against k [bk x d] bf16 rows, against the sum
// in double: every row tile (4, 2, 1) and key tile with its leftover keys, head sizes on both
// sides of a 32-column load, K rows starting at any element; nothing written past the keys.
TEST(Bf16Dot, DecodeScoresMatchTheDefinitionAtEveryTileEdge) {
    ATTN_SKIP_WITHOUT_BF16_DOT();
    std::mt19937 rng(13);
    std::uniform_real_distribution<float> any(-2.0f, 2.0f);
    int checked = 0;
    for (i64 rows = 1; rows <= 7; ++rows)
        for (i64 bk : {i64(1), i64(3), i64(4), i64(5), i64(8), i64(9), i64(16), i64(35)})
            for (i64 d : {i64(1), i64(2), i64(7), i64(31), i64(32), i64(33), i64(64), i64(129)}) {
                const i64 ldq = (d + 1) / 2, lds = bk + 3, start = (rows + bk) % 2;
                std::vector<bf16> q(std::size_t(rows * d)), k_raw(std::size_t(start + bk * d));
                for (auto& e : q) e = from_float<bf16>(any(rng));
                for (auto& e : k_raw) e = from_float<bf16>(any(rng));
                const bf16* k = k_raw.data() + start;
                // Past d the pair words hold NaNs: the kernel must not read them.
                std::vector<std::uint32_t> qp(std::size_t(rows * ldq + 16), 0x7FC07FC0u);
                for (i64 r = 0; r < rows; ++r)
                    for (i64 p = 0; p < ldq; ++p) {
                        const std::uint32_t lo = q[std::size_t(r * d + 2 * p)].bits;
                        const std::uint32_t hi =
                            2 * p + 1 < d ? q[std::size_t(r * d + 2 * p + 1)].bits : 0;
                        qp[std::size_t(r * ldq + p)] = lo | hi << 16;
                    }
                std::vector<float> s(std::size_t(rows * lds), 0.5f);
                flash::bf16_dot_scores(rows, qp.data(), ldq, k, bk, d, s.data(), lds);
                for (i64 r = 0; r < rows; ++r)
                    for (i64 j = 0; j < lds; ++j) {
                        double want = 0.5, size = 0.0;
                        if (j < bk) {
                            want = 0.0;
                            for (i64 c = 0; c < d; ++c) {
                                const double t = double(to_float(q[std::size_t(r * d + c)])) *
                                                 double(to_float(k[j * d + c]));
                                want += t, size += std::fabs(t);
                            }
                        }
                        const double got = s[std::size_t(r * lds + j)];
                        // fp32 sums of d exact products: at most d + 2 roundings of a running sum.
                        ASSERT_LE(std::fabs(got - want), double(d + 2) * 0x1p-24 * size)
                            << "rows " << rows << " keys " << bk << " d " << d << " row " << r
                            << " key " << j << " start " << start;
                        ++checked;
                    }
            }
    EXPECT_GT(checked, 0);
}

// The decode path's P V, p [rows x bk] fp32 against v [bk x d] bf16 rows added to acc, against
// the sum in double: every row tile, odd and even key counts across a key chunk and a block, head
// sizes with whole 32-column steps, a 16-column tail and a scalar one. The kernel rounds p to
// bf16 on the whole steps, so each term may be off by 2^-8 of its size on top of the fp32 sums.
TEST(Bf16Dot, DecodeWeightedSumMatchesTheDefinition) {
    ATTN_SKIP_WITHOUT_BF16_DOT();
    std::mt19937 rng(17);
    std::uniform_real_distribution<float> prob(0.0f, 1.0f), any(-2.0f, 2.0f);
    int checked = 0;
    for (i64 rows = 1; rows <= 7; ++rows)
        for (i64 bk : {i64(1), i64(2), i64(15), i64(16), i64(17), i64(33), i64(600)})
            for (i64 d : {i64(1), i64(32), i64(33), i64(64), i64(80), i64(96), i64(128)}) {
                const i64 ldp = bk + 5;
                std::vector<float> p(std::size_t(rows * ldp),
                                     std::numeric_limits<float>::quiet_NaN());
                for (i64 r = 0; r < rows; ++r)
                    for (i64 j = 0; j < bk; ++j) p[std::size_t(r * ldp + j)] = prob(rng);
                std::vector<bf16> v(std::size_t(bk * d));
                for (auto& e : v) e = from_float<bf16>(any(rng));
                std::vector<float> acc(std::size_t(rows * d));
                for (auto& e : acc) e = any(rng);
                const std::vector<float> before = acc;
                flash::bf16_dot_weighted_sum(rows, p.data(), ldp, v.data(), bk, d, acc.data());
                for (i64 r = 0; r < rows; ++r)
                    for (i64 c = 0; c < d; ++c) {
                        double want = before[std::size_t(r * d + c)], size = std::fabs(want);
                        for (i64 j = 0; j < bk; ++j) {
                            const double t = double(p[std::size_t(r * ldp + j)]) *
                                             double(to_float(v[std::size_t(j * d + c)]));
                            want += t, size += std::fabs(t);
                        }
                        const double bound = (0x1p-8 + double(bk + 2) * 0x1p-24) * size;
                        ASSERT_LE(std::fabs(acc[std::size_t(r * d + c)] - want), bound)
                            << "rows " << rows << " keys " << bk << " d " << d << " row " << r
                            << " column " << c;
                        ++checked;
                    }
            }
    EXPECT_GT(checked, 0);
}

// K^T packing from a view that starts at any element (a head's or a row's offset into a larger
// tensor): every packed word is the pair of the source's bits, and pad keys are zero.
TEST(Bf16Dot, TransposedPackingFromAnyStart) {
    ATTN_SKIP_WITHOUT_BF16_DOT();
    const i64 strip = flash::bf16_dot_strip();
    for (i64 start : {i64(0), i64(1), i64(2), i64(3)})
        for (i64 n : {i64(1), strip, strip + 5})
            for (i64 k : {i64(2), i64(16), i64(33), i64(128)})
                for (i64 ldx : {k, k + 1, k + 2}) {
                    std::vector<bf16> raw(std::size_t(start + n * ldx));
                    for (std::size_t i = 0; i < raw.size(); ++i)
                        raw[i].bits = std::uint16_t(0x3F00 + (i * 7919) % 0x7F);
                    const bf16* x = raw.data() + start;
                    const i64 pairs = (k + 1) / 2, strips = (n + strip - 1) / strip;
                    std::vector<std::uint32_t> buf(std::size_t(strips * pairs * strip + 16));
                    std::uint32_t* out = aligned64(buf.data());
                    flash::pack_pairs_transposed(n, k, x, ldx, out);
                    for (i64 s = 0; s < strips; ++s)
                        for (i64 p = 0; p < pairs; ++p)
                            for (i64 j = 0; j < strip; ++j) {
                                const i64 row = s * strip + j;
                                std::uint32_t want = 0;
                                if (row < n) {
                                    const bf16* src = x + row * ldx;
                                    want = src[2 * p].bits;
                                    if (2 * p + 1 < k)
                                        want |= std::uint32_t(src[2 * p + 1].bits) << 16;
                                }
                                ASSERT_EQ(out[std::size_t((s * pairs + p) * strip + j)], want)
                                    << "start " << start << " n " << n << " k " << k << " ldx "
                                    << ldx << " key " << row << " pair " << p;
                            }
                }
}

// Flash's bf16 prefill with the bf16 products and with the widening path, each within the
// reference's bound on the shapes whose edges the products' tiles meet.
TEST(Bf16Dot, FlashPrefillBothPathsWithinBound) {
    ATTN_SKIP_WITHOUT_BF16_DOT();
    const Kernel* flash = find_kernel(Stage::attention, "flash", Isa::avx512, DType::bf16);
    ASSERT_NE(flash, nullptr);
    const i64 strip = flash::bf16_dot_strip();
    const Tiles tiles = flash->tiles();
    std::vector<Shape> shapes;
    for (i64 n : {i64(2), tiles.row_block + 1, tiles.kv_block + strip + 3})
        for (i64 d : {i64(1), i64(7), strip + 1})
            for (bool causal : {false, true}) {
                Shape sh;
                sh.n_q = sh.n_kv = n, sh.heads = 4, sh.kv_heads = 2, sh.head_dim = d;
                sh.causal = causal, sh.dtype = DType::bf16, sh.threads = 2;
                shapes.push_back(sh);
            }
    for (const Shape& sh : shapes) {
        // Each path writes a workload of its own (same inputs), so neither reads the other's
        // output.
        const Expected want = expected_output(Workload(Stage::attention, sh));
        for (bool dot : {true, false}) {
            flash::enable_bf16_dot(dot);
            ASSERT_EQ(flash::bf16_dot_serves(Isa::avx512, sh), dot);
            Workload work(Stage::attention, sh);
            work.run(*flash);
            EXPECT_EQ(outputs_outside_bound(work, want, dot ? "bf16 products" : "widening"), 0);
        }
    }
    flash::enable_bf16_dot(bf16_dot_preferred());
}

// Flash's bf16 decode with the bf16 scores and with the widening path, each within the
// reference's bound: query rows per K/V head on every row tile and on both sides of the wide
// form, caches across the decode block and its split, causal or not.
TEST(Bf16Dot, FlashDecodeBothPathsWithinBound) {
    ATTN_SKIP_WITHOUT_BF16_DOT();
    const Kernel* flash = find_kernel(Stage::attention, "flash", Isa::avx512, DType::bf16);
    ASSERT_NE(flash, nullptr);
    const Tiles tiles = flash->tiles();
    std::vector<Shape> shapes;
    for (i64 n_q : {i64(1), i64(3)})
        for (i64 group : {i64(1), i64(2), i64(7), tiles.decode_wide_rows})
            for (i64 n_kv : {i64(1), tiles.decode_split + 5, tiles.decode_block + 33})
                for (i64 d : {i64(1), i64(33), i64(80), i64(128)}) {
                    Shape sh;
                    sh.n_q = n_q, sh.n_kv = n_kv, sh.kv_heads = 2, sh.heads = 2 * group;
                    sh.head_dim = d, sh.causal = n_q > 1 && n_kv >= n_q, sh.dtype = DType::bf16,
                    sh.threads = 2;
                    shapes.push_back(sh);
                }
    for (const Shape& sh : shapes) {
        // Each path writes a workload of its own (same inputs), so neither reads the other's
        // output.
        const Expected want = expected_output(Workload(Stage::attention, sh));
        for (bool dot : {true, false}) {
            flash::enable_bf16_dot(dot);
            ASSERT_EQ(flash::bf16_dot_serves(Isa::avx512, sh), dot);
            Workload work(Stage::attention, sh);
            work.run(*flash);
            EXPECT_EQ(outputs_outside_bound(work, want, dot ? "bf16 scores" : "widening"), 0);
        }
    }
    flash::enable_bf16_dot(bf16_dot_preferred());
}

// The bf16 projection by vdpbf16ps, Y = X W, against the sum in double at the edges of the tiles
// the registry gives its kernel (rows of the register tile and of a block, columns of a strip
// and of a panel of eight, depths around a K slice of `depth` pairs, odd ones leaving half a
// pair), on one and two threads, which give the same bits: each output is summed in one order
// whatever the split.
TEST(Bf16Dot, ProjectionMatchesTheDefinitionAtEveryTileEdge) {
    ATTN_SKIP_WITHOUT_BF16_DOT();
    const Kernel* kernel = find_kernel(Stage::projection, "omp", Isa::best, DType::bf16);
    ASSERT_NE(kernel, nullptr);
    const Tiles t = kernel->tiles();
    ASSERT_GT(t.rows, 0);
    std::mt19937 rng(5);
    auto draw = [&](i64 count) { return uniform_bf16(count, rng); };
    int checked = 0;
    for (i64 m : {i64(1), t.rows - 1, t.rows + 1, t.projection_block + 1})
        for (i64 n : {i64(1), t.cols + 1, 8 * t.cols + 1})
            for (i64 k : {i64(1), i64(2), t.depth + 1, 2 * t.depth - 1, 2 * t.depth,
                          2 * t.depth + 1, 4 * t.depth + 3}) {
                const std::vector<bf16> x = draw(m * k), w = draw(k * n);
                std::vector<float> one(std::size_t(m * n), -1.0f), two(one);
                simd::dot_projection(1, m, n, k, x.data(), w.data(), one.data());
                simd::dot_projection(2, m, n, k, x.data(), w.data(), two.data());
                for (i64 r = 0; r < m; ++r)
                    for (i64 j = 0; j < n; ++j) {
                        double want = 0.0, size = 0.0;
                        for (i64 i = 0; i < k; ++i) {
                            const double p = double(to_float(x[std::size_t(r * k + i)])) *
                                             double(to_float(w[std::size_t(i * n + j)]));
                            want += p, size += std::fabs(p);
                        }
                        const std::size_t at = std::size_t(r * n + j);
                        // fp32 sums of k products: at most k + 2 roundings of the running sum,
                        // each within 2^-24 of its size.
                        ASSERT_LE(std::fabs(double(one[at]) - want), double(k + 2) * 0x1p-24 * size)
                            << "m " << m << " n " << n << " k " << k << " row " << r << " column "
                            << j;
                        ASSERT_EQ(std::bit_cast<std::uint32_t>(one[at]),
                                  std::bit_cast<std::uint32_t>(two[at]))
                            << "m " << m << " n " << n << " k " << k << " row " << r << " column "
                            << j << ": one thread and two differ";
                        ++checked;
                    }
            }
    EXPECT_GT(checked, 0);
}

// The bf16 projection with the bf16 products and with the widening path, each within the
// reference's bound, past the few rows and a block of rows, and past a K slice of `depth` pairs.
TEST(Bf16Dot, ProjectionBothPathsWithinBound) {
    ATTN_SKIP_WITHOUT_BF16_DOT();
    const Kernel* kernel = find_kernel(Stage::projection, "omp", Isa::best, DType::bf16);
    ASSERT_NE(kernel, nullptr);
    const Tiles tiles = kernel->tiles();
    for (i64 n : {tiles.projection_direct + 1, tiles.projection_block + 1})
        for (i64 d : {i64(7), 2 * tiles.depth / 3 + 1}) {
            Shape sh;
            sh.n_q = sh.n_kv = n, sh.heads = 3, sh.head_dim = d, sh.dtype = DType::bf16;
            sh.threads = 2;
            // Each path writes a workload of its own (same inputs), so neither reads the other's
            // output.
            const Expected want = expected_output(Workload(Stage::projection, sh));
            for (bool dot : {true, false}) {
                flash::enable_bf16_dot(dot);
                ASSERT_EQ(simd::dot_projection_serves(Isa::best), dot && best_isa() == Isa::avx512);
                Workload work(Stage::projection, sh);
                work.run(*kernel);
                EXPECT_EQ(outputs_outside_bound(work, want, dot ? "bf16 products" : "widening"), 0);
            }
        }
    flash::enable_bf16_dot(bf16_dot_preferred());
}

// The vdpbf16ps paths count the multiply-adds of each call (attn::bf16_dot_multiply_adds), the
// ones the stage's flops count, so that the report reads those rows against the bf16 dot-product
// probe; the widening path, AMX tiles and decoding (whose P V widens) count none.
TEST(Bf16Dot, CountsTheMultiplyAddsItsProductsRan) {
    ATTN_SKIP_WITHOUT_BF16_DOT();
    const Kernel* projection = find_kernel(Stage::projection, "omp", Isa::best, DType::bf16);
    const Kernel* flash = find_kernel(Stage::attention, "flash", Isa::avx512, DType::bf16);
    ASSERT_NE(projection, nullptr);
    ASSERT_NE(flash, nullptr);
    struct Case {
        const Kernel* kernel;
        Shape shape;
    };
    std::vector<Case> cases;
    for (i64 d : {i64(7), 2 * flash::bf16_dot_strip() + 1}) {
        Shape sh;
        sh.heads = 3, sh.head_dim = d, sh.dtype = DType::bf16, sh.threads = 2;
        sh.n_q = sh.n_kv = projection->tiles().projection_direct + 1;
        cases.push_back({projection, sh});
        sh.n_q = sh.n_kv = std::max(flash->tiles().row_block, flash::kDecodeQueries) + 1;
        sh.causal = true;
        cases.push_back({flash, sh});
        sh.n_q = 1, sh.n_kv = flash->tiles().decode_block + 1;
        cases.push_back({flash, sh});
    }
    for (const Case& c : cases)
        for (bool dot : {true, false}) {
            flash::enable_bf16_dot(dot);
            const Shape& sh = c.shape;
            const bool decode = sh.n_q <= flash::kDecodeQueries;
            const bool counted =
                c.kernel == projection
                    ? simd::dot_projection_serves(Isa::best) && !simd::amx_serves(Isa::best)
                    : !decode && flash::bf16_dot_serves(Isa::avx512, sh) &&
                          !flash::amx_prefill_serves(Isa::avx512, sh);
            Workload work(c.kernel->stage, sh);
            const std::int64_t before = bf16_dot_multiply_adds();
            work.run(*c.kernel);
            EXPECT_EQ(double(bf16_dot_multiply_adds() - before),
                      counted ? flops(c.kernel->stage, sh) / 2 : 0.0)
                << c.kernel->typed_name() << " " << sh.text() << (dot ? " dot" : " widening");
        }
    flash::enable_bf16_dot(bf16_dot_preferred());
}

}  // namespace
}  // namespace attn::testing

#endif  // __x86_64__
