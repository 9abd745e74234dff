#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels.hpp"
#include "softmax_row.hpp"
#include "tiles.hpp"

namespace attn::kernels {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

constexpr std::int64_t kLanes = blocked::kSoftmaxLanes;

// The row's maximum in kLanes partial maxima. GCC 12 still leaves the lanes as eight scalar
// chains unless `omp simd` (no threads; OpenMP is on for the library) names the lane loop as the
// vector one.
float row_max(const float* in, std::int64_t n) {
    float lane[kLanes];
    for (float& l : lane) l = kNegInf;
    std::int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
#pragma omp simd
        for (std::int64_t l = 0; l < kLanes; ++l)
            lane[l] = in[j + l] > lane[l] ? in[j + l] : lane[l];
    float m = kNegInf;
    for (; j < n; ++j) m = in[j] > m ? in[j] : m;
    for (float l : lane) m = l > m ? l : m;
    return m;
}

}  // namespace

// P = softmax of each row of S with the row maximum subtracted first; s, p [B][H][n_q][n_kv]
// (in place allowed), an all -inf row becomes zeros.
void softmax_blocked_scalar(const Shape& sh, const float* s, float* p) {
    // A row is the natural tile: its three passes (max, exp and sum, scale) find it in L1 for
    // any n_kv up to several thousand, so splitting it would only add bookkeeping.
    const std::int64_t rows = sh.batch * sh.heads * sh.n_q, n = sh.n_kv;
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* in = s + r * n;
        float* out = p + r * n;
        softmax_row_with_max(in, out, n, row_max(in, n));
    }
}

}  // namespace attn::kernels
