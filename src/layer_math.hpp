// The layer stage's elementwise definitions — sinusoidal positions, rotary embeddings, LayerNorm
// and RMSNorm, GELU and SiLU — written once for the double reference and the float kernels, so
// both compute the same formulas; and the position tables the fast chain reads.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "attn/isa.hpp"
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

// The embedding-table row that token id t picks, or -1 where t is not a whole number in [0, vocab)
// (NaN, an infinity, a fraction, a negative or too large id): that row of X is NaN.
inline i64 token_row(double t, i64 vocab) {
    return t >= 0.0 && t < double(vocab) && t == std::floor(t) ? i64(t) : -1;
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

// y[0, n) = v turned pair by pair by rotary table rows (y may be v): y[c] = v[c] cos[c] + v[c ^ 1]
// sin[c] for each pair (c, c + 1), c even; an odd n's last entry, which has no partner, v cos.
// With cos (c, c) and sin (-s, s) per pair this is (a c - b s, a s + b c): the reference's
// rotation, which the vector rows compute with one lane swap.
inline void rotate_pairs_row(const float* v, const float* cos, const float* sin, i64 n, float* y) {
    for (i64 c = 0; c + 1 < n; c += 2) {
        const float a = v[c], b = v[c + 1];
        y[c] = a * cos[c] + b * sin[c];
        y[c + 1] = b * cos[c + 1] + a * sin[c + 1];
    }
    if (n % 2) y[n - 1] = v[n - 1] * cos[n - 1];
}

// The sinusoidal encoding as rows to add, [n][width]: sinusoid(p, c, width) rounded to float.
// Computed in double on the first call with these sizes and kept per thread (the last
// kPositionTables tables of either kind; a pointer stays valid until that many other sizes were
// asked for), as models keep their position and rotary caches.
inline constexpr std::size_t kPositionTables = 8;
const float* position_table(i64 n, i64 width);
// The rotary tables as rows to multiply for rotate_pairs_row, [n][width] each: cos holds each
// pair's cos(angle(p, i, width)) twice, sin its -sin and +sin; an odd width's last column 1 and 0.
struct RotaryTable {
    const float* cos;
    const float* sin;
};
RotaryTable rotary_table(i64 n, i64 width);

// X [B][n][d_model] = the rows of `table` [vocab][d_model] that the token ids [B][n] pick, a row of
// NaN where an id picks none (token_row), on `threads` threads.
void look_up_tokens(const Shape& sh, const float* ids, const float* table, float* x, int threads);
// out = X + the sinusoidal encoding in one pass (out may be x), x and out [B][n][d_model], rows
// shared out over `threads` threads, at tier `isa` (Isa::scalar: the plain loop).
void add_positions(const Shape& sh, const float* x, float* out, int threads, Isa isa);
// rotate_heads_reference in float from rotary_table, t [B][heads][n][d], over `threads` threads,
// at tier `isa` (Isa::scalar: rotate_pairs_row).
void rotate_heads(const Shape& sh, i64 heads, float* t, int threads, Isa isa);

}  // namespace attn::layer
