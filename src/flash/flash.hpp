// The flash variant's building blocks: the fused attention of one query block, compiled once per
// ISA tier from flash_impl.hpp (flash_<tier>.cpp) and reached through one table per tier, and the
// loop over batch x heads x query blocks that every flash kernel runs.
#pragma once

#include <type_traits>

#include "attn/dtype.hpp"
#include "attn/isa.hpp"
#include "attn/shape.hpp"
#include "simd/ops.hpp"

namespace attn::flash {

using simd::i64;

// The decode path's rows with K and V stored as T: see FlashOps::decode_rows.
template <class T> using DecodeRows = void (*)(const Shape& sh, const float* q, i64 rows,
                                               const T* k, const T* v, i64 j_begin, i64 j_end,
                                               float* row_max, float* row_sum, float* acc,
                                               float* scratch);

struct FlashOps {
    // Query rows and keys per block.
    i64 block_q, block_kv;
    // Floats of per-thread scratch flash_rows needs at head size d.
    i64 (*scratch_floats)(i64 d);
    // Fused attention of query rows [i0, i1) (at most block_q) of one head: q, o [n_q x d],
    // k_packed = K^T packed by GemmOps::pack_b (k = d, n = n_kv), v_packed = V packed
    // (k = n_kv, n = d), k_norms [n_kv] for cosine; `scratch` holds scratch_floats(d) floats,
    // 64-byte aligned.
    void (*flash_rows)(const Shape& sh, const float* q, const float* k_packed,
                       const float* v_packed, const float* k_norms, float* o, i64 i0, i64 i1,
                       float* scratch);
    // y = 2^x elementwise for x <= 0 with the flash exponential (fast_exp2_nonpositive).
    void (*exp2)(const float* x, float* y, i64 n);

    // The decode path, for few query rows per K/V head (at most decode_max_rows): K and V are
    // read in place, once, in blocks of decode_block keys, and the key range may be split; from
    // decode_wide_rows rows on, each block is packed and multiplied by the prefill micro-kernel.
    i64 decode_max_rows, decode_block, decode_wide_rows;
    // Floats of per-thread scratch decode_rows needs at head size d.
    i64 (*decode_scratch_floats)(i64 d);
    // The online-softmax state of `rows` query rows over keys [j_begin, j_end) of one K/V head:
    // q [rows x d] (row r is query r % n_q of the group's query head r / n_q), k, v [n_kv x d];
    // writes row_max [rows] (log2 units), row_sum [rows] and the unnormalised acc [rows x d].
    DecodeRows<float> decode_rows;
    // decode_rows with K and V stored in 16 bits, widened as they are read.
    DecodeRows<bf16> decode_rows_bf16;
    DecodeRows<f16> decode_rows_f16;
    // The smallest head size at which fp32 decode reads a cache larger than the last-level cache
    // row after row (0: never).
    i64 decode_stream_row;

    // The decode_rows of storage type T.
    template <class T> DecodeRows<T> decode_rows_of() const {
        if constexpr (std::is_same_v<T, bf16>) return decode_rows_bf16;
        else if constexpr (std::is_same_v<T, f16>) return decode_rows_f16;
        else return decode_rows;
    }
};

// The table of one tier, defined in flash_<tier>.cpp.
template <Isa I> const FlashOps& flash_ops_for();
// The table of a tier; `best` and `scalar` resolve to best_isa().
const FlashOps& flash_ops(Isa isa);

// The decode path splits a K/V head's key range at multiples of this many keys: fewer than a
// decode block, so that a cache of a few hundred keys still gives every core a part.
inline constexpr i64 kSplitKeys = 128;

// Bytes of the largest cache CPU 0 has, as Linux lists it in sysfs (32 MiB where it lists none),
// or those of assume_last_level_cache_bytes: the decode path reads a K/V cache larger than this
// from memory, in the order that suits streaming.
i64 last_level_cache_bytes();
// Makes last_level_cache_bytes return `bytes` (1: every decode call streams from memory, as the
// tests run it on small caches); 0 goes back to what sysfs lists.
void assume_last_level_cache_bytes(i64 bytes);

// The most queries per head a call may have to take the decode path: decode is one token, or
// up to 16 when speculative decoding verifies drafts; longer prompts are prefill.
inline constexpr i64 kDecodeQueries = 16;

// Fused attention of every head with tier `isa` on `threads` threads; q, o [B][H][n_q][d],
// k, v [B][kv_heads][n_kv][d]. Decode shapes (n_q <= kDecodeQueries) whose query rows per K/V
// head (group x n_q) fit FlashOps::decode_max_rows take the decode path, the others the
// query-block (prefill) path.
// q, k and v stored as T (float, bf16 or f16): the prefill path widens them to fp32 first, the
// decode path widens K and V as it reads them.
template <class T> void flash_body(Isa isa, int threads, const Shape& sh, const T* q, const T* k,
                                   const T* v, float* o);

}  // namespace attn::flash
