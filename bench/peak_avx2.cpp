// The AVX2 peak loop; this file alone is compiled with the avx2 flags.
#include "peak_impl.hpp"

namespace attnbench {

float peak_loop_avx2(std::int64_t iters, float a, float b) {
    return fma_peak_loop<xsimd::fma3<xsimd::avx2>, 12>(iters, a, b);
}

float read_sum_avx2(const float* x, std::int64_t n) {
    return read_sum<xsimd::fma3<xsimd::avx2>>(x, n);
}

}  // namespace attnbench
