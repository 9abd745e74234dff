// Row operations written once for every ISA tier: dot products and norms, maxima, exponentials,
// the softmax of rows and the score rows of a head; instantiated by the per-tier files
// (simd/ops_<tier>.cpp, flash/flash_<tier>.cpp). Everything sits in an anonymous namespace so
// that code compiled with wide-ISA flags can never be merged by the linker into code that runs
// on other CPUs.
#pragma once

#include <cstdint>
#include <limits>

#include "gemm.hpp"
#include "ops.hpp"

namespace attn::simd {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Sum of a[j] b[j] over n entries.
template <class Arch> float dot(const float* a, const float* b, i64 n) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    V acc(0.0f);
    i64 j = 0;
    for (; j + W <= n; j += W) acc = xsimd::fma(loadu<Arch>(a + j), loadu<Arch>(b + j), acc);
    float s = hsum<Arch>(acc);
    for (; j < n; ++j) s += a[j] * b[j];
    return s;
}

// norms[r] = |x row r| for `rows` rows of length d, x row-major [rows x d].
template <class Arch> void row_norms(const float* x, i64 rows, i64 d, float* norms) {
    for (i64 r = 0; r < rows; ++r) norms[r] = __builtin_sqrtf(dot<Arch>(x + r * d, x + r * d, d));
}

// The softmax's vector exponential: e^x, or with Base2 the flash kernel's 2^x for x <= 0.
template <class Arch, bool Base2> inline vfloat<Arch> softmax_exp(vfloat<Arch> x) {
    if constexpr (Base2) return fast_exp2_nonpositive<Arch>(x);
    else return fast_exp<Arch>(x);
}

// y = e^x (with Base2: 2^x) over n entries.
template <class Arch, bool Base2 = false> void exp_n(const float* x, float* y, i64 n) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    i64 j = 0;
    for (; j + W <= n; j += W) storeu<Arch>(y + j, softmax_exp<Arch, Base2>(loadu<Arch>(x + j)));
    if (j < n) {
        alignas(64) float tmp[W];
        for (i64 t = 0; t < W; ++t) tmp[t] = j + t < n ? x[j + t] : kNegInf;
        softmax_exp<Arch, Base2>(V::load_aligned(tmp)).store_aligned(tmp);
        for (i64 t = 0; j + t < n; ++t) y[j + t] = tmp[t];
    }
}

// Whether x[0, n) holds a NaN (the vector maxima pass over NaNs: maxps returns its second operand).
inline bool any_nan(const float* x, i64 n) {
    for (i64 j = 0; j < n; ++j)
        if (x[j] != x[j]) return true;
    return false;
}

// The largest of x[0, n) (-inf for n = 0); NaNs may be passed over (see any_nan).
template <class Arch> float max_n(const float* x, i64 n) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    // Four independent maxima: one chain would wait out vmaxps's latency on every vector.
    V m0(kNegInf), m1(kNegInf), m2(kNegInf), m3(kNegInf);
    i64 j = 0;
    for (; j + 4 * W <= n; j += 4 * W) {
        m0 = xsimd::max(m0, loadu<Arch>(x + j));
        m1 = xsimd::max(m1, loadu<Arch>(x + j + W));
        m2 = xsimd::max(m2, loadu<Arch>(x + j + 2 * W));
        m3 = xsimd::max(m3, loadu<Arch>(x + j + 3 * W));
    }
    for (; j + W <= n; j += W) m0 = xsimd::max(m0, loadu<Arch>(x + j));
    float m = hmax<Arch>(xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3)));
    for (; j < n; ++j) m = x[j] > m ? x[j] : m;
    return m;
}

// The largest of each of R rows into m[r]: row r is x[r * ld, r * ld + n) (-inf for n = 0); NaNs
// may be passed over (see any_nan). The rows' chains are independent, so short rows overlap
// their reductions instead of each waiting out its own.
template <class Arch, int R> void max_rows(const float* x, i64 ld, i64 n, float* m) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    V acc[R];
    for (int r = 0; r < R; ++r) acc[r] = V(kNegInf);
    i64 j = 0;
    for (; j + W <= n; j += W)
        for (int r = 0; r < R; ++r) acc[r] = xsimd::max(acc[r], loadu<Arch>(x + r * ld + j));
    for (int r = 0; r < R; ++r) {
        float mr = hmax<Arch>(acc[r]);
        for (i64 t = j; t < n; ++t) mr = x[r * ld + t] > mr ? x[r * ld + t] : mr;
        m[r] = mr;
    }
}

// The tail of exp_shifted_sum: p[j, n) = e^(s - shift) (with Base2, 2^(s - shift)) for the last
// n - j < W entries, each added to sum in turn; returns the sum.
template <class Arch, bool Base2>
float exp_shifted_tail(const float* s, float* p, i64 j, i64 n, float shift, float sum) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    if (j < n) {
        alignas(64) float tmp[W];
        for (i64 t = 0; t < W; ++t) tmp[t] = j + t < n ? s[j + t] - shift : kNegInf;
        softmax_exp<Arch, Base2>(V::load_aligned(tmp)).store_aligned(tmp);
        for (i64 t = 0; j + t < n; ++t) p[j + t] = tmp[t], sum += tmp[t];
    }
    return sum;
}

