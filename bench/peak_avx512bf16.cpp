// The bf16 dot-product peak loop (vdpbf16ps); this file alone is compiled with -mavx512bf16 and
// runs only where attn::cpu_has_bf16_dot().
#include <immintrin.h>

#include <cstdint>

#include "peak.hpp"

namespace attnbench {

float bf16dot_peak_loop(std::int64_t iters, float a, float b) {
    constexpr int kChains = 16;
    // Each lane of acc gains the two products of its bf16 pair: a * b + a * b.
    const __m512bh va = _mm512_cvtne2ps_pbh(_mm512_set1_ps(a), _mm512_set1_ps(a));
    const __m512bh vb = _mm512_cvtne2ps_pbh(_mm512_set1_ps(b), _mm512_set1_ps(b));
    __m512 acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(float(c) * 0.01f);
    for (std::int64_t i = 0; i < iters; ++i)
#pragma GCC unroll 16
        for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], va, vb);
    __m512 sum = acc[0];
    for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
    return _mm512_reduce_add_ps(sum);
}

}  // namespace attnbench
