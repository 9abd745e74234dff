// Flash attention with bf16 products (vdpbf16ps), for the avx512 tier on CPUs with AVX512_BF16
// (this file alone gets -mavx512bf16; see bf16_dot.hpp). The query block, the online softmax and
// the normalisation are flash_impl.hpp's at avx512; the two products take their operands as bf16
// pairs: Q (scaled by scale * log2 e) and P rounded to bf16, K and V packed from their storage as
// they are, so one instruction does 32 multiply-adds where an fp32 FMA does 16. The decode path's
// narrow form (decode_impl.hpp) takes its scores the same way, from K as stored.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "attention_row.hpp"
#include "attn/stages.hpp"
#include "bf16_dot.hpp"
#include "flash_impl.hpp"
#include "parallel.hpp"
#include "simd/amx.hpp"
#include "simd/dot_projection.hpp"
#include "simd/dot_tile_avx512bf16.hpp"
#include "workspace.hpp"

namespace attn::flash {

namespace {

using Arch = xsimd::avx512f;
using F = Flash<Arch>;
using word = std::uint32_t;

using simd::bf16_tile::kStrip;
using simd::bf16_tile::kTileRows;
static_assert(F::BQ % kTileRows == 0 && F::BK % kStrip == 0 && F::BK % 2 == 0);

// The bf16 pair (lo, hi) in one word, lo in the low half as vdpbf16ps reads it.
inline word pair(std::uint16_t lo, std::uint16_t hi) { return word(lo) | word(hi) << 16; }

// The register tile with A in rows ([R][pairs] words, row stride lda), by its row count.
constexpr const auto& kDotTiles = simd::bf16_tile::kDotTiles<false>;

// A block's queries (rows i0.. of q [n_q x d] bf16) scaled and rounded to bf16 pairs into qs; the
// running maxima and sums are cleared.
void start_block(const Shape& sh, const bf16* q, i64 i0, i64 rows, word* qs,
                 FlashScratch<Arch>& w) {
    scaled_query_pairs(sh, q + i0 * sh.head_dim, rows, qs);
    for (i64 r = 0; r < rows; ++r) w.row_max[r] = simd::kNegInf, w.row_sum[r] = 0.0f;
}

// The block's probabilities, rows [g0, g0 + rows) of the score block (keys [0, keys)), rounded to
// bf16 pairs into p [rows][ldp words], a zero after an odd key count.
void round_probabilities(const FlashScratch<Arch>& w, i64 g0, i64 rows, i64 keys, word* p,
                         i64 ldp) {
    for (i64 r = g0; r < g0 + rows; ++r)
        round_to_bf16_pairs(w.scores + r * F::LDS, keys, p + r * ldp);
}

// Where a query block's bf16 operands live besides FlashScratch: the scaled queries in its
// q_words area (BQ x ceil(d / 2) words fit in its BQ x d floats), the probabilities after it.
i64 scratch_floats(i64 d) { return FlashScratch<Arch>::floats(d) + F::BQ * (F::LDS / 2); }

// Fused attention of query rows [i0, i1) of one head with bf16 products: q [n_q x d] bf16,
// o [n_q x d]; kp = K^T packed by pack_pairs_transposed, vp = V by pack_pairs_interleaved (strips
// v_stride words apart); scratch holds scratch_floats(d) floats, 64-byte aligned.
void flash_rows_bf16_dot(const Shape& sh, const bf16* q, const word* kp, const word* vp,
                         i64 v_stride, float* o, i64 i0, i64 i1, float* scratch) {
    FlashScratch<Arch> w(scratch, sh.head_dim);
    const i64 d = sh.head_dim, pairs = (d + 1) / 2, rows = i1 - i0, ldp = F::LDS / 2;
    word* qs = reinterpret_cast<word*>(w.q_words);
    word* p = reinterpret_cast<word*>(scratch + FlashScratch<Arch>::floats(d));
    start_block(sh, q, i0, rows, qs, w);
    const i64 kv_end = sh.visible_keys(i1 - 1);
    if (kv_end == 0)
        for (i64 r = 0; r < rows; ++r)
            for (i64 c = 0; c < d; ++c) w.acc[r * w.ld_o + c] = 0.0f;
    for (i64 j0 = 0; j0 < kv_end; j0 += F::BK) {
        const KvBlock b(sh, i0, rows, j0, kv_end, F::BK, kTileRows);
        for (i64 g0 = 0; g0 < rows; g0 += b.group)
            bf16_dot_product(b.group_rows(g0), b.group_keys(g0), pairs, qs + g0 * pairs, pairs,
                             kp + (j0 / kStrip) * pairs * kStrip, pairs * kStrip,
                             w.scores + g0 * F::LDS, F::LDS, false);
        online_softmax_update(b, nullptr, w);
        for (i64 g0 = 0; g0 < rows; g0 += b.group) {
            const i64 keys = b.group_keys(g0);
            round_probabilities(w, g0, b.group_rows(g0), keys, p, ldp);
            bf16_dot_product(b.group_rows(g0), d, (keys + 1) / 2, p + g0 * ldp, ldp,
                             vp + (j0 / 2) * kStrip, v_stride, w.acc + g0 * w.ld_o, w.ld_o,
                             j0 != 0);
        }
    }
    normalise_rows(sh, i0, rows, w, o);
}

// Words of one K/V head's packed K^T and V: both in strips of kStrip keys or columns, V's
// strips padded with zero pairs to a whole strip of keys, as the AMX tiles read them.
struct PackedSizes {
    i64 keys, values, v_stride;
    explicit PackedSizes(const Shape& sh) {
        const i64 d = sh.head_dim, nkv = sh.n_kv;
        keys = (nkv + kStrip - 1) / kStrip * ((d + 1) / 2) * kStrip;
        v_stride = (nkv + kStrip - 1) / kStrip * (kStrip / 2) * kStrip;
        values = (d + kStrip - 1) / kStrip * v_stride;
    }
};

// One K/V head's K [n_kv x d] and V [n_kv x d] (bf16) packed into kp and vp (PackedSizes).
void pack_head(const Shape& sh, const PackedSizes& sizes, const bf16* k, const bf16* v, word* kp,
               word* vp) {
    const i64 d = sh.head_dim, nkv = sh.n_kv, pairs = (nkv + 1) / 2;
    pack_pairs_transposed(nkv, d, k, d, kp);
    for (i64 c0 = 0; c0 < d; c0 += kStrip) {
        word* strip = vp + c0 / kStrip * sizes.v_stride;
        pack_pairs_interleaved(nkv, std::min(kStrip, d - c0), v + c0, d, strip);
        std::memset(strip + pairs * kStrip, 0,
                    std::size_t(sizes.v_stride - pairs * kStrip) * sizeof(word));
    }
}

// Query block `block` of query head h over K/V head g's packed K and V by `products`, then the
// exact rows of a hidden key's non-finite V (as query_block in flash.cpp).
void query_block_bf16(const Shape& sh, const bf16* q, const bf16* k, const bf16* v, const word* kp,
                      const word* vp, const PackedSizes& sizes, float* o, i64 h, i64 block,
                      Bf16Products products, float* scratch) {
    const i64 d = sh.head_dim, g = sh.kv_head_of(h), i0 = block * F::BQ,
              i1 = std::min(sh.n_q, i0 + F::BQ);
    const bf16* q_head = q + h * sh.n_q * d;
    if (products == Bf16Products::amx_tiles)
        flash_rows_amx(sh, q_head, kp, vp, sizes.v_stride, o + h * sh.n_q * d, i0, i1, scratch);
    else
        flash_rows_bf16_dot(sh, q_head, kp, vp, sizes.v_stride, o + h * sh.n_q * d, i0, i1,
                            scratch);
    repair_hidden_key_rows(sh, q_head, k + g * sh.n_kv * d, v + g * sh.n_kv * d, o + h * sh.n_q * d,
                           i0, i1);
}

// s[r][t] = q_r . k_t for R rows of q [R][ceil(d / 2)] bf16 pairs (row stride ldq words) and the
// KT keys of k [KT x d] bf16, into s (row stride lds): each key's 32 bf16 are one load, a pair per
// lane as vdpbf16ps reads them, with no widening. A tile of 16 accumulators is folded by one
// lane_sums, fewer one by one.
template <int R, int KT>
inline void pair_dot_tile(const word* q, i64 ldq, const bf16* k, i64 d, float* s, i64 lds) {
    __m512 acc[R * KT];
#pragma GCC unroll 16
    for (int i = 0; i < R * KT; ++i) acc[i] = _mm512_setzero_ps();
    // 32 columns a step, the last masked to the rest (zeros past d: a NaN there must not enter).
    // One loop, no lambda: through a closure GCC 12 kept the accumulators in memory.
    for (i64 c = 0; c < d; c += 32) {
        const i64 rest = d - c;
        const __mmask32 k_mask = rest >= 32 ? __mmask32(~0u) : __mmask32((1ull << rest) - 1);
        const __mmask16 q_mask =
            rest >= 32 ? __mmask16(0xFFFF) : __mmask16((1u << ((rest + 1) / 2)) - 1);
        __m512bh kv[KT];
#pragma GCC unroll 16
        for (int t = 0; t < KT; ++t)
            kv[t] = (__m512bh)_mm512_maskz_loadu_epi16(k_mask, k + t * d + c);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
            const __m512bh qv = (__m512bh)_mm512_maskz_loadu_epi32(q_mask, q + r * ldq + c / 2);
#pragma GCC unroll 16
            for (int t = 0; t < KT; ++t)
                acc[r * KT + t] = _mm512_dpbf16_ps(acc[r * KT + t], qv, kv[t]);
        }
    }
    if constexpr (R * KT == 16) {
        // The fold reads its vectors from memory: copied there only now, the empty asm making
        // each sum a register value first (else GCC 12 stored every accumulator on every step).
        simd::vfloat<Arch> tile[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) {
            asm("" : "+v"(acc[i]));
            tile[i] = acc[i];
        }
        alignas(64) float sums[16];
        simd::lane_sums<Arch>(tile).store_aligned(sums);
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < KT; ++t) s[r * lds + t] = sums[r * KT + t];
    } else {
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < KT; ++t) s[r * lds + t] = simd::hsum<Arch>(acc[r * KT + t]);
    }
}

