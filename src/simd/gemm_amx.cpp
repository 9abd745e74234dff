// The bf16 projection on AMX tiles (see amx.hpp); this file alone is built with -mamx-tile
// -mamx-bf16 and runs only where cpu_has_amx_bf16(). Both operands are packed once into whole
// tiles, zeros past their edges, so the loop over k has no tails: X into 16-row tiles of 32 k
// values ([row tile][k block][16][32] bf16), W into 16-column panels of k pairs ([panel][pair][16]
// words, the pair (W[2p][j], W[2p + 1][j]) as tdpbf16ps reads B). Each step multiplies two A
// tiles by two B tiles into four C tiles, the 32 x 32 block of Y that the eight tiles allow.
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "amx.hpp"
#include "amx_tiles.hpp"
#include "parallel.hpp"
#include "workspace.hpp"

namespace attn::simd {

namespace {

using i64 = std::int64_t;
using word = std::uint32_t;

// Rows of every tile, pairs of k in a B tile, k values in an A tile row, words in a tile.
constexpr i64 kRows = kAmxRows, kSpan = kAmxSpan, kPairs = kSpan / 2, kTileWords = kRows * kPairs;
// The packed W columns a task keeps in L2 while its row tiles pass: a quarter of a 2 MiB L2, so
// that the row pair's A tiles and the next columns fit beside them.
constexpr i64 kChunkBytes = 512 << 10;

// The tile configuration of palette 1: eight tiles of 16 rows of 64 bytes (C: 0-3, A: 4-5, B: 6-7).
struct alignas(64) TileConfig {
    std::uint8_t palette = 1, start_row = 0;
    std::uint8_t reserved[14] = {};
    std::uint16_t bytes_per_row[16] = {};
    std::uint8_t rows[16] = {};
};

// Linux hands a process the 8 KiB tile state only when asked (arch_prctl ARCH_REQ_XCOMP_PERM for
// XTILEDATA); before that the first tile instruction raises SIGILL.
bool request_tiles() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool amx_bf16 = edx & (1u << 22), amx_tile = edx & (1u << 24);
    constexpr long kArchReqXcompPerm = 0x1023, kXtileData = 18;
    return amx_bf16 && amx_tile && syscall(SYS_arch_prctl, kArchReqXcompPerm, kXtileData) == 0;
}

std::atomic<bool>& amx_switch() {
    static std::atomic<bool> on = path_switch(std::getenv("ATTNBENCH_AMX")) != PathSwitch::off;
    return on;
}

// Row tile `rt` of X [m x k] (row stride k) into out [k blocks][16][32] bf16, zeros past m and k:
// each row read in order, 32 values (one zmm) a block, the last block masked.
void pack_row_tile(i64 rt, i64 m, i64 k, i64 blocks, const bf16* x, std::uint16_t* out) {
    const i64 tail = k - (blocks - 1) * kSpan;
    const __mmask32 last = tail == kSpan ? ~__mmask32(0) : __mmask32((1u << tail) - 1);
    for (i64 r = 0; r < kRows; ++r) {
        const i64 row = rt * kRows + r;
        std::uint16_t* dst = out + r * kSpan;
        if (row >= m) {
            for (i64 b = 0; b < blocks; ++b)
                _mm512_store_si512(dst + b * kRows * kSpan, _mm512_setzero_si512());
            continue;
        }
        const bf16* src = x + row * k;
        for (i64 b = 0; b + 1 < blocks; ++b)
            _mm512_store_si512(dst + b * kRows * kSpan, _mm512_loadu_si512(src + b * kSpan));
        _mm512_store_si512(dst + (blocks - 1) * kRows * kSpan,
                           _mm512_maskz_loadu_epi16(last, src + (blocks - 1) * kSpan));
    }
}

// Pair `p` of W [k x n]'s rows (2p, 2p + 1; row stride n) into every panel of `panels` (each
// [pairs][16] words, panel_words apart): word j of a panel's row p holds (W[2p][j], W[2p + 1][j]),
// zeros past k and n. Both rows are read whole, each 16 columns widened to words in one step.
void pack_pair(i64 p, i64 n, i64 k, i64 panels, i64 panel_words, const bf16* w, word* out) {
    const bf16* lo = w + 2 * p * n;
    const bool has_hi = 2 * p + 1 < k;
    for (i64 panel = 0; panel < panels; ++panel) {
        const i64 j0 = panel * kRows, cols = std::clamp<i64>(n - j0, 0, kRows);
        const __mmask16 mask = cols == kRows ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
        const __m512i a = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, lo + j0));
        const __m512i b = has_hi
                              ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, lo + n + j0))
                              : _mm512_setzero_si512();
        _mm512_store_si512(out + panel * panel_words + p * kRows,
                           _mm512_or_si512(a, _mm512_slli_epi32(b, 16)));
    }
}

// The part of a 16 x 16 C tile stored in `buffer` that lies inside y [m x n], at (r0, c0).
void copy_inside(const float* buffer, i64 r0, i64 c0, i64 m, i64 n, float* y) {
    for (i64 r = 0; r < std::min(kRows, m - r0); ++r)
        for (i64 c = 0; c < std::min(kRows, n - c0); ++c)
            y[(r0 + r) * n + c0 + c] = buffer[r * kRows + c];
}

// C tile T (a literal: the tile instructions name their tiles) into y at (r0, c0): in place when
// whole, else through a buffer.
#define ATTN_STORE_TILE(T, r0, c0)                             \
    if ((r0) + kRows <= m && (c0) + kRows <= n) {              \
        _tile_stored(T, y + (r0)*n + (c0), n * sizeof(float)); \
    } else {                                                   \
        _tile_stored(T, buffer, kRows * sizeof(float));        \
        copy_inside(buffer, r0, c0, m, n, y);                  \
    }

