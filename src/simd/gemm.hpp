// A packed single-precision matrix product written once for every ISA: C = alpha A B (+ C).
// B is packed into strips NR = NV vectors wide, each stored [k][NR] contiguously, so the
// micro-kernel streams it with aligned-width loads while broadcasting A; the MR x NR tile of C
// lives in registers for a whole KC-long slice. Included only by per-ISA translation units.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>

#include "xsimd_compat.hpp"

namespace attn::simd {
namespace {

template <class Arch> struct Tile {
    static constexpr int W = int(vfloat<Arch>::size);
    // Vector registers: aarch64's Advanced SIMD has 32 (v0-v31) at every width, AVX-512 32 zmm,
    // AVX2 and SSE2 16.
#if defined(__aarch64__)
    static constexpr int Registers = 32;
#else
    static constexpr int Registers = W == 16 ? 32 : 16;
#endif
    // Accumulators MR x NV plus NV loads of B and a broadcast must fit the register file:
    // 12 x 2 = 24 accumulators in 32 registers, 6 x 2 in 16.
    static constexpr int MR = Registers == 32 ? 12 : 6;
    static constexpr int NV = 2;
    static constexpr int NR = NV * W;
    // A KC-long slice of a B strip (KC x NR floats: 32 KiB for AVX-512) stays in L1 while a
    // column of micro-tiles sweeps over it.
    static constexpr std::int64_t KC = W == 16 ? 192 : 512;
    // The most rows of X a projection multiplies by W read in place (few_rows_product) rather
    // than packed: below it, packing W costs more than the product saves.
    static constexpr std::int64_t DirectRows = 16;
};

// Size in floats of a packed B of K rows and N columns: ceil(N / NR) strips of K x NR.
template <class Arch> inline std::int64_t packed_size(std::int64_t K, std::int64_t N) {
    constexpr int NR = Tile<Arch>::NR;
    return (N + NR - 1) / NR * NR * K;
}

#if defined(__x86_64__)  // the transposes of the AVX2 and AVX-512 tiers (W = 8 and 16)
// out[c] = column c of the 8 x 8 block held in r[0..7] (one row per register): three rounds of
// shuffles, where AVX2's gather of 8 floats costs about as much as all of them. A template, so
// that only the AVX2 tier (W = 8) instantiates it; constant selectors, as every -O level needs.
template <class Arch> inline void transpose_8x8_regs(const __m256 r[8], __m256 out[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; ++i) {
        out[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        out[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

// dst[c][r] = src[r][c] for the 8 x 8 block src (rows ld floats apart) into dst (rows dst_ld
// apart).
template <class Arch>
inline void transpose_8x8(const float* src, std::int64_t ld, float* dst, std::int64_t dst_ld) {
    __m256 r[8], c[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld);
    transpose_8x8_regs<Arch>(r, c);
    for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + i * dst_ld, c[i]);
}

// out[c] = column c of the 16 x 16 block held in r[0..15] (one row per register; r is
// clobbered): two rounds of in-lane shuffles as transpose_8x8_regs's, then two of 128-bit lane
// selections across registers (permutex2var, which the emulated build has as well). Only the
// AVX-512 tier (W = 16) instantiates it.
template <class Arch> inline void transpose_16x16_regs(__m512 r[16], __m512 out[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    // r[4g + c], lane L: column 4L + c of rows 4g .. 4g + 3.
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    // Lanes (a0, a1, b0, b1) and (a2, a3, b2, b3), then (a0, a2, b0, b2) and (a1, a3, b1, b3).
    const __m512i low = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    const __m512i high =
        _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    const __m512i even =
        _mm512_setr_epi32(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
    const __m512i odd =
        _mm512_setr_epi32(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
    for (int c = 0; c < 4; ++c) {
        const __m512 u0 = _mm512_permutex2var_ps(r[c], low, r[4 + c]);
        const __m512 u1 = _mm512_permutex2var_ps(r[c], high, r[4 + c]);
        const __m512 v0 = _mm512_permutex2var_ps(r[8 + c], low, r[12 + c]);
        const __m512 v1 = _mm512_permutex2var_ps(r[8 + c], high, r[12 + c]);
        out[c] = _mm512_permutex2var_ps(u0, even, v0);
        out[4 + c] = _mm512_permutex2var_ps(u0, odd, v0);
        out[8 + c] = _mm512_permutex2var_ps(u1, even, v1);
        out[12 + c] = _mm512_permutex2var_ps(u1, odd, v1);
    }
}

// dst[c][r] = src[r][c] for the 16 x 16 block src (rows ld floats apart) into dst (rows dst_ld
// apart), where AVX-512's gathers cost pack_b 8% of a flash head at n:128.
template <class Arch>
inline void transpose_16x16(const float* src, std::int64_t ld, float* dst, std::int64_t dst_ld) {
    __m512 r[16], c[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * ld);
    transpose_16x16_regs<Arch>(r, c);
    for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * dst_ld, c[i]);
}
#endif

// Packs op(B) [K x N] into strips; op(B) = B [K x N] row-major (ldb), or, with `transposed`,
// B is [N x K] row-major and op(B) its transpose (how K enters Q K^T). Columns past N are zero.
template <class Arch> void pack_b(std::int64_t K, std::int64_t N, const float* B, std::int64_t ldb,
                                  bool transposed, float* out) {
    constexpr int NR = Tile<Arch>::NR;
    for (std::int64_t j0 = 0; j0 < N; j0 += NR) {
        float* strip = out + (j0 / NR) * K * NR;
        const std::int64_t nb = N - j0 < NR ? N - j0 : NR;
        constexpr int W = Tile<Arch>::W;
        if (transposed && nb == NR && std::int64_t(W - 1) * ldb < (std::int64_t(1) << 31)) {
            // A full strip: each packed row gathers one column of W source rows at a time; on
            // AVX2, 8 columns at a time by 8 x 8 transposes (with gathers, pack_b took 6.7% of a
            // flash attention call at n:128 d:64).
            std::int64_t k = 0;
#if defined(__x86_64__)
            if constexpr (W == 8)
                for (; k + 8 <= K; k += 8)
                    for (int v = 0; v < NR / W; ++v)
                        transpose_8x8<Arch>(B + (j0 + v * W) * ldb + k, ldb, strip + k * NR + v * W,
                                            NR);
            if constexpr (W == 16)
                for (; k + 16 <= K; k += 16)
                    for (int v = 0; v < NR / W; ++v)
                        transpose_16x16<Arch>(B + (j0 + v * W) * ldb + k, ldb,
                                              strip + k * NR + v * W, NR);
#endif
            using I = xsimd::batch<std::int32_t, Arch>;
            alignas(64) std::int32_t offsets[W];
            for (int lane = 0; lane < W; ++lane) offsets[lane] = std::int32_t(lane * ldb);
            const I index = I::load_aligned(offsets);
            for (; k < K; ++k)
                for (int v = 0; v < NR / W; ++v)
                    vfloat<Arch>::gather(B + (j0 + v * W) * ldb + k, index)
                        .store_aligned(strip + k * NR + v * W);
            continue;
        }
        if (transposed) {
            // Each source row is read once, contiguously; the strip (K x NR floats) stays in L1
            // while its columns are filled.
            for (std::int64_t j = 0; j < nb; ++j) {
                const float* src = B + (j0 + j) * ldb;
                for (std::int64_t k = 0; k < K; ++k) strip[k * NR + j] = src[k];
            }
            for (std::int64_t k = 0; k < K; ++k)
                for (std::int64_t j = nb; j < NR; ++j) strip[k * NR + j] = 0.0f;
            continue;
        }
        if (nb == NR) {  // a full strip: whole vectors, each row of the strip from one source row
            for (std::int64_t k = 0; k < K; ++k)
                for (int v = 0; v < NR / W; ++v)
                    storeu<Arch>(strip + k * NR + v * W, loadu<Arch>(B + k * ldb + j0 + v * W));
            continue;
        }
        for (std::int64_t k = 0; k < K; ++k) {
            float* row = strip + k * NR;
            for (std::int64_t j = 0; j < nb; ++j) row[j] = B[k * ldb + j0 + j];
            for (std::int64_t j = nb; j < NR; ++j) row[j] = 0.0f;
        }
    }
}

// C[M' x NR] (+)= alpha * A[M' x kc] * strip[kc x NR] for M' = MR rows and a strip packed by
// pack_b (rows NR floats apart); the first `nvalid` columns are written. `first` says whether C
// is overwritten rather than accumulated into. With row_scale, row r of the product is also
// scaled by row_scale[r] (flash divides its output rows by their softmax sums this way). A is
// row-major (element (r, k) at A[r * lda + k]) or, with PackedA, packed k-major (at A[k * lda + r],
// lda = the tile height), so that the broadcasts of one k step read one contiguous run instead of
// MR rows. With PacksB, Bp is a full strip of B not yet packed (row k at Bp + k * ldb), which the
// tile also stores packed at `packed` (row k at packed + k * NR, as pack_b lays it out), so that
// packing reads memory only once; its rows lie a row of B apart, so they are fetched ahead. With
// StreamsA, the tile of C it accumulates into is fetched into cache during its product, and so,
// for a packed A, are the kc * MR floats after this tile's slice (where gemm_tiles's callers lay
// the next tile): when A streams from memory, the first strip of B to meet a tile would otherwise
// wait on it. (An A read in place is left to the hardware prefetchers: fetching the next tile's
// rows by software made the projection 2-10% slower.) One line of each of the first fetch_count
// rows ldb floats apart from fetch_rows is fetched into cache, one per k step: the next strip of
// a B not yet packed, whose packing tile would otherwise wait on memory for each of its rows.
template <class Arch, int MR, bool PackedA = false, bool PacksB = false, bool StreamsA = false>
inline void micro_tile(std::int64_t kc, const float* A, std::int64_t lda, const float* Bp, float* C,
                       std::int64_t ldc, float alpha, bool first, int nvalid,
                       const float* row_scale = nullptr, std::int64_t ldb = Tile<Arch>::NR,
                       float* packed = nullptr, const float* fetch_rows = nullptr,
                       std::int64_t fetch_count = 0) {
    using V = vfloat<Arch>;
    constexpr int NV = Tile<Arch>::NV, W = Tile<Arch>::W, NR = Tile<Arch>::NR;
    V acc[MR][NV];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = V(0.0f);
    // The tile of C that the epilogue adds to is fetched while the products run: a projection
    // deeper than one K slice reads its block of Y back from L2 once per slice, and those
    // 2 x MR line loads, waited for at the end, cost 1-4% of the product at d_model 4096.
    // Flash's products (A in place) gained nothing from it and lost 1% at n 512, causal.
    if (StreamsA && !first)
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) __builtin_prefetch(C + r * ldc + v * W, 1, 3);
    // In place, row r is reached from the first row of its group of three at 0, 1 or 2 row
    // strides: (MR + 2) / 3 pointers and two strides in registers, where a register per row (12
    // on AVX-512) spilled the loop's counters to the stack. On Zen 4 the projection at d_model
    // 768 ran 1.03x as fast this way, and flash's Q K^T with it.
    const char* group_base[(MR + 2) / 3];
    const std::int64_t lda_bytes = lda * std::int64_t(sizeof(float));
#pragma GCC unroll 8
    for (int g = 0; g < (MR + 2) / 3; ++g)
        group_base[g] = reinterpret_cast<const char*>(A) + 3 * g * lda_bytes;
    auto row_at = [&](int r) {
        return reinterpret_cast<const float*>(group_base[r / 3] + (r % 3) * lda_bytes);
    };
#pragma GCC unroll 4
    for (std::int64_t k = 0; k < kc; ++k) {
        V b[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
            b[v] = V::load_unaligned(Bp + k * (PacksB ? ldb : NR) + v * W);
            if constexpr (PacksB) b[v].store_aligned(packed + k * NR + v * W);
        }
        // A 64-byte line per k step: 16 kc floats, at least the next tile's MR kc.
        if constexpr (StreamsA && PackedA) __builtin_prefetch(A + kc * MR + k * 16);
        if constexpr (PacksB)
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) __builtin_prefetch(Bp + (k + 16) * ldb + v * W);
        if (k < fetch_count) __builtin_prefetch(fetch_rows + k * ldb);
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
            const V a(PackedA ? A[k * lda + r] : row_at(r)[k]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(a, b[v], acc[r][v]);
        }
    }
    const V va(alpha);
    // The factor of row r.
    auto scale = [&](int r) { return row_scale ? V(alpha * row_scale[r]) : va; };
    if (nvalid == NR && first && alpha == 1.0f && !row_scale) {  // nothing to scale
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) storeu<Arch>(C + r * ldc + v * W, acc[r][v]);
        return;
    }
    if (nvalid == NR) {
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) {
                float* c = C + r * ldc + v * W;
                const V f = scale(r);
                storeu<Arch>(c, first ? acc[r][v] * f : xsimd::fma(acc[r][v], f, loadu<Arch>(c)));
            }
        return;
    }
    // Unrolled with constant indices, so that acc stays in registers on the full-tile path above
    // (a loop indexing acc by a variable would make GCC keep all of it on the stack).
    alignas(64) float tmp[MR][NR];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) (acc[r][v] * scale(r)).store_aligned(&tmp[r][v * W]);
    for (int r = 0; r < MR; ++r) {
        float* c = C + r * ldc;
        for (int j = 0; j < nvalid; ++j) c[j] = first ? tmp[r][j] : c[j] + tmp[r][j];
    }
}

// Dispatches a row count 1..MR to the micro-kernel compiled for exactly that many rows.
template <class Arch, bool PackedA = false, int R = Tile<Arch>::MR>
inline void micro_rows(int rows, std::int64_t kc, const float* A, std::int64_t lda, const float* Bp,
                       float* C, std::int64_t ldc, float alpha, bool first, int nvalid,
                       const float* row_scale = nullptr) {
    if constexpr (R > 0) {
        if (rows == R)
            return micro_tile<Arch, R, PackedA>(kc, A, lda, Bp, C, ldc, alpha, first, nvalid,
                                                row_scale);
        micro_rows<Arch, PackedA, R - 1>(rows, kc, A, lda, Bp, C, ldc, alpha, first, nvalid,
                                         row_scale);
    }
}

#if defined(__x86_64__)
// The 8 k-steps [k, k + 8) of one 6-row tile of pack_a on AVX2: a [rows x 8] block of A (rows
// lda floats apart, rows <= 6; missing rows read as zero) times scale, stored k-major as 8 runs
// of 6 floats at dst. Each run is written by one 8-float store whose last 2 floats the next run
// overwrites; the block's last run, which may end the buffer (`last`), is stored masked.
template <class Arch> inline void pack_a_6x8(const float* A, std::int64_t lda, int rows,
                                             float scale, float* dst, bool last) {
    const __m256 s = _mm256_set1_ps(scale);
    __m256 r[8], col[8];
    for (int i = 0; i < 8; ++i)
        r[i] = i < rows ? _mm256_mul_ps(_mm256_loadu_ps(A + i * lda), s) : _mm256_setzero_ps();
    transpose_8x8_regs<Arch>(r, col);  // col[c]: k-step c of the block's rows
    for (int c = 0; c < 7; ++c) _mm256_storeu_ps(dst + c * 6, col[c]);
    if (last)
        _mm256_maskstore_ps(dst + 42, _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0), col[7]);
    else _mm256_storeu_ps(dst + 42, col[7]);
}

// The 16 k-steps [k, k + 16) of one 12-row tile of pack_a on AVX-512: a [rows x 16] block of A
// (rows lda floats apart, rows <= 12; missing rows read as zero) times scale, stored k-major as 16
// runs of 12 floats at dst. Each run is written by one 16-float store whose last 4 floats the
// next run overwrites; the block's last run, which may end the buffer (`last`), goes through a
// buffer and its 12 floats are copied.
template <class Arch> inline void pack_a_12x16(const float* A, std::int64_t lda, int rows,
                                               float scale, float* dst, bool last) {
    const __m512 s = _mm512_set1_ps(scale);
    __m512 r[16], col[16];
    for (int i = 0; i < 16; ++i)
        r[i] = i < rows ? _mm512_mul_ps(_mm512_loadu_ps(A + i * lda), s) : _mm512_setzero_ps();
    transpose_16x16_regs<Arch>(r, col);  // col[c]: k-step c of the block's rows
    for (int c = 0; c < 15; ++c) _mm512_storeu_ps(dst + c * 12, col[c]);
    if (last) {
        alignas(64) float run[16];
        _mm512_store_ps(run, col[15]);
        for (int i = 0; i < 12; ++i) dst[180 + i] = run[i];
    } else {
        _mm512_storeu_ps(dst + 180, col[15]);
    }
}
#endif

// Packs rows [0, M) of scale * A [M x K] (row-major, lda) into tiles of MR rows, each stored
// k-major [K][MR]; rows past M are zero. `out` holds ceil(M / MR) * MR * K floats. Scaling here,
// once per row, lets the product skip a multiplication per output.
template <class Arch> void pack_a(std::int64_t M, std::int64_t K, const float* A, std::int64_t lda,
                                  float scale, float* out) {
    constexpr int MR = Tile<Arch>::MR;
    for (std::int64_t i0 = 0; i0 < M; i0 += MR) {
        float* tile = out + i0 * K;
#if defined(__x86_64__)
        if constexpr (Tile<Arch>::W == 16) {
            // 16 k at a time by a 12 x 16 -> 16 x 12 transpose, as on AVX2 below.
            const int rows = M - i0 < MR ? int(M - i0) : MR;
            std::int64_t k = 0;
            for (; k + 16 <= K; k += 16)
                pack_a_12x16<Arch>(A + i0 * lda + k, lda, rows, scale, tile + k * MR, k + 16 == K);
            for (; k < K; ++k)
                for (int r = 0; r < MR; ++r)
                    tile[k * MR + r] = r < rows ? scale * A[(i0 + r) * lda + k] : 0.0f;
            continue;
        }
        if constexpr (Tile<Arch>::W == 8) {
            // 8 k at a time by a 6 x 8 -> 8 x 6 shuffle transpose: the scalar loop below stores
            // one float per instruction, and took half of the flash block's own time at n:128.
            const int rows = M - i0 < MR ? int(M - i0) : MR;
            std::int64_t k = 0;
            for (; k + 8 <= K; k += 8)
                pack_a_6x8<Arch>(A + i0 * lda + k, lda, rows, scale, tile + k * MR, k + 8 == K);
            for (; k < K; ++k)
                for (int r = 0; r < MR; ++r)
                    tile[k * MR + r] = r < rows ? scale * A[(i0 + r) * lda + k] : 0.0f;
            continue;
        }
#endif
        for (int r = 0; r < MR; ++r) {
            if (i0 + r < M)
                for (std::int64_t k = 0; k < K; ++k)
                    tile[k * MR + r] = scale * A[(i0 + r) * lda + k];
            else
                for (std::int64_t k = 0; k < K; ++k) tile[k * MR + r] = 0.0f;
        }
    }
}

// C[M x N] = A * B for an A packed (and scaled) by pack_a (tile t of rows at Ap + t * MR * K) and
// a B packed by pack_b with strips `strip_stride` apart; M need not be a multiple of MR.
template <class Arch> void gemm_packed_ab(std::int64_t M, std::int64_t N, std::int64_t K,
                                          const float* Ap, const float* Bp,
                                          std::int64_t strip_stride, float* C, std::int64_t ldc) {
    constexpr float alpha = 1.0f;
    constexpr int MR = Tile<Arch>::MR, NR = Tile<Arch>::NR;
    constexpr std::int64_t KC = Tile<Arch>::KC;
    for (std::int64_t k0 = 0; k0 < K; k0 += KC) {
        const std::int64_t kc = K - k0 < KC ? K - k0 : KC;
        // Row tiles outer: one tile of A (MR x kc, 6 KiB at kc = 128) stays in L1 while the strips
        // of B stream past; measured 3% faster in flash attention than strips outer.
        for (std::int64_t i0 = 0; i0 < M; i0 += MR) {
            const float* a = Ap + i0 * K + k0 * MR;
            for (std::int64_t j0 = 0; j0 < N; j0 += NR) {
                const float* strip = Bp + (j0 / NR) * strip_stride + k0 * NR;
                const int nvalid = int(N - j0 < NR ? N - j0 : NR);
                if (i0 + MR <= M)
                    micro_tile<Arch, MR, true>(kc, a, MR, strip, C + i0 * ldc + j0, ldc, alpha,
                                               k0 == 0, nvalid);
                else
                    micro_rows<Arch, true>(int(M - i0), kc, a, MR, strip, C + i0 * ldc + j0, ldc,
                                           alpha, k0 == 0, nvalid);
            }
        }
    }
}

// C [m x n] (row stride ldc) = 0: a product over an empty depth.
inline void zero_matrix(std::int64_t m, std::int64_t n, float* c, std::int64_t ldc) {
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) c[i * ldc + j] = 0.0f;
}

