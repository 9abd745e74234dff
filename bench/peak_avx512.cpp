// The AVX-512 peak loop; this file alone is compiled with the avx512 flags.
#include "peak_impl.hpp"

namespace attnbench {

float peak_loop_avx512(std::int64_t iters, float a, float b) {
    return fma_peak_loop<xsimd::avx512f, 16>(iters, a, b);
}

float read_sum_avx512(const float* x, std::int64_t n) { return read_sum<xsimd::avx512f>(x, n); }

}  // namespace attnbench