// s[r][j] = q_r . k_j for R rows of q bf16 pairs (row stride ldq words) and the bk keys of k
// [bk x d] bf16, into s (row stride lds): dot_rows's tiles of R rows x 16 / R keys with bf16
// products, the keys past the last whole tile one by one. With k_end, the K stream is fetched
// ahead by F.
template <int R, DecodeFetch F> void pair_dot_rows(const word* q, i64 ldq, const bf16* k, i64 bk,
                                                   i64 d, float* s, i64 lds, const char* k_end) {
    constexpr i64 KJ = 16 / R;
    i64 j = 0;
    for (; j + KJ <= bk; j += KJ) {
        if (k_end) prefetch_ahead<F>(k + j * d, KJ * d * i64(sizeof(bf16)), k_end);
        pair_dot_tile<R, int(KJ)>(q, ldq, k + j * d, d, s + j, lds);
    }
    for (; j < bk; ++j) pair_dot_tile<R, 1>(q, ldq, k + j * d, d, s + j, lds);
}

// acc[r] += sum_j p[r][j] v_j over 32 CH columns from c0, for R rows of p in bf16 pairs
// [R][ceil(bk / 2)] words (row stride ldp; a zero after an odd bk) and the bk rows of v [bk x d]
// bf16; acc row stride d. Each pair of V rows is interleaved by vpunpck{l,h}wd into the pairs
// vdpbf16ps reads, which leaves the 32 columns of a step in the order of pair_column: acc holds
// them so (see PairDots::finish).
template <int R, int CH>
void pair_pv_tile(const word* p, i64 ldp, const bf16* v, i64 bk, i64 d, float* acc, i64 c0) {
    __m512 a[R][2 * CH];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
        for (int x = 0; x < 2 * CH; ++x) a[r][x] = _mm512_loadu_ps(acc + r * d + c0 + 16 * x);
    for (i64 j = 0; j < bk; j += 2) {
        __m512bh lo[CH], hi[CH];
#pragma GCC unroll 16
        for (int ch = 0; ch < CH; ++ch) {
            const __m512i first = _mm512_loadu_si512(v + j * d + c0 + 32 * ch);
            const __m512i second = j + 1 < bk ? _mm512_loadu_si512(v + (j + 1) * d + c0 + 32 * ch)
                                              : _mm512_setzero_si512();
            lo[ch] = (__m512bh)_mm512_unpacklo_epi16(first, second);
            hi[ch] = (__m512bh)_mm512_unpackhi_epi16(first, second);
        }
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
            const __m512bh pr = (__m512bh)_mm512_set1_epi32(int(p[r * ldp + j / 2]));
#pragma GCC unroll 16
            for (int ch = 0; ch < CH; ++ch) {
                a[r][2 * ch] = _mm512_dpbf16_ps(a[r][2 * ch], pr, lo[ch]);
                a[r][2 * ch + 1] = _mm512_dpbf16_ps(a[r][2 * ch + 1], pr, hi[ch]);
            }
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
        for (int x = 0; x < 2 * CH; ++x) _mm512_storeu_ps(acc + r * d + c0 + 16 * x, a[r][x]);
}

// The column of a 32-column step that lane i of its acc lives in: vpunpcklwd takes elements 0-3
// of each 128-bit lane L (8 columns), vpunpckhwd elements 4-7, so the first 16 lanes hold columns
// 8L + 0..3 and the last 16 columns 8L + 4..7.
inline i64 pair_column(i64 i) {
    return i < 16 ? 8 * (i / 4) + i % 4 : 8 * ((i - 16) / 4) + 4 + i % 4;
}

// The decode path's narrow form with bf16 products: the scaled query rows rounded to bf16 pairs
// once per call (as the prefill path rounds them) and K read as stored for the scores; each
// block's probabilities rounded to bf16 pairs (as the prefill path rounds P) and V interleaved
// pairwise for P V over the whole 32-column steps, the columns past them widened in fp32; K and V
// fetched ahead by F.
template <DecodeFetch F> struct PairDots {
    // The head size whose V rows pv reads whole: four 32-column steps, 2 rows x 8 accumulators.
    static constexpr i64 kWholeRowColumns = 128;
    word* q;
    word* p;
    i64 ldq, d;
    // q_scaled [rows x d] fp32; `pairs` holds kWideRows x ceil(d / 2) + 4 x BK / 2 words.
    PairDots(const float* q_scaled, i64 rows, i64 d, float* pairs)
        : q(reinterpret_cast<word*>(pairs)),
          p(q + Decode<Arch>::kWideRows * ((d + 1) / 2)),
          ldq((d + 1) / 2),
          d(d) {
        for (i64 r = 0; r < rows; ++r) round_to_bf16_pairs(q_scaled + r * d, d, q + r * ldq);
    }
    // s[i][j] = q_{r + i} . k_j for the R rows from r and the bk keys of kb [bk x d].
    template <int R>
    void rows(i64 r, const bf16* kb, i64 bk, float* s, i64 lds, const char* k_end) const {
        pair_dot_rows<R, F>(q + r * ldq, ldq, kb, bk, d, s, lds, k_end);
    }
    // acc[i] += sum_j s[i][j] v_j for the R rows of s (row stride lds) and the bk rows of vb
    // [bk x d]; acc row stride d, its whole 32-column steps in pair_column order.
    template <int R>
    void pv(const float* s, i64 lds, const bf16* vb, i64 bk, float* acc, const char* v_end) const {
        constexpr i64 KC = 16;  // as pv_rows: 16 keys' V rows stay in L1 over the column tiles
        const i64 ldp = Decode<Arch>::BK / 2, d32 = d / 32 * 32;
        for (int r = 0; r < R; ++r) round_to_bf16_pairs(s + r * lds, bk, p + r * ldp);
        for (i64 j0 = 0; j0 < bk; j0 += KC) {
            const i64 keys = std::min(KC, bk - j0);
            const bf16* v = vb + j0 * d;
            if (v_end) prefetch_ahead<F>(v, keys * d * i64(sizeof(bf16)), v_end);
            if (R >= 2 && d == kWholeRowColumns) {
                // Whole V rows, two rows of p at a time, so that the first pair reads V from
                // memory row after row (see dot_rows), the rest from L1. Against column tiles of
                // half a row for all R rows, on the Zen 4 guest: 4 rows per K/V head took
                // 0.73-0.93x the time on a cache in memory (8K and 32K, 1 and 2 threads),
                // 0.96-1.06x on one in L3 (1K); a single row took 1.05-1.11x on one thread, so it
                // keeps them.
                int r = 0;
                for (; r + 2 <= R; r += 2)
                    pair_pv_tile<2, 4>(p + r * ldp + j0 / 2, ldp, v, keys, d, acc + r * d, 0);
                if (r < R)
                    pair_pv_tile<1, 4>(p + r * ldp + j0 / 2, ldp, v, keys, d, acc + r * d, 0);
                continue;
            }
            i64 c0 = 0;
            for (; c0 + 64 <= d32; c0 += 64)
                pair_pv_tile<R, 2>(p + j0 / 2, ldp, v, keys, d, acc, c0);
            if (c0 < d32) pair_pv_tile<R, 1>(p + j0 / 2, ldp, v, keys, d, acc, c0);
            for (c0 = d32; c0 + 16 <= d; c0 += 16)
                pv_tile<Arch, F, R, 1>(s + j0, lds, v, keys, d, acc, c0, nullptr);
            for (; c0 < d; ++c0)
                for (int r = 0; r < R; ++r) {
                    float x = acc[r * d + c0];
                    for (i64 j = 0; j < keys; ++j)
                        x += s[r * lds + j0 + j] * to_float(v[j * d + c0]);
                    acc[r * d + c0] = x;
                }
        }
    }
    // Puts the columns of acc [rows x d] back in order after the last block (to_pairs: into
    // pair_column order, for an acc that does not start at zero).
    void finish(float* acc, i64 rows, bool to_pairs = false) const {
        alignas(64) float step[32];
        for (i64 r = 0; r < rows; ++r)
            for (i64 c0 = 0; c0 + 32 <= d; c0 += 32) {
                float* a = acc + r * d + c0;
                for (i64 i = 0; i < 32; ++i) {
                    if (to_pairs) step[i] = a[pair_column(i)];
                    else step[pair_column(i)] = a[i];
                }
                for (i64 i = 0; i < 32; ++i) a[i] = step[i];
            }
    }
};

std::atomic<bool>& bf16_dot_switch() {
    static std::atomic<bool> on = bf16_dot_preferred();
    return on;
}

}  // namespace