// Y's 32 x 32 block at rows r0, columns c0 from row tiles a0, a1 and panels b0, b1 over `blocks`
// k blocks.
void block(const std::uint16_t* a0, const std::uint16_t* a1, const word* b0, const word* b1,
           i64 blocks, i64 r0, i64 c0, i64 m, i64 n, float* y) {
    amx_zero_block();
    for (i64 b = 0; b < blocks; ++b)
        amx_step(a0 + b * kRows * kSpan, a1 + b * kRows * kSpan, kSpan * sizeof(bf16),
                 b0 + b * kTileWords, b1 + b * kTileWords, kPairs * sizeof(word));
    alignas(64) float buffer[kRows * kRows];
    ATTN_STORE_TILE(0, r0, c0)
    ATTN_STORE_TILE(1, r0, c0 + kRows)
    ATTN_STORE_TILE(2, r0 + kRows, c0)
    ATTN_STORE_TILE(3, r0 + kRows, c0 + kRows)
}

#undef ATTN_STORE_TILE

}  // namespace

namespace {

std::atomic<std::int64_t>& amx_counter() {
    static std::atomic<std::int64_t> multiply_adds{0};
    return multiply_adds;
}

}  // namespace

void count_amx_multiply_adds(std::int64_t multiply_adds) {
    amx_counter().fetch_add(multiply_adds, std::memory_order_relaxed);
}

bool amx_serves(Isa isa) {
    const Isa tier = isa == Isa::best ? best_isa() : isa;
    return tier == Isa::avx512 && cpu_has_amx_bf16() &&
           amx_switch().load(std::memory_order_relaxed);
}

void enable_amx(bool on) { amx_switch().store(on); }

void amx_projection(int threads, i64 m, i64 n, i64 k, const bf16* x, const bf16* w, float* y) {
    count_amx_multiply_adds(m * n * k);
    // Whole tiles in pairs: even counts of row tiles and panels, k padded to whole blocks.
    const i64 blocks = (k + kSpan - 1) / kSpan, pairs = blocks * kPairs;
    const i64 row_pairs = (m + 2 * kRows - 1) / (2 * kRows),
              panel_pairs = (n + 2 * kRows - 1) / (2 * kRows);
    const i64 a_tile_words = blocks * kRows * kSpan / 2, b_panel_words = pairs * kRows;
    auto* a =
        reinterpret_cast<std::uint16_t*>(workspace(Slot::widened_a, 2 * row_pairs * a_tile_words));
    auto* b = reinterpret_cast<word*>(workspace(Slot::widened_b, 2 * panel_pairs * b_panel_words));
    // Tasks: a row pair times a chunk of panel pairs whose packed columns stay in L2, the chunks
    // of equal size so that every task does the same work; a thread's consecutive tasks share a
    // chunk.
    const i64 chunk_most = std::max<i64>(1, kChunkBytes / (2 * b_panel_words * i64(sizeof(word))));
    const i64 chunks = (panel_pairs + chunk_most - 1) / chunk_most;
    const i64 chunk = (panel_pairs + chunks - 1) / chunks;
    parallel_region(threads, [&] {
#pragma omp for schedule(static)
        for (i64 rt = 0; rt < 2 * row_pairs; ++rt)
            pack_row_tile(rt, m, k, blocks, x, a + rt * 2 * a_tile_words);
#pragma omp for schedule(static)
        for (i64 p = 0; p < pairs; ++p) {  // the pairs past k hold only zeros
            if (2 * p < k) pack_pair(p, n, k, 2 * panel_pairs, b_panel_words, w, b);
            else
                for (i64 panel = 0; panel < 2 * panel_pairs; ++panel)
                    std::memset(b + panel * b_panel_words + p * kRows, 0, kRows * sizeof(word));
        }
        amx_configure_tiles();
#pragma omp for schedule(static)
        for (i64 task = 0; task < chunks * row_pairs; ++task) {
            const i64 c = task / row_pairs, rp = task % row_pairs;
            const std::uint16_t* a0 = a + 2 * rp * 2 * a_tile_words;
            for (i64 pp = c * chunk; pp < std::min(panel_pairs, (c + 1) * chunk); ++pp) {
                const word* b0 = b + 2 * pp * b_panel_words;
                block(a0, a0 + 2 * a_tile_words, b0, b0 + b_panel_words, blocks, 2 * rp * kRows,
                      2 * pp * kRows, m, n, y);
            }
        }
        amx_release_tiles();
    });
}

}  // namespace attn::simd

namespace attn {

void amx_configure_tiles() {
    // A constant in memory: GCC 12 does not see ldtilecfg read its operand, and dropped the
    // stores that filled in a local configuration (leaving zero-row tiles that fault).
    static constexpr simd::TileConfig kConfig = [] {
        simd::TileConfig config;
        for (int t = 0; t < 8; ++t) config.bytes_per_row[t] = 64, config.rows[t] = simd::kRows;
        return config;
    }();
    _tile_loadconfig(&kConfig);
}

void amx_release_tiles() { _tile_release(); }

std::int64_t amx_multiply_adds() { return simd::amx_counter().load(std::memory_order_relaxed); }

bool cpu_has_amx_bf16() {
#ifdef ATTN_EMULATE_AVX512
    return false;  // the emulated build tests the avx512 tier's widening path
#else
    static const bool granted = cpu_supports(Isa::avx512) && simd::request_tiles();
    return granted;
#endif
}

}  // namespace attn