// p = e^(s - shift) over n entries (with Base2: 2^(s - shift), every s <= shift); returns their
// sum. With `ahead`, also asks for ahead[0, n) to be brought into L1, one cache line per vector,
// so that the next row's memory latency overlaps this row's arithmetic instead of following it.
template <class Arch, bool Base2 = false>
float exp_shifted_sum(const float* s, float* p, i64 n, float shift, const float* ahead = nullptr) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    const V vshift(shift);
    V vsum(0.0f);
    i64 j = 0;
    for (; j + W <= n; j += W) {
        if (ahead) __builtin_prefetch(ahead + j, 0, 3);  // to L1 (prefetcht0 on x86-64)
        const V e = softmax_exp<Arch, Base2>(loadu<Arch>(s + j) - vshift);
        storeu<Arch>(p + j, e);
        vsum += e;
    }
    return exp_shifted_tail<Arch, Base2>(s, p, j, n, shift, hsum<Arch>(vsum));
}

// exp_shifted_sum<Arch, true> in place on each of R rows, row r s[r * ld, r * ld + n) shifted by
// shift[r] (every s <= its shift), its sum into sums[r]: each row is summed in exp_shifted_sum's
// order, so the bits are the same, but the rows' chains run side by side.
template <class Arch, int R>
void exp2_shifted_sums(float* s, i64 ld, i64 n, const float* shift, float* sums) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    V vshift[R], vsum[R];
    for (int r = 0; r < R; ++r) vshift[r] = V(shift[r]), vsum[r] = V(0.0f);
    i64 j = 0;
    for (; j + W <= n; j += W)
        for (int r = 0; r < R; ++r) {
            float* row = s + r * ld;
            const V e = softmax_exp<Arch, true>(loadu<Arch>(row + j) - vshift[r]);
            storeu<Arch>(row + j, e);
            vsum[r] += e;
        }
    // The horizontal sums first, in a loop of its own that unrolls: indexed by the tail loop's
    // counter, vsum lived on the stack, and the main loop loaded and stored it every vector.
    float vector_sums[R];
    for (int r = 0; r < R; ++r) vector_sums[r] = hsum<Arch>(vsum[r]);
    for (int r = 0; r < R; ++r)
        sums[r] =
            exp_shifted_tail<Arch, true>(s + r * ld, s + r * ld, j, n, shift[r], vector_sums[r]);
}

// x[0, n) *= factor.
template <class Arch> void scale_n(float* x, i64 n, float factor) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    const V f(factor);
    i64 j = 0;
    for (; j + W <= n; j += W) storeu<Arch>(x + j, loadu<Arch>(x + j) * f);
    for (; j < n; ++j) x[j] *= factor;
}

// Rows up to this length keep their exponentials in a stack buffer (16 KiB, in L1) between
// the exp pass and the scaling pass, so that p is written exactly once.
constexpr i64 kSoftmaxRowBuffer = 4096;

// Softmax of `rows` contiguous rows of length n, s and p [rows x n] (p may equal s); a row of
// -inf gives zeros. `streaming` stores p around the caches.
template <class Arch> void softmax_rows(i64 n, const float* s, float* p, i64 rows, bool streaming) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    alignas(64) float buf[kSoftmaxRowBuffer];
    for (i64 r = 0; r < rows; ++r) {
        const float* in = s + r * n;
        float* out = p + r * n;
        const float m = max_n<Arch>(in, n);
        if (m == kNegInf) {  // fully masked, unless the maximum passed over a NaN
            const float fill = any_nan(in, n) ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
            for (i64 j = 0; j < n; ++j) out[j] = fill;
            continue;
        }
        if (!streaming || n > kSoftmaxRowBuffer) {
            scale_n<Arch>(out, n, 1.0f / exp_shifted_sum<Arch>(in, out, n, m));
            continue;
        }
        const float inv =
            1.0f / exp_shifted_sum<Arch>(in, buf, n, m, r + 1 < rows ? in + n : nullptr);
        // Scalar up to the first vector-aligned address of out, then aligned streaming stores.
        const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(out) / sizeof(float);
        const i64 head = i64((W - at % W) % W);
        i64 j = 0;
        for (; j < head && j < n; ++j) out[j] = buf[j] * inv;
        for (; j + W <= n; j += W) stream_aligned<Arch>(out + j, loadu<Arch>(buf + j) * V(inv));
        for (; j < n; ++j) out[j] = buf[j] * inv;
    }
    if (streaming) store_fence();
}

// Divides each visible score of row `row` by |q||k| (cosine), leaving 0 where a norm is 0 (a NaN
// or inf norm goes through the division).
inline void cosine_row(float* row, i64 n, float q_norm, const float* k_norms) {
    for (i64 j = 0; j < n; ++j) {
        const float den = q_norm * k_norms[j];
        row[j] = den != 0.0f ? row[j] / den : 0.0f;
    }
}

// Score rows [i0, i1) of one head into s [(i1 - i0) x n_kv]: q [n_q x d], kp = K^T packed by
// pack_b, k_norms [n_kv] for cosine; masked keys get -inf.
template <class Arch> void scores_rows(const Shape& sh, const float* q, const float* kp,
                                       const float* k_norms, float* s, i64 i0, i64 i1) {
    const i64 n = sh.n_kv, d = sh.head_dim;
    // Keys past the last row's diagonal are hidden from every row of the block: not computed.
    const i64 cols = sh.visible_keys(i1 - 1);
    gemm_packed<Arch>(i1 - i0, cols, d, sh.effective_scale(), q + i0 * d, d, kp, d * Tile<Arch>::NR,
                      s, n, false);
    for (i64 i = i0; i < i1; ++i) {
        float* row = s + (i - i0) * n;
        const i64 vis = sh.visible_keys(i);
        if (sh.similarity == Similarity::cosine)
            cosine_row(row, vis, __builtin_sqrtf(dot<Arch>(q + i * d, q + i * d, d)), k_norms);
        for (i64 j = vis; j < n; ++j) row[j] = kNegInf;
    }
}

}  // namespace
}  // namespace attn::simd