i64 bf16_dot_strip() { return kStrip; }

void bf16_dot_product(i64 m, i64 n, i64 pairs, const word* a, i64 lda, const word* b,
                      i64 strip_stride, float* c, i64 ldc, bool accumulate) {
    // Strips outside, rows inside: a strip (pairs x 128 bytes: 8 KiB for d = 128, 32 KiB for a
    // block of 512 keys) stays in L1 while the row tiles pass over it.
    for (i64 s = 0; s * kStrip < n; ++s)
        for (i64 r = 0; r < m; r += kTileRows)
            kDotTiles[std::size_t(std::min(kTileRows, m - r) - 1)](
                a + r * lda, lda, b + s * strip_stride, pairs, c + r * ldc + s * kStrip, ldc,
                std::min(kStrip, n - s * kStrip), accumulate);
}

void bf16_dot_scores(i64 rows, const word* q, i64 ldq, const bf16* k, i64 bk, i64 d, float* s,
                     i64 lds) {
    const char* k_end = reinterpret_cast<const char*>(k + bk * d);
    by_row_tiles<4>(rows, [&]<int R>(i64 r) {
        pair_dot_rows<R, DecodeFetch::into_l2>(q + r * ldq, ldq, k, bk, d, s + r * lds, lds, k_end);
    });
}

