#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels.hpp"

namespace attn::kernels {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Independent partial maxima, one per lane, so the maximum vectorizes: a single running maximum
// is a loop-carried dependence the compiler may not reorder. GCC 12 still leaves the lanes as
// eight scalar chains unless `omp simd` (no threads; OpenMP is on for the library) names the lane
// loop as the vector one.
constexpr std::int64_t kLanes = 8;

float row_max(const float* in, std::int64_t n) {
    float lane[kLanes];
    for (float& l : lane) l = kNegInf;
    std::int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
#pragma omp simd
        for (std::int64_t l = 0; l < kLanes; ++l) lane[l] = in[j + l] > lane[l] ? in[j + l] : lane[l];
    float m = kNegInf;
    for (; j < n; ++j) m = in[j] > m ? in[j] : m;
    for (float l : lane) m = l > m ? l : m;
    return m;
}

}  // namespace

// P = softmax of each row of S with the row maximum subtracted first; s, p [B][H][n_q][n_kv]
// (in place allowed), an all -inf row becomes zeros.
void softmax_blocked(const Shape& sh, const float* s, float* p) {
    // A row is the natural tile: its three passes (max, exp and sum, scale) find it in L1 for
    // any n_kv up to several thousand, so splitting it would only add bookkeeping.
    const std::int64_t rows = sh.batch * sh.heads * sh.n_q, n = sh.n_kv;
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* in = s + r * n;
        float* out = p + r * n;
        const float m = row_max(in, n);
        if (m == kNegInf) {  // fully masked: exp(-inf - -inf) would be NaN
            for (std::int64_t j = 0; j < n; ++j) out[j] = 0.0f;
            continue;
        }
        float sum = 0;
        for (std::int64_t j = 0; j < n; ++j) {
            out[j] = std::exp(in[j] - m);
            sum += out[j];
        }
        // One division and n multiplications instead of n divisions: sum >= 1 (the maximum
        // contributes exp(0)), so 1/sum is a normal number and the one extra rounding it costs
        // stays far inside the softmax error bound.
        const float inv = 1.0f / sum;
        for (std::int64_t j = 0; j < n; ++j) out[j] *= inv;
    }
}

}  // namespace attn::kernels
