// The scalar softmax of one row, shared by the naive, blocked and openblas kernels, which differ
// only in how they find the row maximum.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace attn::kernels {

// out[0, n) = e^(in - m) / sum over the row, given the row maximum m; out may equal in. A fully
// masked row (m = -inf) gives zeros, where e^(-inf - -inf) would be NaN.
inline void softmax_row_with_max(const float* in, float* out, std::int64_t n, float m) {
    if (m == -std::numeric_limits<float>::infinity()) {
        for (std::int64_t j = 0; j < n; ++j) out[j] = 0.0f;
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