void bf16_dot_weighted_sum(i64 rows, const float* p, i64 ldp, const bf16* v, i64 bk, i64 d,
                           float* acc) {
    std::vector<float> pairs(
        std::size_t(Decode<Arch>::kWideRows * ((d + 1) / 2) + 4 * (Decode<Arch>::BK / 2)));
    const PairDots<DecodeFetch::into_l2> dots(nullptr, 0, d, pairs.data());
    dots.finish(acc, rows, true);
    // In the decode path's blocks of keys, acc in pair_column order between them.
    for (i64 j0 = 0; j0 < bk; j0 += Decode<Arch>::BK)
        by_row_tiles<4>(rows, [&]<int R>(i64 r) {
            dots.template pv<R>(p + r * ldp + j0, ldp, v + j0 * d,
                                std::min(Decode<Arch>::BK, bk - j0), acc + r * d, nullptr);
        });
    dots.finish(acc, rows);
}

void decode_rows_bf16_dot(const Shape& sh, const float* q, i64 rows, const bf16* k, const bf16* v,
                          i64 j_begin, i64 j_end, float* row_max, float* row_sum, float* acc,
                          float* scratch) {
    with_decode_fetch([&]<DecodeFetch F>() {
        decode_rows<Arch, bf16, PairDots<F>>(sh, q, rows, k, v, j_begin, j_end, row_max, row_sum,
                                             acc, scratch);
    });
}

