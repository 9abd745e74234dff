// The avx512 tier's bf16 projection by vdpbf16ps on CPUs with AVX512_BF16 where those products
// pay (attn::bf16_dot_preferred), the same choice flash's bf16 paths make: two bf16 products
// summed into each fp32 lane, 32 multiply-adds per instruction on X and W as stored, where the
// widening path converts both to fp32 for 16 (src/simd/gemm_avx512bf16.cpp).
#pragma once

#include <cstdint>

#include "attn/dtype.hpp"
#include "attn/isa.hpp"

namespace attn::simd {

// Whether the bf16 projection at tier `isa` multiplies by vdpbf16ps: the tier resolves to avx512,
// the CPU has them and flash's bf16 products are switched on (attn::flash::bf16_dot_on).
bool dot_projection_serves(Isa isa);

// Adds a call's multiply-adds to attn::bf16_dot_multiply_adds(): dot_projection and flash's bf16
// prefill by vector dots call it once per call; decoding, whose P V widens, does not.
void count_bf16_dot_multiply_adds(std::int64_t multiply_adds);

// Y [m x n] = X [m x k] W [k x n] on `threads` threads by vdpbf16ps: x bf16 row-major (row
// stride k), w bf16 row-major (row stride n), y fp32 row-major (row stride n); products exact,
// sums in fp32, each output summed in the same order at every thread count. Only where
// dot_projection_serves.
void dot_projection(int threads, std::int64_t m, std::int64_t n, std::int64_t k, const bf16* x,
                    const bf16* w, float* y);

}  // namespace attn::simd
