// The SSE2 peak loop; this file alone is compiled with the sse2 flags.
#include "peak_impl.hpp"

namespace attnbench {

float peak_loop_sse2(std::int64_t iters, float a, float b) {
    return fma_peak_loop<xsimd::sse2, 12>(iters, a, b);
}

float read_sum_sse2(const float* x, std::int64_t n) { return read_sum<xsimd::sse2>(x, n); }

}  // namespace attnbench