void pack_pairs_transposed(i64 n, i64 k, const bf16* x, i64 ldx, word* out) {
    const i64 pairs = (k + 1) / 2;
    static_assert(Tile<Arch>::NR == kStrip);
    // A view may start at any element, so the word reading also needs a 4-byte-aligned start.
    if (k % 2 == 0 && ldx % 2 == 0 && reinterpret_cast<std::uintptr_t>(x) % 4 == 0) {
        // Whole pairs are 32-bit words, and packing them is the fp32 K^T packing's transposition
        // (16 x 16 transposes): moves only, which keep any bits. With it, the vectorised V
        // packing and query rounding, a bf16 call at n 128, 8 heads of 128, one thread took
        // 0.223 ms instead of 0.246 (medians of 3, one run each).
        simd::pack_b<Arch>(pairs, n, reinterpret_cast<const float*>(x), ldx / 2, true,
                           reinterpret_cast<float*>(out));
        return;
    }
    for (i64 s = 0; s * kStrip < n; ++s) {
        word* strip = out + s * pairs * kStrip;
        for (i64 j = 0; j < kStrip; ++j) {
            const i64 row = s * kStrip + j;
            if (row >= n) {
                for (i64 p = 0; p < pairs; ++p) strip[p * kStrip + j] = 0;
                continue;
            }
            const bf16* src = x + row * ldx;
            for (i64 p = 0; p < k / 2; ++p)
                strip[p * kStrip + j] = pair(src[2 * p].bits, src[2 * p + 1].bits);
            if (k % 2) strip[(pairs - 1) * kStrip + j] = pair(src[k - 1].bits, 0);
        }
    }
}

