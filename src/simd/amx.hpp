// The avx512 tier's bf16 projection on AMX (Intel's tile matrix unit, Sapphire Rapids onwards):
// tdpbf16ps multiplies a 16 x 32 bf16 tile by a 32 x 16 one into 16 x 16 fp32 sums, 16 times
// the multiply-adds of a vdpbf16ps per instruction (src/simd/gemm_amx.cpp, the only file built
// with -mamx-tile -mamx-bf16).
#pragma once

#include <cstdint>

#include "attn/dtype.hpp"
#include "attn/isa.hpp"

namespace attn::simd {

// Rows of every tile (and columns of a C tile) and the k values of an A tile's row: X and W are
// packed in whole tiles of these, zeros past their edges.
inline constexpr std::int64_t kAmxRows = 16, kAmxSpan = 32;

// Whether the bf16 projection at tier `isa` runs on AMX: the tier resolves to avx512, the CPU and
// OS give the tiles (attn::cpu_has_amx_bf16) and they are switched on (by default;
// ATTNBENCH_AMX=0 switches them off, to measure the widening path on the same CPU).
bool amx_serves(Isa isa);
// Switches the AMX path on or off for this process (the tests run both paths).
void enable_amx(bool on);

// Adds a call's multiply-adds to attn::amx_multiply_adds(); every AMX path calls it once per call.
void count_amx_multiply_adds(std::int64_t multiply_adds);

// Y [m x n] = X [m x k] W [k x n] on `threads` threads by tdpbf16ps: x bf16 row-major (row
// stride k), w bf16 row-major (row stride n), y fp32 row-major (row stride n); products exact,
// sums in fp32. Only where cpu_has_amx_bf16().
void amx_projection(int threads, std::int64_t m, std::int64_t n, std::int64_t k, const bf16* x,
                    const bf16* w, float* y);

}  // namespace attn::simd
