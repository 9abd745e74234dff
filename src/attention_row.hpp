// The exact attention of one query row over the keys it sees, which the blocked kernels fall back
// on under a causal mask when a key hidden from a row holds a NaN or an inf in V.
#pragma once

#include <cstdint>

#include "attn/dtype.hpp"
#include "attn/shape.hpp"

namespace attn {

// o_row [d] = softmax(scores of row i over its visible keys) V, in fp32, with the stages' IEEE
// rules; q_head [n_q x d] stored as Q, k_head and v_head [n_kv x d] of one head stored as T
// (instantiated for Q = T of float, bf16 or f16, and for fp32 queries with 16-bit K and V).
template <class Q, class T> void attention_row_exact(const Shape& sh, const Q* q_head,
                                                     const T* k_head, const T* v_head,
                                                     std::int64_t i, float* o_row);

// Under a causal mask, recomputes with attention_row_exact each row of o_head [n_q x d] in
// [i0, i1) that is not finite. A blocked P V product multiplies the zero weights of the keys a row
// does not see by their V rows, and 0 times a NaN or inf is NaN: the contract says a hidden key
// contributes nothing. A row that is non-finite on its own merits comes out the same. Costs one
// pass over the block's outputs when they are finite.
template <class Q, class T>
void repair_hidden_key_rows(const Shape& sh, const Q* q_head, const T* k_head, const T* v_head,
                            float* o_head, std::int64_t i0, std::int64_t i1);

// Recomputes with attention_row_exact each row of o_head [n_q x d] in [i0, i1) that is not finite,
// with or without a mask: for kernels whose softmax gives NaN where the contract wants zeros (a
// row whose scores are all -inf) besides the hidden keys above.
template <class Q, class T>
void repair_nonfinite_rows(const Shape& sh, const Q* q_head, const T* k_head, const T* v_head,
                           float* o_head, std::int64_t i0, std::int64_t i1);

}  // namespace attn
