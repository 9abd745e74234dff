// The AVX-512 peak loop; this file alone is compiled with -mavx512f -mavx512dq -mfma.
#include <immintrin.h>

#include "peak.hpp"

namespace attnbench {

float peak_loop_avx512(std::int64_t iters, float a, float b) {
    const __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
    __m512 acc[16];
    for (int c = 0; c < 16; ++c) acc[c] = _mm512_set1_ps(float(c) * 0.01f);
    for (std::int64_t i = 0; i < iters; ++i)
        for (int c = 0; c < 16; ++c) acc[c] = _mm512_fmadd_ps(acc[c], va, vb);
    __m512 sum = acc[0];
    for (int c = 1; c < 16; ++c) sum = _mm512_add_ps(sum, acc[c]);
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, sum);
    float total = 0;
    for (float x : lanes) total += x;
    return total;
}

}  // namespace attnbench
