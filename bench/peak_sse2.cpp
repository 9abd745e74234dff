// The SSE2 peak loop; this file alone is compiled with -msse2. SSE2 has no FMA, so each step is a
// multiply and an add (still two flops).
#include <emmintrin.h>

#include "peak.hpp"

namespace attnbench {

float peak_loop_sse2(std::int64_t iters, float a, float b) {
    const __m128 va = _mm_set1_ps(a), vb = _mm_set1_ps(b);
    __m128 acc[12];
    for (int c = 0; c < 12; ++c) acc[c] = _mm_set1_ps(float(c) * 0.01f);
    for (std::int64_t i = 0; i < iters; ++i)
        for (int c = 0; c < 12; ++c) acc[c] = _mm_add_ps(_mm_mul_ps(acc[c], va), vb);
    __m128 sum = acc[0];
    for (int c = 1; c < 12; ++c) sum = _mm_add_ps(sum, acc[c]);
    alignas(16) float lanes[4];
    _mm_store_ps(lanes, sum);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

}  // namespace attnbench
