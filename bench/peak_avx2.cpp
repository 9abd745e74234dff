// The AVX2 peak loop; this file alone is compiled with -mavx2 -mfma.
#include <immintrin.h>

#include "peak.hpp"

namespace attnbench {

float peak_loop_avx2(std::int64_t iters, float a, float b) {
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
    __m256 acc[12];
    for (int c = 0; c < 12; ++c) acc[c] = _mm256_set1_ps(float(c) * 0.01f);
    for (std::int64_t i = 0; i < iters; ++i)
        for (int c = 0; c < 12; ++c) acc[c] = _mm256_fmadd_ps(acc[c], va, vb);
    __m256 sum = acc[0];
    for (int c = 1; c < 12; ++c) sum = _mm256_add_ps(sum, acc[c]);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, sum);
    float total = 0;
    for (float x : lanes) total += x;
    return total;
}

}  // namespace attnbench
