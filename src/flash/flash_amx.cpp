// Flash attention's bf16 prefill on AMX tiles, for the avx512 tier where the CPU has AMX-BF16 and
// the OS grants its tiles (this file alone in flash/ gets -mamx-tile -mamx-bf16; see
// bf16_dot.hpp). The query block, its online softmax and its normalisation are flash_impl.hpp's at
// avx512, the operands those of the vdpbf16ps path (flash_avx512bf16.cpp): Q scaled and rounded to
// bf16 pairs, K^T and V packed in strips of 32 keys or columns, P rounded to bf16. Both products
// run as tdpbf16ps, each multiplying two A tiles by two B tiles into four 16 x 16 C tiles (the
// 32 x 32 block the eight tiles allow), so the block's rows go in pairs of 16-row tiles and its
// keys in steps of 32, zeros past their edges; a head size of whole 32-value tile rows leaves the
// loop over d without tails.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "bf16_dot.hpp"
#include "flash_impl.hpp"
#include "simd/amx.hpp"
#include "simd/amx_tiles.hpp"

namespace attn::flash {

namespace {

using Arch = xsimd::avx512f;
using F = Flash<Arch>;
using word = std::uint32_t;

// Rows of a tile, rows of a row pair (two A tiles), keys (or k values) of a tile row, and words
// of a tile row: the B tiles read 16 of the 32 words of a packed strip row.
constexpr i64 kRows = simd::kAmxRows, kPairRows = 2 * kRows, kSpan = simd::kAmxSpan,
              kTileRowWords = kSpan / 2;
// Bytes between the rows of a packed strip, which the B tiles read half of.
constexpr i64 kStripBytes = kSpan * i64(sizeof(word));
static_assert(F::BQ % kPairRows == 0 && F::BK % kSpan == 0);

i64 round_up(i64 x, i64 m) { return (x + m - 1) / m * m; }

// The P of a query block after the FlashScratch areas, as flash_avx512bf16.cpp lays it out:
// BQ rows of LDS / 2 words.
constexpr i64 kLdp = F::LDS / 2;

}  // namespace

bool amx_prefill_serves(Isa isa, const Shape& sh) {
    return simd::amx_serves(isa) && cpu_has_bf16_dot() && sh.similarity == Similarity::dot &&
           sh.head_dim % kSpan == 0;
}

void amx_score_rows(const word* qs, i64 d, const word* kp, i64 keys, float* s, i64 lds) {
    const i64 pairs = d / 2, q_bytes = pairs * i64(sizeof(word));
    for (i64 j = 0; j < keys; j += kSpan) {
        const word* strip = kp + j / kSpan * pairs * kSpan;
        simd::amx_zero_block();
        for (i64 p = 0; p < pairs; p += kTileRowWords)
            simd::amx_step(qs + p, qs + kRows * pairs + p, q_bytes, strip + p * kSpan,
                           strip + p * kSpan + kRows, kStripBytes);
        simd::amx_store_block(s + j, lds);
    }
}

void amx_value_rows(const word* p, i64 ldp, const word* vp, i64 v_stride, i64 keys, i64 d,
                    float* acc, i64 ld_acc, bool first) {
    const i64 p_bytes = ldp * i64(sizeof(word));
    for (i64 c = 0; c < d; c += kSpan) {
        const word* strip = vp + c / kSpan * v_stride;
        if (first) simd::amx_zero_block();
        else simd::amx_load_block(acc + c, ld_acc);
        for (i64 kp = 0; kp < keys / 2; kp += kTileRowWords)
            simd::amx_step(p + kp, p + kRows * ldp + kp, p_bytes, strip + kp * kSpan,
                           strip + kp * kSpan + kRows, kStripBytes);
        simd::amx_store_block(acc + c, ld_acc);
    }
}

void flash_rows_amx(const Shape& sh, const bf16* q, const word* kp, const word* vp, i64 v_stride,
                    float* o, i64 i0, i64 i1, float* scratch) {
    FlashScratch<Arch> w(scratch, sh.head_dim);
    const i64 d = sh.head_dim, pairs = d / 2, rows = i1 - i0;
    word* qs = reinterpret_cast<word*>(w.q_words);
    word* p = reinterpret_cast<word*>(scratch + FlashScratch<Arch>::floats(d));
    scaled_query_pairs(sh, q + i0 * d, rows, qs);
    // The rows past the block's last up to its last row pair multiply zeros: their C rows are
    // never read, but stale bits there would make the work vary with what ran before.
    std::memset(qs + rows * pairs, 0, std::size_t((round_up(rows, kPairRows) - rows) * pairs * 4));
    for (i64 r = 0; r < rows; ++r) w.row_max[r] = simd::kNegInf, w.row_sum[r] = 0.0f;
    const i64 kv_end = sh.visible_keys(i1 - 1);
    if (kv_end == 0)
        for (i64 r = 0; r < rows; ++r)
            for (i64 c = 0; c < d; ++c) w.acc[r * w.ld_o + c] = 0.0f;
    amx_configure_tiles();
    for (i64 j0 = 0; j0 < kv_end; j0 += F::BK) {
        // Groups of a row pair where the block crosses the causal diagonal, each computing only
        // the keys its last row sees (rounded up to whole tiles).
        const KvBlock b(sh, i0, rows, j0, kv_end, F::BK, kPairRows);
        const word* k_block = kp + j0 / kSpan * pairs * kSpan;
        for (i64 g0 = 0; g0 < rows; g0 += b.group) {
            const i64 keys = round_up(b.group_keys(g0), kSpan);
            for (i64 r = g0; r < g0 + b.group_rows(g0); r += kPairRows)
                amx_score_rows(qs + r * pairs, d, k_block, keys, w.scores + r * F::LDS, F::LDS);
        }
        online_softmax_update(b, nullptr, w);
        for (i64 g0 = 0; g0 < rows; g0 += b.group) {
            const i64 used = b.group_keys(g0), keys = round_up(used, kSpan),
                      end = std::min(rows, g0 + b.group_rows(g0));
            if (used == 0 && j0 != 0) continue;  // the group sees none of this block's keys
            // P rounded to bf16, zeros past the keys the group uses up to whole tiles, and on the
            // rows past the block's last.
            for (i64 r = g0; r < round_up(end, kPairRows); ++r) {
                word* row = p + r * kLdp;
                const i64 filled = r < end ? (used + 1) / 2 : 0;
                if (r < end) round_to_bf16_pairs(w.scores + r * F::LDS, used, row);
                std::memset(row + filled, 0, std::size_t(keys / 2 - filled) * sizeof(word));
            }
            for (i64 r = g0; r < end; r += kPairRows)
                amx_value_rows(p + r * kLdp, kLdp, vp + j0 / 2 * kSpan, v_stride, keys, d,
                               w.acc + r * w.ld_o, w.ld_o, j0 == 0);
        }
    }
    amx_release_tiles();
    normalise_rows(sh, i0, rows, w, o);
}

}  // namespace attn::flash