// C[M x N] = alpha * A[M x K] * B + (accumulate ? C : 0) for a B packed by pack_b, its strips
// `strip_stride` floats apart (K * NR for a freshly packed B; larger when B is a row range of a
// longer packed matrix, as a KV block is in flash attention); with row_scale [M], row i of the
// product is also scaled by row_scale[i]. K is taken in slices of KC.
template <class Arch, std::int64_t KC = Tile<Arch>::KC>
void gemm_packed(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                 std::int64_t lda, const float* Bp, std::int64_t strip_stride, float* C,
                 std::int64_t ldc, bool accumulate, const float* row_scale = nullptr) {
    constexpr int MR = Tile<Arch>::MR, NR = Tile<Arch>::NR;
    if (K == 0) {  // an empty sum
        if (!accumulate) zero_matrix(M, N, C, ldc);
        return;
    }
    for (std::int64_t k0 = 0; k0 < K; k0 += KC) {
        const std::int64_t kc = K - k0 < KC ? K - k0 : KC;
        const bool first = !accumulate && k0 == 0;
        for (std::int64_t j0 = 0; j0 < N; j0 += NR) {
            const float* strip = Bp + (j0 / NR) * strip_stride + k0 * NR;
            const int nvalid = int(N - j0 < NR ? N - j0 : NR);
            std::int64_t i0 = 0;
            for (; i0 + MR <= M; i0 += MR)
                micro_tile<Arch, MR>(kc, A + i0 * lda + k0, lda, strip, C + i0 * ldc + j0, ldc,
                                     alpha, first, nvalid, row_scale ? row_scale + i0 : nullptr);
            if (i0 < M)
                micro_rows<Arch>(int(M - i0), kc, A + i0 * lda + k0, lda, strip, C + i0 * ldc + j0,
                                 ldc, alpha, first, nvalid, row_scale ? row_scale + i0 : nullptr);
        }
    }
}

