// The building blocks of every simd, omp and flash kernel, compiled once per ISA from the
// templates in ops_impl.hpp and reached through one table per ISA, so that the OpenMP and fused
// kernels reuse the single-threaded bodies and only the per-ISA files carry wide instructions.
#pragma once

#include <cstdint>

#include "attn/isa.hpp"
#include "attn/shape.hpp"

namespace attn::simd {

using i64 = std::int64_t;

struct Ops {
    Isa isa;
    // Floats a packed B of k x n occupies (see gemm.hpp); strips are nr columns wide.
    i64 (*packed_size)(i64 k, i64 n);
    int nr;
    // Packs op(B) [k x n]: B row-major [k x n] (ldb), or with `transposed` B [n x k] and op(B) = B^T.
    void (*pack_b)(i64 k, i64 n, const float* b, i64 ldb, bool transposed, float* out);
    // C[m x n] = alpha * A[m x k] * packed B (+ C when accumulate); strips strip_stride apart.
    void (*gemm_packed)(i64 m, i64 n, i64 k, float alpha, const float* a, i64 lda, const float* bp,
                        i64 strip_stride, float* c, i64 ldc, bool accumulate);
    // Score rows [i0, i1) of one head: q [n_q x d], k_packed = K^T packed (k = d, n = n_kv),
    // k_norms [n_kv] for cosine (else unused); row i goes to s + (i - i0) * n_kv; mask and
    // cosine applied.
    void (*scores_rows)(const Shape& sh, const float* q, const float* k_packed, const float* k_norms,
                        float* s, i64 i0, i64 i1);
    // Softmax of `rows` contiguous rows of length n; p may equal s. `streaming` writes p around
    // the caches: for outputs far larger than the last-level cache share of a core.
    void (*softmax_rows)(i64 n, const float* s, float* p, i64 rows, bool streaming);
    // y = e^x elementwise with the vectorized exponential the softmax uses.
    void (*exp)(const float* x, float* y, i64 n);
    // y = 2^x elementwise for x <= 0 with the flash kernel's exponential (fast_exp2_nonpositive).
    void (*exp2)(const float* x, float* y, i64 n);
    // Euclidean norm of each of `rows` rows of length d.
    void (*row_norms)(const float* x, i64 rows, i64 d, float* norms);
    // Fused attention of query rows [i0, i1) (at most flash_block_q) of one head: q, o [n_q x d],
    // k_packed as for scores_rows, v_packed = V packed (k = n_kv, n = d); `scratch` holds
    // flash_scratch(d) floats, 64-byte aligned.
    void (*flash_rows)(const Shape& sh, const float* q, const float* k_packed, const float* v_packed,
                       const float* k_norms, float* o, i64 i0, i64 i1, float* scratch);
    i64 flash_block_q;
    i64 (*flash_scratch)(i64 d);
};

const Ops& ops_sse2();
const Ops& ops_avx2();
const Ops& ops_avx512();
// The table for an ISA tier; `best` (and `scalar`) resolve to best_isa().
const Ops& ops(Isa isa);

}  // namespace attn::simd
