// The layer stage's elementwise definitions — sinusoidal positions, rotary embeddings, LayerNorm
// and RMSNorm, GELU and SiLU — written once for the double reference and the float kernels, so
// both compute the same formulas; and the position tables the fast chain reads.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "attn/shape.hpp"

namespace attn::layer {

using i64 = std::int64_t;

// Added under the square root of both norms, as PyTorch's LayerNorm default.
inline constexpr double kNormEpsilon = 1e-5;
// The base of the sinusoidal encoding and of rotary embeddings: pair i of `width` turns by
// position / kBase^(2i / width).
inline constexpr double kBase = 10000.0;

// The angle of pair `pair` (dimensions 2 pair and 2 pair + 1) of a `width`-wide vector at
// sequence position `pos`, in double whatever the caller's type: a float angle at position
// 2048 is only good to 2.4e-4.
inline double angle(i64 pos, i64 pair, i64 width) {
    return double(pos) * std::pow(kBase, -2.0 * double(pair) / double(width));
}

// The sinusoidal encoding of column c of d_model at position pos: sin of the pair's angle for
// even c, cos for odd c.
inline double sinusoid(i64 pos, i64 c, i64 d_model) {
    const double a = angle(pos, c / 2, d_model);
    return c % 2 == 0 ? std::sin(a) : std::cos(a);
}

// GELU in the tanh form BERT and GPT-2 were trained with: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715
// x^3))).
template <class T> T gelu(T x) {
    const T k = T(0.7978845608028654);
    return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
}

// SiLU (swish), SwiGLU's gate: x / (1 + e^-x).
template <class T> T silu(T x) { return x / (T(1) + std::exp(-x)); }

// y[n] = the normalised row z[n] (y may equal z): LayerNorm (z - mean) / sqrt(variance + eps) *
// gain + bias, or with `rms` RMSNorm z / sqrt(mean of z^2 + eps) * gain; sums in Acc.
template <class Acc, class T>
void norm_row(const T* z, i64 n, const float* gain, const float* bias, bool rms, T* y) {
    Acc mean = 0;
    if (!rms) {
        for (i64 c = 0; c < n; ++c) mean += Acc(z[c]);
        mean /= Acc(n);
    }
    Acc sq = 0;
    for (i64 c = 0; c < n; ++c) sq += (Acc(z[c]) - mean) * (Acc(z[c]) - mean);
    const Acc inv = Acc(1) / std::sqrt(sq / Acc(n) + Acc(kNormEpsilon));
    for (i64 c = 0; c < n; ++c)
        y[c] = rms ? T(Acc(z[c]) * inv * Acc(gain[c]))
                   : T((Acc(z[c]) - mean) * inv * Acc(gain[c]) + Acc(bias[c]));
}

// Rotates the heads' vectors t [B][heads][n][d] in place by their positions: pair i of the row at
// position p, (a, b), becomes (a cos - b sin, a sin + b cos) of angle(p, i, d).
template <class T> void rotate_heads_reference(const Shape& sh, i64 heads, T* t) {
    const i64 n = sh.n_q, d = sh.head_dim;
    for (i64 bh = 0; bh < sh.batch * heads; ++bh)
        for (i64 p = 0; p < n; ++p)
            for (i64 i = 0; i < d / 2; ++i) {
                const double a = angle(p, i, d), c = std::cos(a), s = std::sin(a);
                T* v = t + (bh * n + p) * d + 2 * i;
                const T x0 = v[0], x1 = v[1];
                v[0] = T(x0 * T(c) - x1 * T(s));
                v[1] = T(x0 * T(s) + x1 * T(c));
            }
}

// cos and sin of angle(p, i, width) for p < n, i < width / 2, rounded to float: [n][width / 2]
// each. Computed in double on the first call with these sizes and kept per thread (the last
// kAngleTables of them; a pointer stays valid until that many other sizes were asked for), as
// models keep their rotary cache.
inline constexpr std::size_t kAngleTables = 8;
struct AngleTable {
    const float* cos;
    const float* sin;
};
AngleTable angle_table(i64 n, i64 width);

// out = X + the sinusoidal encoding in one pass (out may be x), x and out [B][n][d_model], rows
// shared out over `threads` threads.
void add_positions(const Shape& sh, const float* x, float* out, int threads);
// rotate_heads_reference in float from angle_table, t [B][heads][n][d], over `threads` threads.
void rotate_heads(const Shape& sh, i64 heads, float* t, int threads);

}  // namespace attn::layer