// C[M x N] (+)= A B for one K slice of kc <= KC: with PackedA, A packed by pack_a (the slice of
// row tile t at Ap + t * a_stride, kc runs of MR floats), else A row-major in place (row i at
// Ap + i * a_stride); B packed by pack_b into strips kc * NR floats apart at Bp (64-byte aligned).
// With B non-null, B [kc x N] row-major (ldb) is not yet packed: the first row tile packs each
// strip as it multiplies by it, and the other tiles read the strip while it is in L1. C (ldc) is
// overwritten, or accumulated into with `accumulate`. While the last strip multiplies, the first
// next_rows rows (ldb apart) of the first strip of next_B, the B the next call packs, are fetched.
template <class Arch, bool PackedA>
void gemm_tiles_of(std::int64_t M, std::int64_t N, std::int64_t kc, const float* Ap,
                   std::int64_t a_stride, const float* B, std::int64_t ldb, float* Bp, float* C,
                   std::int64_t ldc, bool accumulate, const float* next_B, std::int64_t next_rows) {
    constexpr int MR = Tile<Arch>::MR, NR = Tile<Arch>::NR;
    if (kc == 0) {  // an empty sum
        if (!accumulate) zero_matrix(M, N, C, ldc);
        return;
    }
    // Row tile t's A and its row stride (the tile height when packed).
    const std::int64_t lda = PackedA ? MR : a_stride;
    auto tile_a = [&](std::int64_t i0) { return Ap + (PackedA ? i0 / MR : i0) * a_stride; };
    // A B too narrow or too short for a whole strip or tile is packed first.
    const bool packs_in_tile = B != nullptr && M >= MR;
    // Floats in a 64-byte cache line, and lines in a packed row of a strip.
    constexpr std::int64_t line_floats = 64 / std::int64_t(sizeof(float));
    constexpr std::int64_t fetch_lines = (NR + line_floats - 1) / line_floats;
    if (B != nullptr && !packs_in_tile) pack_b<Arch>(kc, N, B, ldb, false, Bp);
    for (std::int64_t j0 = 0; j0 < N; j0 += NR) {
        float* strip = Bp + (j0 / NR) * kc * NR;
        const int nvalid = int(N - j0 < NR ? N - j0 : NR);
        std::int64_t i0 = 0;
        if (packs_in_tile) {
            if (nvalid == NR)
                micro_tile<Arch, MR, PackedA, true, true>(kc, Ap, lda, B + j0, C + j0, ldc, 1.0f,
                                                          !accumulate, NR, nullptr, ldb, strip);
            else {
                pack_b<Arch>(kc, N - j0, B + j0, ldb, false, strip);
                micro_tile<Arch, MR, PackedA>(kc, Ap, lda, strip, C + j0, ldc, 1.0f, !accumulate,
                                              nvalid);
            }
            i0 = MR;
        }
        // The last full tiles of this strip fetch the next strip's rows of B (or next_B's), a
        // line of each row per tile, so that its packing tile finds them in cache.
        const bool last = j0 + NR >= N;
        const float* next_strip = last ? next_B : B + j0 + NR;
        const std::int64_t fetch_count = !packs_in_tile ? 0 : last ? next_rows : kc;
        const std::int64_t fetching_from = M / MR * MR - fetch_lines * MR;
        for (; i0 + MR <= M; i0 += MR) {
            const bool fetches = fetch_count > 0 && i0 >= fetching_from;
            const float* fetch_rows =
                fetches ? next_strip + (i0 - fetching_from) / MR * line_floats : nullptr;
            micro_tile<Arch, MR, PackedA, false, true>(
                kc, tile_a(i0), lda, strip, C + i0 * ldc + j0, ldc, 1.0f, !accumulate, nvalid,
                nullptr, ldb, nullptr, fetch_rows, fetches ? fetch_count : 0);
        }
        if (i0 < M)
            micro_rows<Arch, PackedA>(int(M - i0), kc, tile_a(i0), lda, strip, C + i0 * ldc + j0,
                                      ldc, 1.0f, !accumulate, nvalid);
    }
}

