// The decode path of flash attention, written once for every ISA tier and included by
// flash_impl.hpp: a handful of query rows per K/V head (one token, or a few for speculative
// decoding, times the query heads of the group) meet a long KV cache. With few rows the work is
// a matrix-vector product bound by memory bandwidth, so K and V are read in place, each row once,
// with no packing pass: scores are dot products of query rows with key rows (W accumulators
// folded by one lane_sums), and P V broadcasts each probability over a row of V. With many rows (a
// multi-query model's dozens of heads on one K/V head) it is compute-bound, and each block of K
// and V is packed for the prefill path's register-tiled matrix product (the wide form).
#pragma once

#include "flash.hpp"

namespace attn::flash {
namespace {

// The cache into which the decode path fetches K and V rows under DecodeFetch F, kDecodeFetchBytes
// ahead of its reads (__builtin_prefetch's locality: 3 L1, prefetcht0 on x86-64; 2 L2,
// prefetcht1). The hardware prefetcher alone leaves the loads waiting on memory while the FMAs run
// (the kernel took the sum of its compute and its memory time), and the cores differ in which
// fetch serves them. On the AVX-512 Xeon guest, decoding a 32K cache from memory on 2 threads,
// 2 KiB ahead into L1 read 0.91-0.96 of the bandwidth probe in each storage type (4 KiB
// 0.79-0.83, 1 KiB 0.78-0.97). On the Zen 4 guest the fetches into L1 held up the loads instead: a
// stand-alone loop streaming 512 MiB with 4 FMAs per vector read 25-31 GB/s with no software
// prefetch, 27-30 with 2 KiB into L1 and 31-33 with 8 KiB into L2; in the kernel, 2 threads on a
// 32K cache read 15-27 GB/s with 2 KiB into L1 and 24-32 with 8 KiB into L2 in every storage type
// (f16 and fp32 on AVX2 gained most, 1.5x), 4 and 16 KiB into L2 in between. On the Zen 5 guest
// the fetch into L1 in the in-cache order beat the fetch into L2 with rows in order (which took
// 1.25-1.7x its time on an 8K or 32K fp32 cache); into L1, 8 KiB ahead beat 4 KiB (16-bit 32K
// 0.90-0.95x the time, fp32 8K 0.84-0.94x) and 16 KiB (1.0-1.04x 8 KiB's).
template <DecodeFetch F> constexpr int fetch_locality() {
    return F == DecodeFetch::into_l1 ? 3 : 2;
}

// Asks for the lines of [from, from + bytes) before `end` into the cache level of
// __builtin_prefetch's `Locality` (3: L1, prefetcht0 on x86-64; 2: L2, prefetcht1).
template <int Locality> inline void prefetch_lines(const char* from, i64 bytes, const char* end) {
    for (const char* stop = std::min(from + bytes, end); from < stop; from += 64)
        __builtin_prefetch(from, 0, Locality);
}

// Fetches the lines of [from, from + bytes) moved kDecodeFetchBytes ahead, those before `end`,
// into F's cache.
template <DecodeFetch F, class T>
inline void prefetch_ahead(const T* from, i64 bytes, const char* end) {
    prefetch_lines<fetch_locality<F>()>(reinterpret_cast<const char*>(from) + kDecodeFetchBytes,
                                        bytes, end);
}

// Asks L2 for the lines of [from, from + bytes) before `end`: the wide form's next block, which
// the matrix product of this one leaves time to arrive.
template <class T> inline void prefetch_block(const T* from, i64 bytes, const char* end) {
    prefetch_lines<2>(reinterpret_cast<const char*>(from), bytes, end);
}

template <class Arch> struct Decode {
    using V = simd::vfloat<Arch>;
    static constexpr i64 W = V::size;
    // Keys per block: one online-softmax update per block, and the K and V streams alternate
    // once per block. Paired A/B against 128 on decode shapes: 512 took 0.91-0.97x the time
    // with 4 rows and the same with 64 or 71 (256: 0.96x); 64 measured no better than 128.
    static constexpr i64 BK = 512;
    // Row stride of the score block, off a power of two.
    static constexpr i64 LDS = BK + 16;
    // Query rows per K/V head the path takes: Falcon-7B's 71 query heads over one K/V head, and
    // 16 speculative tokens over a group of 8, fit.
    static constexpr i64 kMaxRows = 128;
    // From this many query rows per K/V head on (the wide form), a block's scores and its P V
    // are register-tiled matrix products (the prefill micro-kernel) over copies of the block's K
    // and V packed into strips: the copies cost two passes over the block, which many rows' FMAs
    // amortise, while the narrow form's row tiles re-read each K and V row from L1 once per four
    // rows and fold every score with a horizontal add. Paired A/B of the two forms on AVX2: at 16
    // rows streaming the cache from memory the wide form took 1.3x the time, at 32 rows about the
    // same (0.97-1.07x), at 48 and Falcon-7B's 71 rows 0.8-0.9x.
    static constexpr i64 kWideRows = 40;
    static constexpr i64 MR = simd::Tile<Arch>::MR, NR = simd::Tile<Arch>::NR;

    // scores [kMaxRows x LDS], k_packed (d x BK in strips), v_packed (BK x d in strips), the
    // scaled queries [kMaxRows (+ MR of padding when packed) x d], q_norms [kMaxRows],
    // k_norms [BK], a block of 16-bit K or V widened [BK x d] (for the wide form's packing
    // and cosine's key norms), and for the bf16 narrow forms their copy of the scaled queries
    // (rounded to bf16 pairs [kWideRows x ceil(d / 2)] words, or in EvenOdd order [kWideRows x
    // d] floats) and a row tile's probabilities [4 x BK / 2] words; every part starts 64-byte
    // aligned when d is a multiple of 16.
    static i64 k_packed_floats(i64 d) { return simd::packed_size<Arch>(d, BK); }
    static i64 v_packed_floats(i64 d) { return simd::packed_size<Arch>(BK, d); }
    static i64 scratch_floats(i64 d) {
        return kMaxRows * LDS + k_packed_floats(d) + v_packed_floats(d) + (kMaxRows + MR) * d +
               kMaxRows + BK + BK * d + kWideRows * d + 4 * (BK / 2);
    }
};

// a . b over n entries, b stored as T (widened as it is loaded), in simd::dot's order.
template <class Arch, class T> float dot_widened(const float* a, const T* b, i64 n) {
    if constexpr (std::is_same_v<T, float>) {
        return simd::dot<Arch>(a, b, n);
    } else {
        using V = simd::vfloat<Arch>;
        constexpr i64 W = V::size;
        V acc(0.0f);
        i64 c = 0;
        for (; c + W <= n; c += W)
            acc = xsimd::fma(simd::loadu<Arch>(a + c), simd::load_widened<Arch>(b + c), acc);
        float x = simd::hsum<Arch>(acc);
        for (; c < n; ++c) x += a[c] * to_float(b[c]);
        return x;
    }
}

// The order in which the bf16 narrow form (EvenOddDots) keeps query rows and output rows of d
// values, d a multiple of 2W: each run of 2W values [c, c + 2W) as its W even values, then its W
// odd ones, the two vectors load_bf16_pairs widens from one load of a K or V row.
template <class Arch> struct EvenOdd {
    static constexpr i64 W = simd::vfloat<Arch>::size;
    static bool fits(i64 d) { return d % (2 * W) == 0; }
    // out [d] = x [d] in even-odd order.
    static void split(const float* x, i64 d, float* out) {
        for (i64 c = 0; c < d; c += 2 * W)
            for (i64 i = 0; i < W; ++i)
                out[c + i] = x[c + 2 * i], out[c + W + i] = x[c + 2 * i + 1];
    }
    // x [d] from even-odd order back to column order, in place.
    static void merge(float* x, i64 d) {
        float run[2 * W];
        for (i64 c = 0; c < d; c += 2 * W) {
            for (i64 i = 0; i < 2 * W; ++i) run[i] = x[c + i];
            for (i64 i = 0; i < W; ++i) x[c + 2 * i] = run[i], x[c + 2 * i + 1] = run[W + i];
        }
    }
};

// a . b over d entries for a [d] in even-odd order and b [d] bf16 (d a multiple of 2W).
template <class Arch> float dot_even_odd(const float* a, const bf16* b, i64 d) {
    using V = simd::vfloat<Arch>;
    constexpr i64 W = V::size;
    V acc(0.0f);
    for (i64 c = 0; c < d; c += 2 * W) {
        V even, odd;
        simd::load_bf16_pairs<Arch>(b + c, even, odd);
        acc = xsimd::fma(simd::loadu<Arch>(a + c), even, acc);
        acc = xsimd::fma(simd::loadu<Arch>(a + c + W), odd, acc);
    }
    return simd::hsum<Arch>(acc);
}

// Whether dot_rows and pv_chunk may read a cache's rows one after another (see dot_rows): fp32
// on AVX-512, under the fetch into L2 (fetching into L1, 4 KiB ahead, the Zen 5 guest read a 32K
// cache in row order in 1.13-1.16x the time of the in-cache order).
template <class Arch, class T, DecodeFetch F = DecodeFetch::into_l2>
constexpr bool reads_rows_in_order() {
    return F == DecodeFetch::into_l2 && std::is_same_v<T, float> && simd::vfloat<Arch>::size == 16;
}
// The fewest vectors a key row has for dot_rows to read it in row order.
constexpr i64 kStreamRowVectors = 8;

// s[r][j] = q_r . k_j for RQ rows of q [.. x d] (row stride d) and the bk keys of k [bk x d]
// (stored as T, widened as they are loaded), into s (row stride lds). A tile of RQ rows x W / RQ
// keys keeps W accumulators whose sums one lane_sums folds into a vector; keys past the last
// whole tile and columns past the last whole vector are added one by one. With k_end (the end of
// the K rows the caller reads), the K stream is fetched ahead of the reads (prefetch_ahead<F>).
// With EvenOddRows (bf16 K, d a multiple of 2W), q's rows are in EvenOdd order and each step
// widens 2W values of a key row by load_bf16_pairs. With RowOrder (fp32 on AVX-512, for the
// tile that streams K from a cache larger than the last-level cache, rows of 8 vectors or
// more: see WidenedDots), it reads its key rows one after another, each from front to back:
// stepping through the tile's rows side by side, a vector of each in turn, left the Zen 4 guest's
// prefetcher behind (a stand-alone loop read a cache in memory at 10.6 GB/s that way, at 29-31
// GB/s in row order, as fast as the bandwidth probe). In the kernel on 2 threads, row order with
// no software prefetch read 20-24 GB/s, with prefetch_ahead's fetches into L2 27-34, and the
// side-by-side tile with them 25-29. Row by row, the RQ sums of a key
// alternate between two sets of accumulators, so that 2 RQ chains of FMAs hide their latency;
// but each FMA then loads its query vector, which costs more than the order saves where K is in
// cache (decoding a 1K cache from L3: 1.25x the time; at d 64: 1.33x), and 16-bit rows, half as
// long and widened as they load, measured no faster (f16: 0.8-1.05x the time).
template <class Arch, DecodeFetch F, int RQ, class T = float, bool EvenOddRows = false,
          bool RowOrder = false>
void dot_rows(const float* q, const T* k, i64 bk, i64 d, float* s, i64 lds, const char* k_end) {
    using V = simd::vfloat<Arch>;
    constexpr i64 W = V::size, KJ = W / RQ;
    constexpr int H = EvenOddRows ? 2 : 1;  // vectors per step
    const i64 d_main = d / (H * W) * (H * W);
    i64 j = 0;
    for (; j + KJ <= bk; j += KJ) {
        V acc[W];
        for (auto& a : acc) a = V(0.0f);
        if (k_end) prefetch_ahead<F>(k + j * d, KJ * d * i64(sizeof(T)), k_end);
        if constexpr (RowOrder) {
            for (i64 t = 0; t < KJ; ++t) {
                const T* row = k + (j + t) * d;
                // The RQ products of row t's vector at column c, into sums[r * stride].
                auto step = [&](i64 c, V* sums, i64 stride) {
                    const V kv = simd::load_widened<Arch>(row + c);
                    for (int r = 0; r < RQ; ++r)
                        sums[r * stride] =
                            xsimd::fma(simd::loadu<Arch>(q + r * d + c), kv, sums[r * stride]);
                };
                V odd[RQ];
                for (auto& a : odd) a = V(0.0f);
                i64 c = 0;
                for (; c + 2 * W <= d_main; c += 2 * W) {
                    step(c, acc + t, KJ);
                    step(c + W, odd, 1);
                }
                if (c < d_main) step(c, acc + t, KJ);
                for (int r = 0; r < RQ; ++r) acc[r * KJ + t] += odd[r];
            }
        } else {
            for (i64 c = 0; c < d_main; c += H * W) {
                V kv[KJ][H];
                for (i64 t = 0; t < KJ; ++t) {
                    if constexpr (EvenOddRows)
                        simd::load_bf16_pairs<Arch>(k + (j + t) * d + c, kv[t][0], kv[t][1]);
                    else kv[t][0] = simd::load_widened<Arch>(k + (j + t) * d + c);
                }
                for (int r = 0; r < RQ; ++r)
                    for (int h = 0; h < H; ++h) {
                        const V qv = simd::loadu<Arch>(q + r * d + c + h * W);
                        for (i64 t = 0; t < KJ; ++t)
                            acc[r * KJ + t] = xsimd::fma(qv, kv[t][h], acc[r * KJ + t]);
                    }
            }
        }
        alignas(64) float sums[W];
        simd::lane_sums<Arch>(acc).store_aligned(sums);
        if (d_main == d) {  // no tail: a plain copy the compiler unrolls
            for (int r = 0; r < RQ; ++r)
                for (i64 t = 0; t < KJ; ++t) s[r * lds + j + t] = sums[r * KJ + t];
        } else {
            for (int r = 0; r < RQ; ++r)
                for (i64 t = 0; t < KJ; ++t) {
                    float x = sums[r * KJ + t];
                    for (i64 c = d_main; c < d; ++c)
                        x += q[r * d + c] * to_float(k[(j + t) * d + c]);
                    s[r * lds + j + t] = x;
                }
        }
    }
    for (; j < bk; ++j)
        for (int r = 0; r < RQ; ++r) {
            if constexpr (EvenOddRows) s[r * lds + j] = dot_even_odd<Arch>(q + r * d, k + j * d, d);
            else s[r * lds + j] = dot_widened<Arch>(q + r * d, k + j * d, d);
        }
}

// acc[r][c0, c0 + C W) += sum_j p[r][j] v_j[c0, c0 + C W) for R rows of p (row stride lds) over
// the bk rows of v [bk x d] (stored as T, widened as they are loaded); acc row stride d. The tile
// of R rows x C vectors stays in registers over the keys, so each FMA costs a broadcast or a load
// but no store. A plain function, not a lambda capturing the caller's locals: through the closure
// GCC 12 reloaded the pointers from memory on every key and spilled the tile at its end, which took
// twice the time of this form (decode, 4 rows, d 128, V in L2: 5.3 against 2.7 us per 512 keys on
// AVX-512). With EvenOddRows (bf16 V), acc's rows are in EvenOdd order and each pair of vectors
// of a V row is widened by one load_bf16_pairs.
template <class Arch, DecodeFetch F, int R, int C, class T, bool EvenOddRows = false>
inline void pv_tile(const float* p, i64 lds, const T* v, i64 bk, i64 d, float* acc, i64 c0,
                    const char* v_end) {
    static_assert(!EvenOddRows || C % 2 == 0);
    using V = simd::vfloat<Arch>;
    constexpr i64 W = V::size;
    V a[R][C];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) a[r][c] = simd::loadu<Arch>(acc + r * d + c0 + c * W);
    for (i64 j = 0; j < bk; ++j) {
        if (v_end) prefetch_ahead<F>(v + j * d, d * i64(sizeof(T)), v_end);
        V vv[C];
        if constexpr (EvenOddRows)
            for (int c = 0; c < C; c += 2)
                simd::load_bf16_pairs<Arch>(v + j * d + c0 + c * W, vv[c], vv[c + 1]);
        else
            for (int c = 0; c < C; ++c) vv[c] = simd::load_widened<Arch>(v + j * d + c0 + c * W);
        for (int r = 0; r < R; ++r) {
            const V pr(p[r * lds + j]);
            for (int c = 0; c < C; ++c) a[r][c] = xsimd::fma(pr, vv[c], a[r][c]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) simd::storeu<Arch>(acc + r * d + c0 + c * W, a[r][c]);
}

// acc[r][:] += sum_j p[r][j] v_j for R rows of p (row stride lds) over the bk rows of v [bk x d]
// (stored as T); acc row stride d: pv_tile over the columns, the first tile prefetching the V
// stream (v_end). With EvenOddRows, as pv_tile's (d a multiple of 2W).
template <class Arch, DecodeFetch F, int R, class T, bool EvenOddRows = false,
          bool WholeRows = false>
void pv_chunk(const float* p, i64 lds, const T* v, i64 bk, i64 d, float* acc, const char* v_end) {
    // R x CV accumulators, CV loads and a broadcast: CV = 4 fits 32 registers, 2 fits 16.
    constexpr i64 W = simd::vfloat<Arch>::size, CV = simd::Tile<Arch>::Registers == 32 ? 4 : 2;
    constexpr int H = EvenOddRows ? 2 : 1;  // vectors per step past the CV-vector tiles
    // With WholeRows (the tile that streams V from a cache larger than the last-level cache, fp32
    // rows of kStreamRowVectors: d 128 on AVX-512; see WidenedDots), it reads each row whole, two
    // rows of p at a time, so that V leaves memory row after row (see dot_rows): in column tiles of
    // half a row a stand-alone loop on the Zen 4 guest read it at 17-18 GB/s. The first pair of
    // rows prefetches the V stream; the second reads the chunk's V rows from L1.
    if constexpr (WholeRows && R % 2 == 0) {
        for (int r = 0; r < R; r += 2)
            pv_tile<Arch, F, 2, kStreamRowVectors, T>(p + r * lds, lds, v, bk, d, acc + r * d, 0,
                                                      r == 0 ? v_end : nullptr);
        return;
    }
    i64 c0 = 0;
    for (; c0 + CV * W <= d; c0 += CV * W)
        pv_tile<Arch, F, R, CV, T, EvenOddRows>(p, lds, v, bk, d, acc, c0,
                                                c0 == 0 ? v_end : nullptr);
    for (; c0 + H * W <= d; c0 += H * W)
        pv_tile<Arch, F, R, H, T, EvenOddRows>(p, lds, v, bk, d, acc, c0,
                                               c0 == 0 ? v_end : nullptr);
    for (; c0 < d; ++c0)
        for (int r = 0; r < R; ++r) {
            float x = acc[r * d + c0];
            for (i64 j = 0; j < bk; ++j) x += p[r * lds + j] * to_float(v[j * d + c0]);
            acc[r * d + c0] = x;
        }
}

// acc[r][:] += sum_j p[r][j] v_j for R rows of p (row stride lds) over the bk rows of v [bk x d]
// (stored as T; acc row stride d), by pv_chunk over chunks of keys.
template <class Arch, DecodeFetch F, int R, class T = float, bool EvenOddRows = false,
          bool WholeRows = false>
void pv_rows(const float* p, i64 lds, const T* v, i64 bk, i64 d, float* acc, const char* v_end) {
    // Keys in chunks of 16, whose V rows (8 KiB at d = 128) stay in L1 while every column tile
    // passes over them.
    constexpr i64 KC = 16;
    for (i64 j0 = 0; j0 < bk; j0 += KC)
        pv_chunk<Arch, F, R, T, EvenOddRows, WholeRows>(p + j0, lds, v + j0 * d,
                                                        std::min(KC, bk - j0), d, acc, v_end);
}

// The narrow form's products by dot_rows and pv_rows: the scaled query rows and the
// probabilities in fp32, K and V widened as they are loaded, fetched ahead by F.
template <class Arch, class T, DecodeFetch F> struct WidenedDots {
    const float* q;
    i64 d;
    bool from_memory = false;  // the cache is larger than the last-level cache
    // q_scaled [rows x d]; the bf16-pair area of the scratch (unused here).
    WidenedDots(const float* q_scaled, i64 /*rows*/, i64 d, float* /*pairs*/) : q(q_scaled), d(d) {}
    // s[i][j] = q_{r + i} . k_j for the R rows from r and the bk keys of kb [bk x d].
    template <int R>
    void rows(i64 r, const T* kb, i64 bk, float* s, i64 lds, const char* k_end) const {
        // The row order where it pays (see dot_rows), chosen per call, each order compiled
        // apart: a run-time branch inside the loop made the other order 1.11-1.13x slower.
        if constexpr (reads_rows_in_order<Arch, T, F>())
            if (from_memory && k_end && d >= kStreamRowVectors * i64(simd::vfloat<Arch>::size))
                return dot_rows<Arch, F, R, T, false, true>(q + r * d, kb, bk, d, s, lds, k_end);
        dot_rows<Arch, F, R, T>(q + r * d, kb, bk, d, s, lds, k_end);
    }
    // acc[i] += sum_j s[i][j] v_j for the R rows of s (row stride lds) and the bk rows of vb.
    template <int R>
    void pv(const float* s, i64 lds, const T* vb, i64 bk, float* acc, const char* v_end) const {
        if constexpr (reads_rows_in_order<Arch, T, F>() && R % 2 == 0)
            if (from_memory && v_end && d == kStreamRowVectors * simd::vfloat<Arch>::size)
                return pv_rows<Arch, F, R, T, false, true>(s, lds, vb, bk, d, acc, v_end);
        pv_rows<Arch, F, R, T>(s, lds, vb, bk, d, acc, v_end);
    }
    // acc [rows x d] after the last block: already in column order.
    void finish(float* /*acc*/, i64 /*rows*/) const {}
};

// The narrow form's products on a bf16 cache whose head size is a multiple of 2W (EvenOdd::fits):
// each load of a K or V row takes 2W values, widened by a shift and a mask (load_bf16_pairs),
// where WidenedDots takes a zero-extension and a shift for every W; the query rows and the output
// accumulator are kept in EvenOdd order to match, and finish puts acc back in column order.
// Decoding an 8K Llama-3-8B cache, which stays in L3 on the AVX-512 Xeon guest, took 0.92-0.93x the
// time of WidenedDots's.
template <class Arch, DecodeFetch F> struct EvenOddDots {
    const float* q;
    i64 d;
    // q_scaled [rows x d]; `split` holds kWideRows x d floats, for the rows in EvenOdd order.
    EvenOddDots(const float* q_scaled, i64 rows, i64 d, float* split) : q(split), d(d) {
        for (i64 r = 0; r < rows; ++r) EvenOdd<Arch>::split(q_scaled + r * d, d, split + r * d);
    }
    // s[i][j] = q_{r + i} . k_j for the R rows from r and the bk keys of kb [bk x d].
    template <int R>
    void rows(i64 r, const bf16* kb, i64 bk, float* s, i64 lds, const char* k_end) const {
        dot_rows<Arch, F, R, bf16, true>(q + r * d, kb, bk, d, s, lds, k_end);
    }
    // acc[i] += sum_j s[i][j] v_j for the R rows of s (row stride lds) and the bk rows of vb.
    template <int R>
    void pv(const float* s, i64 lds, const bf16* vb, i64 bk, float* acc, const char* v_end) const {
        pv_rows<Arch, F, R, bf16, true>(s, lds, vb, bk, d, acc, v_end);
    }
    // acc [rows x d] after the last block, back in column order.
    void finish(float* acc, i64 rows) const {
        for (i64 r = 0; r < rows; ++r) EvenOdd<Arch>::merge(acc + r * d, d);
    }
};

// Calls step.operator()<R>(r) over rows [0, rows) in tiles of R = MaxR rows, then of fewer.
template <int MaxR, class Step> void by_row_tiles(i64 rows, Step step) {
    i64 r = 0;
    if constexpr (MaxR >= 4)
        for (; r + 4 <= rows; r += 4) step.template operator()<4>(r);
    if constexpr (MaxR >= 2)
        for (; r + 2 <= rows; r += 2) step.template operator()<2>(r);
    for (; r < rows; ++r) step.template operator()<1>(r);
}

// The online-softmax state of `rows` query rows over keys [j_begin, j_end) of one K/V head, K and
// V stored as T (the narrow form widens them as it loads them, the wide form each block before
// packing it); see FlashOps::decode_rows for the layouts. `scratch` holds
// Decode::scratch_floats(d) floats. Dots computes the narrow form's two products (WidenedDots, or
// the bf16 products of flash_avx512bf16.cpp) and fetches K and V ahead of them.
template <class Arch, class T, class Dots>
void decode_rows(const Shape& sh, const float* q, i64 rows, const T* k, const T* v, i64 j_begin,
                 i64 j_end, float* row_max, float* row_sum, float* acc, float* scratch) {
    using D = Decode<Arch>;
    const i64 d = sh.head_dim;
    const bool cosine = sh.similarity == Similarity::cosine;
    const bool wide = rows >= D::kWideRows;
    float* scores = scratch;
    float* k_packed = scores + D::kMaxRows * D::LDS;
    float* v_packed = k_packed + D::k_packed_floats(d);
    float* q_scaled = v_packed + D::v_packed_floats(d);
    float* q_norms = q_scaled + (D::kMaxRows + D::MR) * d;
    float* k_norms = q_norms + D::kMaxRows;
    float* block_wide = k_norms + D::BK;
    float* q_pairs = block_wide + D::BK * d;
    // The bk rows of a 16-bit K or V block as fp32, in block_wide (a float block as it is).
    auto widened = [&](const T* block, i64 bk) -> const float* {
        if constexpr (std::is_same_v<T, float>) {
            return block;
        } else {
            simd::widen_n<Arch>(block, bk * d, block_wide);
            return block_wide;
        }
    };
    // In log2 units, as the prefill path: e^(s - m) becomes 2^(s' - m').
    const float scale = sh.effective_scale() * simd::kLog2e;
    if (wide) simd::pack_a<Arch>(rows, d, q, d, scale, q_scaled);
    for (i64 r = 0; r < rows; ++r) {
        if (!wide)
            for (i64 c = 0; c < d; ++c) q_scaled[r * d + c] = q[r * d + c] * scale;
        row_max[r] = simd::kNegInf, row_sum[r] = 0.0f;
        for (i64 c = 0; c < d; ++c) acc[r * d + c] = 0.0f;
    }
    if (cosine) simd::row_norms<Arch>(q, rows, d, q_norms);
    Dots dots(q_scaled, wide ? 0 : rows, d, q_pairs);
    if constexpr (requires { dots.from_memory; })
        dots.from_memory = 2 * sh.batch * sh.kv_head_count() * sh.n_kv * d * i64(sizeof(T)) >
                           last_level_cache_bytes();
    const char* k_end = reinterpret_cast<const char*>(k + j_end * d);
    const char* v_end = reinterpret_cast<const char*>(v + j_end * d);
    for (i64 j0 = j_begin; j0 < j_end; j0 += D::BK) {
        const i64 bk = std::min(D::BK, j_end - j0);
        const T* kb = k + j0 * d;
        const T* vb = v + j0 * d;
        // A 16-bit block the wide form packs, or whose norms cosine takes, is widened once.
        const float* kw = wide || cosine ? widened(kb, bk) : nullptr;
        if (cosine) simd::row_norms<Arch>(kw, bk, d, k_norms);
        if (wide) {
            simd::pack_b<Arch>(d, bk, kw, d, true, k_packed);
            prefetch_block(kb + bk * d, bk * d * i64(sizeof(T)), k_end);
            simd::gemm_packed_ab<Arch>(rows, bk, d, q_scaled, k_packed, d * D::NR, scores, D::LDS);
        } else {
            // Tiles of 4 rows x W / 4 keys, so a group of 4 query rows (the common GQA group)
            // reads each K row of the block once while its query rows stay in L1. The first row
            // tile prefetches the K stream, never past this part's keys.
            by_row_tiles<4>(rows, [&]<int R>(i64 r) {
                dots.template rows<R>(r, kb, bk, scores + r * D::LDS, D::LDS,
                                      r == 0 ? k_end : nullptr);
            });
        }
        for (i64 r = 0; r < rows; ++r) {
            const i64 vis = std::clamp(sh.visible_keys(r % sh.n_q) - j0, i64(0), bk);
            online_update_row<Arch>(scores + r * D::LDS, vis, bk, sh.similarity, q_norms[r],
                                    k_norms, row_max[r], row_sum[r], acc + r * d, d);
        }
        if (wide) {
            simd::pack_b<Arch>(bk, d, widened(vb, bk), d, false, v_packed);
            prefetch_block(vb + bk * d, bk * d * i64(sizeof(T)), v_end);
            simd::gemm_packed<Arch>(rows, d, bk, 1.0f, scores, D::LDS, v_packed, bk * D::NR, acc, d,
                                    true);
        } else {
            // The first P V tile prefetches the V stream.
            by_row_tiles<4>(rows, [&]<int R>(i64 r) {
                dots.template pv<R>(scores + r * D::LDS, D::LDS, vb, bk, acc + r * d,
                                    r == 0 ? v_end : nullptr);
            });
        }
    }
    if (!wide) dots.finish(acc, rows);
}

// Calls body.template operator()<F>() with F this process's decode_fetch(), each fetch compiled
// into the loops apart.
template <class Body> void with_decode_fetch(Body body) {
    if (decode_fetch() == DecodeFetch::into_l1) body.template operator()<DecodeFetch::into_l1>();
    else body.template operator()<DecodeFetch::into_l2>();
}

// decode_rows on a cache stored as T (fp32 or f16) by WidenedDots, under decode_fetch().
template <class Arch, class T> void decode_rows_widened(const Shape& sh, const float* q, i64 rows,
                                                        const T* k, const T* v, i64 j_begin,
                                                        i64 j_end, float* row_max, float* row_sum,
                                                        float* acc, float* scratch) {
    with_decode_fetch([&]<DecodeFetch F>() {
        decode_rows<Arch, T, WidenedDots<Arch, T, F>>(sh, q, rows, k, v, j_begin, j_end, row_max,
                                                      row_sum, acc, scratch);
    });
}

// decode_rows on a bf16 cache: by EvenOddDots where the head size is whole runs of 2W values,
// else by WidenedDots, under decode_fetch().
template <class Arch> void decode_rows_bf16(const Shape& sh, const float* q, i64 rows,
                                            const bf16* k, const bf16* v, i64 j_begin, i64 j_end,
                                            float* row_max, float* row_sum, float* acc,
                                            float* scratch) {
    if (!EvenOdd<Arch>::fits(sh.head_dim))
        return decode_rows_widened<Arch, bf16>(sh, q, rows, k, v, j_begin, j_end, row_max, row_sum,
                                               acc, scratch);
    with_decode_fetch([&]<DecodeFetch F>() {
        decode_rows<Arch, bf16, EvenOddDots<Arch, F>>(sh, q, rows, k, v, j_begin, j_end, row_max,
                                                      row_sum, acc, scratch);
    });
}

}  // namespace
}  // namespace attn::flash
