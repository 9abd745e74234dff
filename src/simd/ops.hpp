// The building blocks of the simd, omp and flash kernels, one small function table per family,
// compiled once per ISA tier from the templates in gemm.hpp and rows.hpp (ops_<tier>.cpp), so
// that the multithreaded and fused kernels reuse the single-threaded blocks and only the per-tier
// files carry wide instructions.
#pragma once

#include <cstdint>

#include "attn/dtype.hpp"
#include "attn/isa.hpp"
#include "attn/shape.hpp"

namespace attn::simd {

using i64 = std::int64_t;

// The packed matrix product (gemm.hpp).
struct GemmOps {
    // Register tile MR x NR of the micro-kernel, and the K slice KC it keeps in L1.
    i64 mr, nr, kc;
    // The most rows of A that few_rows_product takes (see projection_body).
    i64 direct_rows;
    // Floats a packed op(B) of k x n occupies: ceil(n / nr) strips of k x nr.
    i64 (*packed_size)(i64 k, i64 n);
    // Packs op(B) [k x n]: B row-major [k x n] (ldb), or with `transposed` B [n x k] and op(B) =
    // B^T, into `out`, which must be 64-byte aligned (the strips are read with aligned loads).
    void (*pack_b)(i64 k, i64 n, const float* b, i64 ldb, bool transposed, float* out);
    // C[m x n] = alpha * A[m x k] * packed B (+ C when accumulate); strips strip_stride apart;
    // with row_scale [m] non-null, row i of the product is also scaled by row_scale[i].
    void (*gemm_packed)(i64 m, i64 n, i64 k, float alpha, const float* a, i64 lda, const float* bp,
                        i64 strip_stride, float* c, i64 ldc, bool accumulate,
                        const float* row_scale);
    // Packs rows [0, m) of scale * A [m x k] (row-major, lda) into tiles of mr rows, each stored
    // k-major [k][mr], rows past m zero: ceil(m / mr) * mr * k floats at out.
    void (*pack_a)(i64 m, i64 k, const float* a, i64 lda, float scale, float* out);
    // C[m x n] (+)= A B for one K slice (at most the field kc deep): A packed by pack_a (row tile
    // t's slice at ap + t * a_stride) or, without a_packed, row-major in place (row i at ap + i *
    // a_stride); B packed at bp (strips kc * nr apart, 64-byte aligned); with b non-null, B [kc x
    // n] row-major (ldb) is packed into bp as the first row tile multiplies, and the first
    // next_rows rows of next_b (ldb apart), the B of the call to come, are fetched meanwhile.
    void (*gemm_tiles)(i64 m, i64 n, i64 kc, const float* ap, i64 a_stride, bool a_packed,
                       const float* b, i64 ldb, float* bp, float* c, i64 ldc, bool accumulate,
                       const float* next_b, i64 next_rows);
    // Y[m x n] = X[m x k] W[k x n] with W row-major (ldw) read in place: for few rows m; W in
    // fp32, or stored in bf16 or f16 and widened as it is read.
    void (*few_rows_product)(i64 m, i64 n, i64 k, const float* x, i64 ldx, const float* w, i64 ldw,
                             float* y, i64 ldy);
    void (*few_rows_product_bf16)(i64 m, i64 n, i64 k, const float* x, i64 ldx, const attn::bf16* w,
                                  i64 ldw, float* y, i64 ldy);
    void (*few_rows_product_f16)(i64 m, i64 n, i64 k, const float* x, i64 ldx, const attn::f16* w,
                                 i64 ldw, float* y, i64 ldy);
    void few_rows(i64 m, i64 n, i64 k, const float* x, i64 ldx, const float* w, i64 ldw, float* y,
                  i64 ldy) const {
        few_rows_product(m, n, k, x, ldx, w, ldw, y, ldy);
    }
    void few_rows(i64 m, i64 n, i64 k, const float* x, i64 ldx, const attn::bf16* w, i64 ldw,
                  float* y, i64 ldy) const {
        few_rows_product_bf16(m, n, k, x, ldx, w, ldw, y, ldy);
    }
    void few_rows(i64 m, i64 n, i64 k, const float* x, i64 ldx, const attn::f16* w, i64 ldw,
                  float* y, i64 ldy) const {
        few_rows_product_f16(m, n, k, x, ldx, w, ldw, y, ldy);
    }
};

// Row-wise softmax and the exponential it uses (rows.hpp).
struct SoftmaxOps {
    // fp32 lanes of one vector, and the longest row kept in the on-stack buffer of the
    // streaming path.
    i64 width, row_buffer;
    // Softmax of `rows` contiguous rows of length n; p may equal s. `streaming` writes p around
    // the caches: for outputs far larger than the last-level cache share of a core.
    void (*softmax_rows)(i64 n, const float* s, float* p, i64 rows, bool streaming);
    // y = e^x elementwise with the vectorized exponential the softmax uses.
    void (*exp)(const float* x, float* y, i64 n);
};

// Score rows of one head (rows.hpp).
struct ScoresOps {
    // Score rows [i0, i1) of one head: q [n_q x d], k_packed = K^T packed by GemmOps::pack_b
    // (k = d, n = n_kv), k_norms [n_kv] for cosine (else unused); row i goes to
    // s + (i - i0) * n_kv with the mask and cosine applied.
    void (*scores_rows)(const Shape& sh, const float* q, const float* k_packed,
                        const float* k_norms, float* s, i64 i0, i64 i1);
    // Euclidean norm of each of `rows` rows of length d.
    void (*row_norms)(const float* x, i64 rows, i64 d, float* norms);
};

// Widening of 16-bit storage to fp32 (xsimd_compat.hpp's widen_n).
struct WidenOps {
    // dst[0, n) = src[0, n) widened exactly, as attn::to_float does each element.
    void (*bf16)(const attn::bf16* src, i64 n, float* dst);
    void (*f16)(const attn::f16* src, i64 n, float* dst);
    void operator()(const attn::bf16* src, i64 n, float* dst) const { bf16(src, n, dst); }
    void operator()(const attn::f16* src, i64 n, float* dst) const { f16(src, n, dst); }
};

// The layer stage's elementwise rows (layer_rows.hpp), the float formulas of layer_math.hpp.
struct LayerOps {
    // x[0, n) = GELU(x), the tanh form, on the softmax's exponential.
    void (*gelu)(float* x, i64 n);
    // h[0, n) = SiLU(h) * gate.
    void (*silu_gate)(float* h, const float* gate, i64 n);
    // y[0, n) = Norm(a + b) of one row (y may be a or b): LayerNorm with gain and bias, or with
    // `rms` RMSNorm with gain.
    void (*residual_norm)(const float* a, const float* b, i64 n, const float* gain,
                          const float* bias, bool rms, float* y);
    // y[0, n) = a + b (y may be a or b): a row plus its position encoding.
    void (*add)(const float* a, const float* b, i64 n, float* y);
    // y[0, n) = v turned pair by pair by rotary table rows, layer::rotate_pairs_row (y may be v).
    void (*rotate_pairs)(const float* v, const float* cos, const float* sin, i64 n, float* y);
};

// The tables of one tier, defined in ops_<tier>.cpp.
template <Isa I> const GemmOps& gemm_ops_for();
template <Isa I> const SoftmaxOps& softmax_ops_for();
template <Isa I> const ScoresOps& scores_ops_for();
template <Isa I> const WidenOps& widen_ops_for();
template <Isa I> const LayerOps& layer_ops_for();

// Calls get.template operator()<tier>() for the tier that serves `isa`: itself, or for `best`
// and `scalar` best_isa(), by attn/isa_tiers.inc; SSE2 on a CPU with no tier at all.
template <class Get> decltype(auto) for_tier(Isa isa, Get get) {
    switch (isa == Isa::best || isa == Isa::scalar ? best_isa() : isa) {
#define ATTN_ISA(name, flags, feature, feature2) \
    case Isa::name:                              \
        return get.template operator()<Isa::name>();
#include "attn/isa_tiers.inc"
#undef ATTN_ISA
        default: return get.template operator()<kNarrowestTier>();
    }
}

// The table of a tier; `best` and `scalar` resolve to best_isa().
const GemmOps& gemm_ops(Isa isa);
const SoftmaxOps& softmax_ops(Isa isa);
const ScoresOps& scores_ops(Isa isa);
const WidenOps& widen_ops(Isa isa);
const LayerOps& layer_ops(Isa isa);

}  // namespace attn::simd
