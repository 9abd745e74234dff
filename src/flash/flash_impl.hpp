// FlashAttention-2 style fused attention of one query block, written once for every ISA tier and
// instantiated by flash_<tier>.cpp: the block's queries stay in cache while K and V pass by in
// blocks of BK keys; each KV block is a Q K^T tile, an online-softmax update of the running row
// maxima and sums, and a P V product into the unnormalised output, which is normalised at the end.
// Included only by per-tier files (anonymous namespace, as simd/rows.hpp explains).
#pragma once

#include <algorithm>

#include "flash.hpp"
#include "simd/ops_tables.hpp"

namespace attn::flash {
namespace {

using simd::i64;
using simd::Tile;

template <class Arch> struct Flash {
    static constexpr i64 MR = Tile<Arch>::MR, NR = Tile<Arch>::NR;
    // Query rows per block: 96, eight micro-tiles of 12 rows (AVX-512, NEON) or sixteen of 6
    // (AVX2, SSE2), so that the score block and the output accumulator stay in L2 while K and V
    // stream past.
    static constexpr i64 BQ = 96;
    // Keys per block: a few hundred, as in llama.cpp and PyTorch; a multiple of NR.
    static constexpr i64 BK = 512;
    // Row stride of the score block: padded past a power of two so that the micro-kernel's
    // broadcasts from consecutive rows do not all fall into the same L1 sets.
    static constexpr i64 LDS = BK + 16;
    static_assert(BQ % MR == 0 && BK % NR == 0);
};

// The scratch of one query block for head size d, carved from one 64-byte-aligned workspace: the
// score block and the output accumulator first, whose row strides keep every row 64-byte aligned.
template <class Arch> struct FlashScratch {
    using F = Flash<Arch>;
    i64 ld_o;        // row stride of acc: d rounded up to 16 floats
    float* scores;   // [BQ x LDS] scores, then probabilities, of one KV block
    float* acc;      // [BQ x ld_o] unnormalised output
    float* row_max;  // [BQ] running row maxima, in log2 units
    float* row_sum;  // [BQ] running row sums
    float* q_norms;  // [BQ] query norms (cosine)
    float* q_words;  // [BQ x d] floats: the bf16 paths' scaled queries (fp32 reads q in place)

    static i64 floats(i64 d) { return F::BQ * F::LDS + F::BQ * round16(d) + 3 * F::BQ + F::BQ * d; }
    FlashScratch(float* base, i64 d)
        : ld_o(round16(d)),
          scores(base),
          acc(scores + F::BQ * F::LDS),
          row_max(acc + F::BQ * ld_o),
          row_sum(row_max + F::BQ),
          q_norms(row_sum + F::BQ),
          q_words(q_norms + F::BQ) {}

private:
    static i64 round16(i64 d) { return (d + 15) / 16 * 16; }
};

// The keys [j0, j0 + bk) of one KV block as a query block [i0, i0 + rows) meets them. On a block
// that crosses the causal diagonal, each group of MR rows only computes the keys its own last row
// can see, so the masked triangle costs MR rows, not BQ; elsewhere the whole block is one group.
struct KvBlock {
    const Shape& sh;
    i64 i0, rows, j0, bk, group;