// Pairs outer, so that each row's span of the columns is read as one run, a strip's width of both
// rows per step: the 16-bit interleave pairs columns within 128-bit lanes, and one 64-bit permute
// per half puts the lanes in column order.
void pack_pairs_interleaved(i64 k, i64 n, const bf16* x, i64 ldx, word* out) {
    static_assert(kStrip == 32);
    const __m512i first_half = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
    const __m512i second_half = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
    const i64 pairs = (k + 1) / 2;
    for (i64 p = 0; p < pairs; ++p) {
        const bf16* lo = x + 2 * p * ldx;
        const bool has_hi = 2 * p + 1 < k;
        for (i64 j = 0; j < n; j += kStrip) {
            const i64 valid = std::min(n - j, kStrip);
            const __mmask32 mask = valid == kStrip ? ~__mmask32(0) : __mmask32((1u << valid) - 1);
            const __m512i a = _mm512_maskz_loadu_epi16(mask, lo + j);
            const __m512i b =
                has_hi ? _mm512_maskz_loadu_epi16(mask, lo + ldx + j) : _mm512_setzero_si512();
            // Lane L of `low`: columns 8 L .. 8 L + 3 as pairs; of `high`: 8 L + 4 .. 8 L + 7.
            const __m512i low = _mm512_unpacklo_epi16(a, b), high = _mm512_unpackhi_epi16(a, b);
            word* strip = out + j / kStrip * pairs * kStrip + p * kStrip;
            _mm512_storeu_si512(strip, _mm512_permutex2var_epi64(low, first_half, high));
            _mm512_storeu_si512(strip + 16, _mm512_permutex2var_epi64(low, second_half, high));
        }
    }
}

