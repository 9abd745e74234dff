// The NEON peak loop (aarch64); this file alone is compiled with the neon flags.
#include "peak_impl.hpp"

namespace attnbench {

float peak_loop_neon(std::int64_t iters, float a, float b) {
    return fma_peak_loop<xsimd::neon64, 16>(iters, a, b);
}

float read_sum_neon(const float* x, std::int64_t n) { return read_sum<xsimd::neon64>(x, n); }

}  // namespace attnbench