// gemm_tiles_of with A packed (a_packed) or read in place; see there.
template <class Arch> void gemm_tiles(std::int64_t M, std::int64_t N, std::int64_t kc,
                                      const float* Ap, std::int64_t a_stride, bool a_packed,
                                      const float* B, std::int64_t ldb, float* Bp, float* C,
                                      std::int64_t ldc, bool accumulate, const float* next_B,
                                      std::int64_t next_rows) {
    if (a_packed)
        gemm_tiles_of<Arch, true>(M, N, kc, Ap, a_stride, B, ldb, Bp, C, ldc, accumulate, next_B,
                                  next_rows);
    else
        gemm_tiles_of<Arch, false>(M, N, kc, Ap, a_stride, B, ldb, Bp, C, ldc, accumulate, next_B,
                                   next_rows);
}

// Rows [0, R) of Y[:, 0 : jn) (+)= X[:, k0 : k0 + KB) W[k0 : k0 + KB, 0 : jn) for one block of KB
// consecutive rows of W (w0 its first, rows ldw elements apart, stored as TW and widened as each
// vector loads): each vector of the block is loaded once for R rows of X, whose KB coefficients
// sit in registers. `first` overwrites Y.
template <class Arch, int R, int KB, class TW>
inline void few_rows_block(std::int64_t jn, const float* x, std::int64_t ldx, const TW* w0,
                           std::int64_t ldw, float* y, std::int64_t ldy, bool first) {
    using V = vfloat<Arch>;
    constexpr int W = Tile<Arch>::W;
    V a[R][KB];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int i = 0; i < KB; ++i) a[r][i] = V(x[r * ldx + i]);
    const std::int64_t jv = jn / W * W;
    for (std::int64_t j = 0; j < jv; j += W) {
        V b[KB];
#pragma GCC unroll 8
        for (int i = 0; i < KB; ++i) b[i] = load_widened<Arch>(w0 + i * ldw + j);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            V acc = first ? V(0.0f) : loadu<Arch>(y + r * ldy + j);
#pragma GCC unroll 8
            for (int i = 0; i < KB; ++i) acc = xsimd::fma(a[r][i], b[i], acc);
            storeu<Arch>(y + r * ldy + j, acc);
        }
    }
    for (std::int64_t j = jv; j < jn; ++j)
        for (int r = 0; r < R; ++r) {
            float acc = first ? 0.0f : y[r * ldy + j];
            for (int i = 0; i < KB; ++i)
                acc = std::fma(x[r * ldx + i], to_float(w0[i * ldw + j]), acc);
            y[r * ldy + j] = acc;
        }
}

