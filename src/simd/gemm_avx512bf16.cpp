// The bf16 projection by vdpbf16ps (see dot_projection.hpp); this file gets the avx512bf16 flags
// and runs only where cpu_has_bf16_dot(). The loops are projection_body's for fp32 at the avx512
// tier's tile sizes (GemmOps::mr rows, strips of two vectors, blocks of projection_rows), with a
// K slice of GemmOps::kc pairs, twice the fp32 slice's values in the same bytes of a strip (24
// KiB, in L1): each thread owns column panels of W and packs a panel's K slice into bf16 pairs as
// its first block of rows reaches it, the rows of X, packed once per K slice into pairs, pass a
// block at a time while the block's Y stays in L2. Slices of kc / 2 pairs ran at 0.84-0.93x the
// speed on Zen 4 (d_model 768 to 4096, 1 and 2 threads): twice the epilogues over Y.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "bodies.hpp"
#include "dot_projection.hpp"
#include "dot_tile_avx512bf16.hpp"
#include "flash/bf16_dot.hpp"
#include "parallel.hpp"
#include "workspace.hpp"

namespace attn::simd {

namespace {

using word = std::uint32_t;

using bf16_tile::kStrip;
using bf16_tile::kTileRows;
// The register tile with a row tile's pairs of k side by side, each tile fetching the next's, by
// its row count.
constexpr const auto& kDotTiles = bf16_tile::kDotTiles<true, true>;

// Row tile t of x [m x k] bf16 (row stride k) as bf16 pairs into xp, one K slice of `slice` pairs
// after another: slice s at s * tiles * kTileRows * slice words, the tile's part of it at
// t * kTileRows * kcp, pair p of its row r at p * kTileRows + r (kcp pairs in the slice, the last
// slice's fewer); rows past m are zeros, and the pair after an odd k's last value is (value, 0).
void pack_row_tile(i64 t, i64 m, i64 k, i64 slice, const bf16* x, word* xp) {
    const i64 pairs = (k + 1) / 2, tiles = blocks(m, kTileRows);
    for (i64 s = 0; s * slice < pairs; ++s) {
        const i64 p0 = s * slice, kcp = std::min(slice, pairs - p0);
        word* out = xp + s * tiles * kTileRows * slice + t * kTileRows * kcp;
        for (i64 r = 0; r < kTileRows; ++r) {
            const i64 i = t * kTileRows + r;
            if (i >= m) {
                for (i64 p = 0; p < kcp; ++p) out[p * kTileRows + r] = 0;
                continue;
            }
            const bf16* src = x + i * k + 2 * p0;
            const i64 whole = std::min(kcp, (k - 2 * p0) / 2);
            for (i64 p = 0; p < whole; ++p)
                out[p * kTileRows + r] = word(src[2 * p].bits) | word(src[2 * p + 1].bits) << 16;
            if (whole < kcp) out[whole * kTileRows + r] = word(src[2 * whole].bits);
        }
    }
}

// Fetches into L2 the rows of W that a later slice packs, a share of their lines after each tile
// of the current slice: the rows lie a row of W apart, a page or more at d_model 2048 and up, where
// the hardware prefetchers do not follow, and packing them from memory took 9% of the call.
class RowFetch {
public:
    // Rows [r0, r1) of w (row stride n), columns [j0, j0 + cols), over `tiles` tiles.
    RowFetch(const bf16* w, i64 n, i64 r0, i64 r1, i64 j0, i64 cols, i64 tiles)
        : row_(reinterpret_cast<const char*>(w + r0 * n + j0)),
          stride_(n * i64(sizeof(bf16))),
          bytes_(cols * i64(sizeof(bf16))),
          rows_(std::max<i64>(0, r1 - r0)),
          share_(blocks(rows_ * (blocks(bytes_, 64) + 1), std::max<i64>(1, tiles))) {}
    // The next share of lines: each row's from its first byte 64 apart, then its last byte's.
    void next() {
        for (i64 count = share_; count > 0 && rows_ > 0; --count) {
            _mm_prefetch(row_ + std::min(offset_, bytes_ - 1), _MM_HINT_T1);
            if (offset_ < bytes_) {
                offset_ += 64;
                continue;
            }
            row_ += stride_, offset_ = 0, --rows_;
        }
    }

private:
    const char* row_;
    i64 stride_, bytes_, rows_, share_, offset_ = 0;
};

}  // namespace

bool dot_projection_serves(Isa isa) { return flash::bf16_dot_on(isa); }

void dot_projection(int threads, i64 m, i64 n, i64 k, const bf16* x, const bf16* w, float* y) {
    count_bf16_dot_multiply_adds(m * n * k);
    const GemmOps& gemm = gemm_ops(Isa::avx512);
    static_assert(kStrip == 32);
    const i64 pairs = (k + 1) / 2, slice = gemm.kc, slices = blocks(pairs, slice);
    const i64 tiles = blocks(m, kTileRows), most = projection_rows(kTileRows);
    if (k == 0) {  // an empty sum
        for (i64 i = 0; i < m * n; ++i) y[i] = 0.0f;
        return;
    }
    // X in pairs, shared by the threads, each packing a share of its row tiles.
    word* const xp =
        reinterpret_cast<word*>(workspace(Slot::widened_a, slices * tiles * kTileRows * slice));
    // Column panels as projection_body's.
    const i64 panel = projection_panel(n, kStrip, threads);
    const bool one_block = m <= most;
    parallel_region(threads, [&] {
#pragma omp for schedule(static)
        for (i64 t = 0; t < tiles; ++t) pack_row_tile(t, m, k, slice, x, xp);
        // One block of rows reads each packed slice once: one slice's buffer, which stays in L2.
        word* packed = reinterpret_cast<word*>(
            workspace(Slot::weights_packed, (one_block ? slice : slices * slice) * panel));
#pragma omp for schedule(static) nowait
        for (i64 t = 0; t < blocks(n, panel); ++t) {
            const i64 j0 = t * panel, cols = std::min(n, j0 + panel) - j0;
            for (i64 i0 = 0; i0 < m; i0 += most) {
                const i64 i1 = std::min(m, i0 + most);
                for (i64 s = 0; s < slices; ++s) {
                    const i64 p0 = s * slice, kcp = std::min(slice, pairs - p0);
                    word* b = packed + (one_block ? 0 : s * slice * panel);
                    // Rows [2 p0, 2 p0 + 2 kcp) of the panel's columns into kcp-pair strips.
                    if (i0 == 0)
                        flash::pack_pairs_interleaved(std::min(2 * kcp, k - 2 * p0), cols,
                                                      w + 2 * p0 * n + j0, n, b);
                    const word* a = xp + s * tiles * kTileRows * slice;
                    // The rows the next packing reads: this panel's next slice, or after the
                    // last, the next panel's first.
                    const i64 tile_count = blocks(cols, kStrip) * blocks(i1 - i0, kTileRows);
                    const bool next_slice = i0 == 0 && s + 1 < slices;
                    const bool next_panel = i1 == m && s + 1 == slices && j0 + panel < n;
                    RowFetch fetch(w, n, next_slice ? 2 * (p0 + slice) : 0,
                                   next_slice   ? std::min(k, 2 * (p0 + 2 * slice))
                                   : next_panel ? std::min(k, 2 * slice)
                                                : 0,
                                   next_slice ? j0 : j0 + panel,
                                   next_slice ? cols : std::min(panel, n - j0 - panel), tile_count);
                    // Strips outside, row tiles inside: a strip's slice (kcp x 128 bytes) stays
                    // in L1 while the block's row tiles pass over it.
                    for (i64 c0 = 0; c0 < cols; c0 += kStrip)
                        for (i64 i = i0; i < i1; i += kTileRows) {
                            kDotTiles[std::size_t(std::min<i64>(kTileRows, i1 - i) - 1)](
                                a + i * kcp, kTileRows, b + c0 / kStrip * kcp * kStrip, kcp,
                                y + i * n + j0 + c0, n, std::min(kStrip, cols - c0), s > 0);
                            fetch.next();
                        }
                }
            }
        }
    });
}

}  // namespace attn::simd