    KvBlock(const Shape& shape, i64 i0_, i64 rows_, i64 j0_, i64 kv_end, i64 block_kv, i64 mr)
        : sh(shape),
          i0(i0_),
          rows(rows_),
          j0(j0_),
          bk(std::min(kv_end - j0_, block_kv)),
          group(rows_) {
        if (sh.visible_keys(i0) - j0 < bk) group = mr;
    }
    // Rows of the group starting at block row g0.
    i64 group_rows(i64 g0) const { return std::min(group, rows - g0); }
    // Keys of this block the group starting at g0 computes (and its P V product reads).
    i64 group_keys(i64 g0) const {
        const i64 keys = sh.visible_keys(i0 + g0 + group_rows(g0) - 1) - j0;
        return std::clamp(keys, i64(0), bk);
    }
    // Keys of this block that block row r sees.
    i64 visible(i64 r) const { return std::clamp(sh.visible_keys(i0 + r) - j0, i64(0), bk); }
};

// Clears the running maxima and sums of a query block of `rows` rows (rows i0.. of q [n_q x d])
// and takes its query norms (cosine). The output is not cleared: the first KV block's P V product
// overwrites it.
template <class Arch>
void start_query_block(const Shape& sh, const float* q, i64 i0, i64 rows, FlashScratch<Arch>& w) {
    const i64 d = sh.head_dim;
    for (i64 r = 0; r < rows; ++r) {
        w.row_max[r] = simd::kNegInf, w.row_sum[r] = 0.0f;
        if (sh.similarity == Similarity::cosine)
            w.q_norms[r] = __builtin_sqrtf(simd::dot<Arch>(q + (i0 + r) * d, q + (i0 + r) * d, d));
    }
}

// S = Q K^T of one KV block, scaled by scale * log2 e so that the softmax's e^(s - m) becomes
// 2^(s' - m'), which costs fewer operations (see fast_exp2_nonpositive): scores [rows x bk] (row
// stride LDS) from the block's queries q (rows i0.. of q [n_q x d], read in place) and kp = K^T
// packed by pack_b (strips of NR keys, d * NR floats each). The queries are not packed: the
// micro-kernel broadcasts from MR rows in place as fast as from a packed tile, and packing them
// took 6% of a call at n 128.
template <class Arch>
void score_tile(const KvBlock& b, const float* q, i64 d, const float* kp, FlashScratch<Arch>& w) {
    using F = Flash<Arch>;
    const float scale = b.sh.effective_scale() * simd::kLog2e;
    for (i64 g0 = 0; g0 < b.rows; g0 += b.group)
        simd::gemm_packed<Arch>(b.group_rows(g0), b.group_keys(g0), d, scale, q + (b.i0 + g0) * d,
                                d, kp + (b.j0 / F::NR) * d * F::NR, d * F::NR,
                                w.scores + g0 * F::LDS, F::LDS, false);
}

// Folds one KV block into a row's running state: m_new the larger of the running maximum and
// the block's, sum the block's exponentials under it; what acc_row [d] accumulated under an older
// maximum is rescaled.
template <class Arch>
void fold_block(float m_new, float sum, float& row_max, float& row_sum, float* acc_row, i64 d) {
    const float m_old = row_max;
    if (m_new != m_old && m_old != simd::kNegInf) {
        const float correction = __builtin_exp2f(m_old - m_new);
        row_sum *= correction;
        simd::scale_n<Arch>(acc_row, d, correction);
    }
    row_max = m_new;
    row_sum += sum;
}

// The online-softmax update of one row over one KV block: its first `vis` scores (in log2 units,
// divided by |q||k| first for cosine, with k_norms the block's key norms) become 2^(s - m_new),
// m_new the larger of the running maximum and the block's; the running sum grows by their sum and
// what acc_row [d] accumulated under an older maximum is rescaled; entries [vis, used) weigh 0.
template <class Arch> void online_update_row(float* row, i64 vis, i64 used, Similarity sim,
                                             float q_norm, const float* k_norms, float& row_max,
                                             float& row_sum, float* acc_row, i64 d) {
    if (vis == 0) {  // this row sees no key of the block: it contributes nothing
        for (i64 j = 0; j < used; ++j) row[j] = 0.0f;
        return;
    }
    if (sim == Similarity::cosine) simd::cosine_row(row, vis, q_norm, k_norms);
    const float m_old = row_max;
    const float m_new = std::max(simd::max_n<Arch>(row, vis), m_old);
    if (m_new == simd::kNegInf) {
        // Every score the row has seen is -inf: they weigh nothing, as a masked row's do,
        // unless the maxima passed over a NaN, which must reach the output.
        if (simd::any_nan(row, vis)) row_sum = std::numeric_limits<float>::quiet_NaN();
        for (i64 j = 0; j < used; ++j) row[j] = 0.0f;
        return;
    }
    const float sum = simd::exp_shifted_sum<Arch, true>(row, row, vis, m_new);
    for (i64 j = vis; j < used; ++j) row[j] = 0.0f;
    fold_block<Arch>(m_new, sum, row_max, row_sum, acc_row, d);
}

// Rows the online-softmax update takes at once where they see every key of the block: four
// rows' maxima and exponentials run as independent chains, where one short row at a time left
// its horizontal reductions exposed (96 rows of 128 keys: 2.5-2.7 us one at a time, 2.1-2.2 us
// four at a time; no change at 512 keys).
constexpr int kUpdateRows = 4;

// online_update_row for rows [r, r + kUpdateRows) of the query block, each of which sees all n
// keys of the block, with dot-product scores.
template <class Arch> void online_update_rows(i64 r, i64 n, i64 d, FlashScratch<Arch>& w) {
    using F = Flash<Arch>;
    constexpr int R = kUpdateRows;
    float* rows = w.scores + r * F::LDS;
    float m_new[R], sums[R];
    simd::max_rows<Arch, R>(rows, F::LDS, n, m_new);
    for (int i = 0; i < R; ++i) m_new[i] = std::max(m_new[i], w.row_max[r + i]);
    if (std::find(m_new, m_new + R, simd::kNegInf) != m_new + R) {
        // A row with no finite score yet (or a NaN passed over): one row at a time, as there.
        for (int i = 0; i < R; ++i)
            online_update_row<Arch>(rows + i * F::LDS, n, n, Similarity::dot, 0.0f, nullptr,
                                    w.row_max[r + i], w.row_sum[r + i], w.acc + (r + i) * w.ld_o,
                                    d);
        return;
    }
    simd::exp2_shifted_sums<Arch, R>(rows, F::LDS, n, m_new, sums);
    for (int i = 0; i < R; ++i)
        fold_block<Arch>(m_new[i], sums[i], w.row_max[r + i], w.row_sum[r + i],
                         w.acc + (r + i) * w.ld_o, d);
}

// The online-softmax update of one KV block for every row of the query block (online_update_row,
// kUpdateRows at a time where they see the whole block); keys a row does not see weigh 0.
template <class Arch>
void online_softmax_update(const KvBlock& b, const float* k_norms, FlashScratch<Arch>& w) {
    using F = Flash<Arch>;
    for (i64 r = 0; r < b.rows;) {
        // A row that sees the whole block is followed by rows that do too.
        if (b.sh.similarity == Similarity::dot && r + kUpdateRows <= b.rows &&
            b.visible(r) == b.bk) {
            online_update_rows<Arch>(r, b.bk, b.sh.head_dim, w);
            r += kUpdateRows;
            continue;
        }
        online_update_row<Arch>(w.scores + r * F::LDS, b.visible(r),
                                b.group_keys(r / b.group * b.group), b.sh.similarity, w.q_norms[r],
                                k_norms ? k_norms + b.j0 : nullptr, w.row_max[r], w.row_sum[r],
                                w.acc + r * w.ld_o, b.sh.head_dim);
        ++r;
    }
}

// C += P V of one KV block (C = P V for the first, which every row of the block takes part in):
// P the block's probabilities, vp = V packed by pack_b (k = n_kv, n = d; strips of NR columns,
// n_kv * NR floats apart), C [rows x d] (row stride ldc); with row_scale [rows], row r of P V is
// also scaled by row_scale[r].
template <class Arch> void accumulate_pv(const KvBlock& b, const float* vp, float* c, i64 ldc,
                                         FlashScratch<Arch>& w, const float* row_scale = nullptr) {
    using F = Flash<Arch>;
    // The whole block's keys in one K slice: in AVX-512's slices of 192, each micro-tile of the
    // output went through its registers three times per block, loaded and stored between slices;
    // a strip of V then outgrows L1 but its two vectors per k step come from L2 in time (n 2048,
    // paired gates: 0.98-0.99x the time).
    for (i64 g0 = 0; g0 < b.rows; g0 += b.group)
        simd::gemm_packed<Arch, F::BK>(b.group_rows(g0), b.sh.head_dim, b.group_keys(g0), 1.0f,
                                       w.scores + g0 * F::LDS, F::LDS, vp + b.j0 * F::NR,
                                       b.sh.n_kv * F::NR, c + g0 * ldc, ldc, b.j0 != 0,
                                       row_scale ? row_scale + g0 : nullptr);
}

// 1 / the row sum by which a row's output is divided: a row that saw no key (or only -inf
// scores) has sum 0 and stays zero; a NaN sum stays NaN.
inline float inverse_sum(float row_sum) { return row_sum != 0.0f ? 1.0f / row_sum : 0.0f; }

// o rows [i0, i0 + rows) of o [n_q x d] = acc / row sum.
template <class Arch>
void normalise_rows(const Shape& sh, i64 i0, i64 rows, const FlashScratch<Arch>& w, float* o) {
    const i64 d = sh.head_dim;
    for (i64 r = 0; r < rows; ++r) {
        const float inv = inverse_sum(w.row_sum[r]);
        float* out = o + (i0 + r) * d;
        for (i64 c = 0; c < d; ++c) out[c] = w.acc[r * w.ld_o + c] * inv;
    }
}

// Fused attention of query rows [i0, i1) (at most BQ) of one head: q, o [n_q x d]; kp = K^T and
// vp = V packed by pack_b; k_norms [n_kv] for cosine; `scratch` holds FlashScratch::floats(d)
// floats, 64-byte aligned.
template <class Arch> void flash_rows(const Shape& sh, const float* q, const float* kp,
                                      const float* vp, const float* k_norms, float* o, i64 i0,
                                      i64 i1, float* scratch) {
    FlashScratch<Arch> w(scratch, sh.head_dim);
    const i64 rows = i1 - i0;
    start_query_block(sh, q, i0, rows, w);
    // Causal: KV blocks wholly above the diagonal of the block's last row are never visited.
    const i64 kv_end = sh.visible_keys(i1 - 1);
    if (kv_end == 0)  // no KV block: the rows see no key and their output is zero
        simd::zero_matrix(rows, sh.head_dim, w.acc, w.ld_o);
    for (i64 j0 = 0; j0 < kv_end; j0 += Flash<Arch>::BK) {
        const KvBlock block(sh, i0, rows, j0, kv_end, Flash<Arch>::BK, Flash<Arch>::MR);
        score_tile(block, q, sh.head_dim, kp, w);
        online_softmax_update(block, k_norms, w);
        if (kv_end <= Flash<Arch>::BK) {
            // The only KV block: its P V product, each row times 1 / its sum (row_sum holds the
            // inverses from here on), is the output, which the product's tiles store as they go.
            // A separate pass over o waited on its stores: at n 128 o does not stay in L2
            // between calls, and the pass cost 4% of flash at d 128.
            for (i64 r = 0; r < rows; ++r) w.row_sum[r] = inverse_sum(w.row_sum[r]);
            accumulate_pv(block, vp, o + i0 * sh.head_dim, sh.head_dim, w, w.row_sum);
            return;
        }
        accumulate_pv(block, vp, w.acc, w.ld_o, w);
    }
    normalise_rows(sh, i0, rows, w, o);
}

}  // namespace
}  // namespace attn::flash

#include "decode_impl.hpp"

namespace attn::flash {
namespace {

template <class Arch> constexpr FlashOps make_flash_ops() {
    using F = Flash<Arch>;
    using D = Decode<Arch>;
    return {F::BQ,
            F::BK,
            FlashScratch<Arch>::floats,
            flash_rows<Arch>,
            simd::exp_n<Arch, true>,
            D::kMaxRows,
            D::BK,
            D::kWideRows,
            D::scratch_floats,
            decode_rows_widened<Arch, float>,
            decode_rows_bf16<Arch>,
            decode_rows_widened<Arch, f16>,
            reads_rows_in_order<Arch, float>() ? kStreamRowVectors * D::W : 0};
}

}  // namespace
}  // namespace attn::flash

// Defines flash_ops_for<Isa::tier>() from the templates compiled for Arch.
#define ATTN_FLASH_TABLE(tier, Arch) \
    ATTN_CONSTANT_TABLE(FlashOps, flash_ops_for, tier, make_flash_ops<Arch>())
