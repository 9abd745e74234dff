// The scalar softmax of one row, shared by the naive, blocked and openblas kernels, which differ
// only in how they find the row maximum.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace attn::kernels {

// out[0, n) = e^(in - m) / sum over the row, given the row maximum m of its non-NaN entries; out
// may equal in. A fully masked row (every entry -inf) gives zeros, where e^(-inf - -inf) would be
// NaN; a NaN anywhere, or a +inf maximum (inf - inf), makes the whole row NaN through the sum.
inline void softmax_row_with_max(const float* in, float* out, std::int64_t n, float m) {
    if (m == -std::numeric_limits<float>::infinity()) {
        // The maxima of the callers pass over NaNs: a row of -inf and NaN is NaN, not masked.
        bool nan = false;
        for (std::int64_t j = 0; j < n; ++j) nan |= in[j] != in[j];
        const float fill = nan ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
        for (std::int64_t j = 0; j < n; ++j) out[j] = fill;
        return;
    }
    float sum = 0;
    for (std::int64_t j = 0; j < n; ++j) {
        out[j] = std::exp(in[j] - m);
        sum += out[j];
    }
    // One division and n multiplications instead of n divisions: sum >= 1 (the maximum
    // contributes e^0), so 1/sum is a normal number and the one extra rounding it costs stays far
    // inside the softmax error bound.
    const float inv = 1.0f / sum;
    for (std::int64_t j = 0; j < n; ++j) out[j] *= inv;
}

}  // namespace attn::kernels