void scaled_query_pairs(const Shape& sh, const bf16* q, i64 rows, word* qs) {
    const i64 d = sh.head_dim, pairs = (d + 1) / 2;
    const __m512 c = _mm512_set1_ps(sh.effective_scale() * simd::kLog2e);
    // 16 bf16 at p (m of them, zeros after) widened to fp32 and scaled.
    auto scaled = [&](const bf16* p, i64 m) {
        const __mmask16 mask = __mmask16(m >= 16 ? 0xFFFF : (1u << m) - 1);
        const __m512i bits = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, p));
        return _mm512_mul_ps(_mm512_castsi512_ps(_mm512_slli_epi32(bits, 16)), c);
    };
    for (i64 r = 0; r < rows; ++r) {
        const bf16* src = q + r * d;
        word* dst = qs + r * pairs;
        for (i64 j = 0; j < d; j += 32) {
            const i64 m = std::min<i64>(32, d - j);
            const __m512i words =
                (__m512i)_mm512_cvtne2ps_pbh(scaled(src + j + 16, std::max<i64>(0, m - 16)),
                                             scaled(src + j, std::min<i64>(m, 16)));
            const i64 count = (m + 1) / 2;
            _mm512_mask_storeu_epi32(dst + j / 2,
                                     __mmask16(count >= 16 ? 0xFFFF : (1u << count) - 1), words);
        }
    }
}

void round_to_bf16_pairs(const float* x, i64 n, word* out) {
    i64 i = 0;
    for (; i + 32 <= n; i += 32)
        _mm512_storeu_si512(out + i / 2, (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + i + 16),
                                                                      _mm512_loadu_ps(x + i)));
    if (i < n) {
        const i64 rest = n - i;
        const __mmask16 lo = rest >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << rest) - 1);
        const __mmask16 hi = rest > 16 ? __mmask16((1u << (rest - 16)) - 1) : __mmask16(0);
        const __m512i words = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, x + i + 16),
                                                           _mm512_maskz_loadu_ps(lo, x + i));
        const i64 w = (rest + 1) / 2;
        _mm512_mask_storeu_epi32(out + i / 2, __mmask16((1u << w) - 1), words);
    }
}

bool bf16_dot_on(Isa isa) {
    static const bool has = cpu_has_bf16_dot();
    const Isa tier = isa == Isa::best ? best_isa() : isa;
    return has && tier == Isa::avx512 && bf16_dot_switch().load(std::memory_order_relaxed);
}

bool bf16_dot_serves(Isa isa, const Shape& sh) {
    return sh.similarity == Similarity::dot && bf16_dot_on(isa);
}

void enable_bf16_dot(bool on) { bf16_dot_switch().store(on); }

