// The register tile of the avx512 tier's bf16 products (vdpbf16ps), which flash's bf16 paths and
// the bf16 projection both multiply with; included only by the files built with the avx512bf16
// flags (src/flash/flash_avx512bf16.cpp, src/simd/gemm_avx512bf16.cpp).
#pragma once

#include <immintrin.h>

#include <array>
#include <cstdint>
#include <utility>

namespace attn::simd::bf16_tile {

using word = std::uint32_t;
using i64 = std::int64_t;

// Columns per packed strip (two vectors of 16 lanes) and rows per register tile: 24 accumulators,
// two strip vectors and a broadcast of the 32 registers.
inline constexpr i64 kStrip = 32, kTileRows = 12;

// C [R x n] = (or +=) A B for n <= kStrip: A's pair p of row r at a[r * lda + p] ([R][pairs]
// words, row stride lda), or with KMajor at a[p * kTileRows + r] (a row tile's pairs of k side by
// side, so that a k step's broadcasts read one contiguous run; lda unused); b one strip
// [pairs][kStrip] words, c row stride ldc; columns n.. are left alone. With FetchNextTile (KMajor,
// the next row tile's pairs right after this tile's, as the projection packs X), each k step asks
// L1 for a line of the next tile's pairs: where a block of packed X streams from L3 or memory, the
// hardware prefetcher alone left the tile's broadcasts waiting (Zen 5, X 2048 x 4096: the
// projection took 0.93-0.96x the time with the fetch; X in L2: 1.00-1.02x).
template <int R, bool KMajor, bool FetchNextTile = false>
void dot_tile(const word* a, i64 lda, const word* b, i64 pairs, float* c, i64 ldc, i64 n,
              bool accumulate) {
    static_assert(KMajor || !FetchNextTile);
    __m512 acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (i64 p = 0; p < pairs; ++p) {
        // 16 words a step: the next tile's kTileRows * pairs words in pairs * 64 bytes of fetches.
        if constexpr (FetchNextTile)
            _mm_prefetch(reinterpret_cast<const char*>(a + pairs * kTileRows + p * 16),
                         _MM_HINT_T0);
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + p * kStrip);
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + p * kStrip + 16);
#pragma GCC unroll 12
        for (int r = 0; r < R; ++r) {
            const word pair = KMajor ? a[p * kTileRows + r] : a[r * lda + p];
            const __m512bh ar = (__m512bh)_mm512_set1_epi32(int(pair));
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], ar, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], ar, b1);
        }
    }
    const __mmask16 m0 = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
    const __mmask16 m1 = n >= 32  ? __mmask16(0xFFFF)
                         : n > 16 ? __mmask16((1u << (n - 16)) - 1)
                                  : __mmask16(0);
    for (int r = 0; r < R; ++r) {
        float* row = c + r * ldc;
        if (accumulate) {
            acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_maskz_loadu_ps(m0, row));
            acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_maskz_loadu_ps(m1, row + 16));
        }
        _mm512_mask_storeu_ps(row, m0, acc[r][0]);
        _mm512_mask_storeu_ps(row + 16, m1, acc[r][1]);
    }
}

using DotTile = void(const word*, i64, const word*, i64, float*, i64, i64, bool);
template <bool KMajor, bool FetchNextTile, std::size_t... R>
constexpr std::array<DotTile*, sizeof...(R)> make_dot_tiles(std::index_sequence<R...>) {
    return {dot_tile<int(R) + 1, KMajor, FetchNextTile>...};
}
// dot_tile<rows, KMajor, FetchNextTile> at index rows - 1.
template <bool KMajor, bool FetchNextTile = false> inline constexpr auto kDotTiles =
    make_dot_tiles<KMajor, FetchNextTile>(std::make_index_sequence<kTileRows>());

}  // namespace attn::simd::bf16_tile
