// Tile sizes of the blocked kernels, derived from the caches of a typical x86-64 core:
// L1d 32-48 KiB, L2 1-2 MiB. Every budget leaves about half of its level free for the operand
// that streams through it, so a tile is not evicted by the data it is combined with.
#pragma once

#include <algorithm>
#include <cstdint>

namespace attn::kernels::blocked {

// Register tile of the matrix-product micro-kernel: 4 rows x 8 columns of accumulators are 8 of
// the 16 SSE registers baseline x86-64 has, leaving room for the two B vectors of a row and a
// broadcast A value, so the accumulators never leave registers inside the depth loop.
inline constexpr std::int64_t kMr = 4;
inline constexpr std::int64_t kNr = 8;

// Depth of one matrix-product block: a kMr x 256 strip of A (4 KiB) and the 256 x kNr strip of B
// it meets (256 rows of 32 bytes, at most 32 KiB of touched 64-byte lines, fewer once neighbouring
// strips share them) stay in L1d together while the micro-kernel sweeps the depth.
inline constexpr std::int64_t kKc = 256;

// Columns of one B panel: kKc x 256 floats is 256 KiB, a quarter of a 1 MiB L2, so the panel is
// read from L2 (not memory) by every row strip of A that passes over it.
inline constexpr std::int64_t kNc = 256;

// Independent partial maxima of the softmax's row maximum, one per lane, so that the maximum
// vectorizes: a single running maximum is a loop-carried dependence the compiler may not reorder.
inline constexpr std::int64_t kSoftmaxLanes = 8;

// Bytes of the transposed K tile in the scores kernel: 16 KiB (64 keys at head_dim 64) is half of
// a 32 KiB L1d, so the tile stays in L1 while every query row streams over it and the other half
// holds the query rows and the score row segment being written.
inline constexpr std::int64_t kKeyTileBytes = 16 * 1024;

// Bytes of the score block attention keeps between its scores, softmax and weighted-sum steps:
// 128 KiB (64 query rows at n_kv 512) plus the head's K and V (128 KiB each at 512 x 64) fit in a
// 1 MiB L2, so the block is produced, normalised and consumed without a trip to memory.
inline constexpr std::int64_t kScoreBlockBytes = 128 * 1024;

// Keys per scores tile for head size d: the L1 budget divided by one key, a multiple of kNr so the
// micro-kernel runs full width, and never fewer than kNr keys even for very large heads.
inline constexpr std::int64_t keys_per_tile(std::int64_t d) {
    const std::int64_t keys = kKeyTileBytes / (std::int64_t(sizeof(float)) * d);
    return std::max(kNr, keys / kNr * kNr);
}

// Query rows per attention block for n_kv keys: the L2 score budget divided by one score row, a
// multiple of kMr, between kMr and 256 rows (more rows add nothing once K and V are reused).
inline constexpr std::int64_t rows_per_score_block(std::int64_t n_kv) {
    const std::int64_t rows = kScoreBlockBytes / (std::int64_t(sizeof(float)) * n_kv);
    return std::clamp(rows / kMr * kMr, kMr, std::int64_t(256));
}

}  // namespace attn::kernels::blocked