// One KB-row block of W (w0 its first row) for every row of X: four rows at a time, then the rest.
template <class Arch, int KB, class TW>
inline void few_rows_all(std::int64_t m, std::int64_t jn, const float* x, std::int64_t ldx,
                         const TW* w0, std::int64_t ldw, float* y, std::int64_t ldy, bool first) {
    std::int64_t r = 0;
    for (; r + 4 <= m; r += 4)
        few_rows_block<Arch, 4, KB, TW>(jn, x + r * ldx, ldx, w0, ldw, y + r * ldy, ldy, first);
    const float* xr = x + r * ldx;
    float* yr = y + r * ldy;
    switch (m - r) {
        case 3: few_rows_block<Arch, 3, KB, TW>(jn, xr, ldx, w0, ldw, yr, ldy, first); break;
        case 2: few_rows_block<Arch, 2, KB, TW>(jn, xr, ldx, w0, ldw, yr, ldy, first); break;
        case 1: few_rows_block<Arch, 1, KB, TW>(jn, xr, ldx, w0, ldw, yr, ldy, first); break;
        default: break;
    }
}

// Y[m x n] = X[m x k] W[k x n] for few rows m, the projections' path for decoding's handful of
// tokens: W (row-major, rows ldw floats apart) is read once, in place, a block of four of its rows
// at a time, and the rows of X take their share of each block, four rows at a time, while it is
// in L1, so a memory-bound product reads W once instead of packing it first (x rows ldx, y rows
// ldy apart). Each output is one chain of fused multiply-adds in k order, whatever the columns.
// W stored in 16 bits (TW) is widened as it loads: decoding's projection then reads half the
// bytes, where widening all of W first read it, wrote it in fp32 and read that again.
template <class Arch, class TW = float>
void few_rows_product(std::int64_t m, std::int64_t n, std::int64_t k, const float* x,
                      std::int64_t ldx, const TW* w, std::int64_t ldw, float* y, std::int64_t ldy) {
    // Columns per pass: a 24 KiB block of outputs (m rows) stays in L1 while W streams past in
    // runs as long as that allows, whole rows of up to 6144 columns at m = 1 (the hardware
    // prefetcher follows a run within its page: a W row read in 1 KiB pieces took 1.4x as long
    // at m = 1, and whole rows of consecutive W rows are one stretch of memory).
    constexpr int KB = 4;
    const std::int64_t kChunk = std::max<std::int64_t>(128, 6144 / m / 16 * 16);
    if (k == 0) {  // an empty sum
        zero_matrix(m, n, y, ldy);
        return;
    }
    for (std::int64_t j0 = 0; j0 < n; j0 += kChunk) {
        const std::int64_t jn = n - j0 < kChunk ? n - j0 : kChunk;
        std::int64_t k0 = 0;
        for (; k0 + KB <= k; k0 += KB)
            few_rows_all<Arch, KB, TW>(m, jn, x + k0, ldx, w + k0 * ldw + j0, ldw, y + j0, ldy,
                                       k0 == 0);
        const float* xk = x + k0;
        const TW* wk = w + k0 * ldw + j0;
        switch (k - k0) {
            case 3: few_rows_all<Arch, 3, TW>(m, jn, xk, ldx, wk, ldw, y + j0, ldy, k0 == 0); break;
            case 2: few_rows_all<Arch, 2, TW>(m, jn, xk, ldx, wk, ldw, y + j0, ldy, k0 == 0); break;
            case 1: few_rows_all<Arch, 1, TW>(m, jn, xk, ldx, wk, ldw, y + j0, ldy, k0 == 0); break;
            default: break;
        }
    }
}

}  // namespace
}  // namespace attn::simd
