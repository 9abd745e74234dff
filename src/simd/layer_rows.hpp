// The layer stage's elementwise rows written once for every ISA tier — GELU, SiLU times its gate,
// the residual sum with its LayerNorm or RMSNorm, the position encoding's sum and the rotary
// embeddings' pairwise turn — on the softmax's vector exponential and xsimd_compat.hpp; the
// float formulas of src/layer_math.hpp, vectorised. Included only by the per-tier files.
#pragma once

#include <cmath>

#include "layer_math.hpp"
#include "rows.hpp"

namespace attn::simd {
namespace {

// GELU's tanh form on a vector: 0.5 x (1 + tanh z), z = sqrt(2/pi) (x + 0.044715 x^3). With
// e = e^(-2|z|) <= 1 (no overflow), 1 + tanh z is 2 / (1 + e) for z >= 0 and 2e / (1 + e) below,
// so the negative side, where 1 + tanh z cancels to a few thousandths at x = -3, keeps full
// relative precision. An infinite x gives what the scalar formula gives (inf, or NaN for -inf).
template <class Arch> inline vfloat<Arch> gelu_vector(vfloat<Arch> x) {
    using V = vfloat<Arch>;
    const V z = V(0.7978845608028654f) * (x + V(0.044715f) * x * x * x);
    const V e = fast_exp<Arch>(V(-2.0f) * xsimd::abs(z));
    return x * xsimd::select(z < V(0.0f), e, V(1.0f)) / (V(1.0f) + e);
}

// x[0, n) = GELU(x).
template <class Arch> void gelu_n(float* x, i64 n) {
    constexpr i64 W = vfloat<Arch>::size;
    i64 j = 0;
    for (; j + W <= n; j += W) storeu<Arch>(x + j, gelu_vector<Arch>(loadu<Arch>(x + j)));
    for (; j < n; ++j) x[j] = layer::gelu(x[j]);
}

// h[0, n) = SiLU(h) * gate, SiLU(x) = x / (1 + e^-x) = x e / (1 + e) below 0 and x / (1 + e)
// above, e = e^-|x| <= 1: the vector exponential clamps where e^-x would overflow, which would
// leave -100 / (1 + e^100) at -6e-37 instead of the formula's -0, and -inf not NaN.
template <class Arch> void silu_gate_n(float* h, const float* gate, i64 n) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    i64 j = 0;
    for (; j + W <= n; j += W) {
        const V x = loadu<Arch>(h + j);
        const V e = fast_exp<Arch>(-xsimd::abs(x));
        const V silu = x * xsimd::select(x < V(0.0f), e, V(1.0f)) / (V(1.0f) + e);
        storeu<Arch>(h + j, silu * loadu<Arch>(gate + j));
    }
    for (; j < n; ++j) h[j] = layer::silu(h[j]) * gate[j];
}

// y[0, n) = a + b (y may be a or b).
template <class Arch> void add_n(const float* a, const float* b, i64 n, float* y) {
    constexpr i64 W = vfloat<Arch>::size;
    i64 j = 0;
    for (; j + W <= n; j += W) storeu<Arch>(y + j, loadu<Arch>(a + j) + loadu<Arch>(b + j));
    for (; j < n; ++j) y[j] = a[j] + b[j];
}

// rotate_pairs_row on vectors (y may be v): v cos + swap_pairs(v) sin. W is even, so a vector
// starting at an even column holds whole pairs; the rest, from the last full vector on, is
// rotate_pairs_row's.
template <class Arch>
void rotate_pairs_n(const float* v, const float* cos, const float* sin, i64 n, float* y) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    i64 j = 0;
    for (; j + W <= n; j += W) {
        const V x = loadu<Arch>(v + j);
        storeu<Arch>(
            y + j, xsimd::fma(x, loadu<Arch>(cos + j), swap_pairs<Arch>(x) * loadu<Arch>(sin + j)));
    }
    layer::rotate_pairs_row(v + j, cos + j, sin + j, n - j, y + j);
}

// y[0, n) = Norm(a + b) of one row (y may be a or b): LayerNorm (z - mean) / sqrt(variance + eps)
// * gain + bias, or with `rms` RMSNorm z / sqrt(mean z^2 + eps) * gain; the sums in W lanes.
template <class Arch> void residual_norm_row(const float* a, const float* b, i64 n,
                                             const float* gain, const float* bias, bool rms,
                                             float* y) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    const i64 nv = n / W * W;
    V acc(0.0f);
    float tail = 0.0f;
    for (i64 j = 0; j < nv; j += W) {
        const V z = loadu<Arch>(a + j) + loadu<Arch>(b + j);
        storeu<Arch>(y + j, z);
        acc += z;
    }
    for (i64 j = nv; j < n; ++j) y[j] = a[j] + b[j], tail += y[j];
    const float mean = rms ? 0.0f : (hsum<Arch>(acc) + tail) / float(n);
    const V vm(mean);
    V sq(0.0f);
    tail = 0.0f;
    for (i64 j = 0; j < nv; j += W) {
        const V d = loadu<Arch>(y + j) - vm;
        sq = xsimd::fma(d, d, sq);
    }
    for (i64 j = nv; j < n; ++j) tail += (y[j] - mean) * (y[j] - mean);
    const float inv =
        1.0f / std::sqrt((hsum<Arch>(sq) + tail) / float(n) + float(layer::kNormEpsilon));
    const V vi(inv);
    for (i64 j = 0; j < nv; j += W) {
        const V d = (loadu<Arch>(y + j) - vm) * vi * loadu<Arch>(gain + j);
        storeu<Arch>(y + j, rms ? d : d + loadu<Arch>(bias + j));
    }
    for (i64 j = nv; j < n; ++j)
        y[j] = rms ? (y[j] - mean) * inv * gain[j] : (y[j] - mean) * inv * gain[j] + bias[j];
}

}  // namespace
}  // namespace attn::simd