void prefill_bf16_products(int threads, const Shape& sh, const bf16* q, const bf16* k,
                           const bf16* v, float* o, Bf16Products products) {
    const auto multiply_adds = std::int64_t(flops(Stage::attention, sh) / 2);
    if (products == Bf16Products::amx_tiles) simd::count_amx_multiply_adds(multiply_adds);
    else simd::count_bf16_dot_multiply_adds(multiply_adds);
    const PackedSizes sizes(sh);
    const i64 d = sh.head_dim, nb = (sh.n_q + F::BQ - 1) / F::BQ, group = sh.group_size(),
              kv_heads = sh.batch * sh.kv_head_count();
    auto pack = [&](i64 g, word* kp, word* vp) {
        pack_head(sh, sizes, k + g * sh.n_kv * d, v + g * sh.n_kv * d, kp, vp);
    };
    auto slot = [](Slot s, i64 words) { return reinterpret_cast<word*>(workspace(s, words)); };
    // As flash.cpp's head_tasks: one task per K/V head, packed by the thread that reads it, when
    // the heads give every thread two or more and a head's packed K and V stay in L2.
    if (kv_heads >= 2 * threads && (sizes.keys + sizes.values) * 4 <= (512 << 10)) {
        parallel_region(threads, [&] {
            float* scratch = workspace(Slot::thread_block, scratch_floats(d));
            word* kp = slot(Slot::keys_packed, sizes.keys);
            word* vp = slot(Slot::values_packed, sizes.values);
#pragma omp for schedule(static) nowait
            for (i64 g = 0; g < kv_heads; ++g) {
                pack(g, kp, vp);
                for (i64 h = g * group; h < (g + 1) * group; ++h)
                    for (i64 block = 0; block < nb; ++block)
                        query_block_bf16(sh, q, k, v, kp, vp, sizes, o, h, block, products,
                                         scratch);
            }
        });
        return;
    }
    word* kp = slot(Slot::keys_packed, kv_heads * sizes.keys);
    word* vp = slot(Slot::values_packed, kv_heads * sizes.values);
    const i64 tasks = sh.batch * sh.heads * nb;
    parallel_region(threads, [&] {
#pragma omp for schedule(static)
        for (i64 g = 0; g < kv_heads; ++g) pack(g, kp + g * sizes.keys, vp + g * sizes.values);
        float* scratch = workspace(Slot::thread_block, scratch_floats(d));
        // As flash.cpp's prefill_body: head by head, a causal head's largest blocks first.
#pragma omp for schedule(dynamic) nowait
        for (i64 t = 0; t < tasks; ++t) {
            const i64 block = sh.causal ? nb - 1 - t % nb : t % nb, h = t / nb,
                      g = sh.kv_head_of(h);
            query_block_bf16(sh, q, k, v, kp + g * sizes.keys, vp + g * sizes.values, sizes, o, h,
                             block, products, scratch);
        }
    });
}

}  // namespace attn::flash

namespace attn {

namespace {

// Seconds for `rounds` rounds of 16 independent vdpbf16ps (Dot) or FMA chains on zmm registers,
// enough in flight to cover either's latency on every CPU measured.
template <bool Dot> double chain_seconds(int rounds) {
    constexpr int kChains = 16;
    const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
    const __m512bh a2 = _mm512_cvtne2ps_pbh(a, a), b2 = _mm512_cvtne2ps_pbh(b, b);
    __m512 acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(float(c));
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i)
#pragma GCC unroll 16
        for (int c = 0; c < kChains; ++c) {
            if constexpr (Dot) acc[c] = _mm512_dpbf16_ps(acc[c], a2, b2);
            else acc[c] = _mm512_fmadd_ps(acc[c], a, b);
        }
    const auto stop = std::chrono::steady_clock::now();
    __m512 sum = acc[0];
    for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
    [[maybe_unused]] static volatile float sink;  // keeps the chains from being optimised away
    sink = _mm512_reduce_add_ps(sum);
    return std::chrono::duration<double>(stop - start).count();
}

}  // namespace

double bf16_dot_rate_over_fma() {
    static const double rate = [] {
        if (!cpu_has_bf16_dot()) return 0.0;
        constexpr int kRounds = 8192, kTrials = 5;
        chain_seconds<false>(kRounds);  // wakes the vector units up to their AVX-512 clock
        double dot = 1e30, fma = 1e30;
        // The fastest of interleaved trials: a preemption slows one trial, not the verdict.
        for (int t = 0; t < kTrials; ++t) {
            dot = std::min(dot, chain_seconds<true>(kRounds));
            fma = std::min(fma, chain_seconds<false>(kRounds));
        }
        // A vdpbf16ps does 32 multiply-adds where an FMA does 16.
        return 2.0 * fma / dot;
    }();
    return rate;
}

}  // namespace attn
