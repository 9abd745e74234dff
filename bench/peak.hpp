// The peak probes: the fp32 FMA throughput of this CPU, the ceiling the kernels' GFLOP/s are read
// against, and the memory bandwidth of a read-only sweep, the ceiling of memory-bound kernels
// (decode). Each ISA tier has its own loops in peak_<isa>.cpp, compiled with that tier's flags
// alone and called only when the CPU has the tier.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attn/isa.hpp"

namespace attnbench {

// One tier's loop: `iters` rounds of `chains` independent accumulator registers, each updated
// acc = acc * a + b (one FMA; sse2 has no FMA, so a multiply and an add), `width` fp32 lanes per
// register. Returns the sum of the accumulators so that the work cannot be optimised away.
struct PeakLoop {
    attn::Isa isa;
    int width;   // fp32 lanes per register
    int chains;  // independent accumulators, enough to cover the FMA latency on every port
    float (*run)(std::int64_t iters, float a, float b);
    // The sum of x [n] read once with full-width loads into independent accumulators: a sweep
    // whose speed is the memory's, not the core's.
    float (*read_sum)(const float* x, std::int64_t n);
    // Floating-point operations of one call (an FMA is two).
    double flops(std::int64_t iters) const { return double(iters) * chains * width * 2.0; }
};

#if defined(__aarch64__)
float peak_loop_neon(std::int64_t iters, float a, float b);  // 16 x float32x4_t
float read_sum_neon(const float* x, std::int64_t n);
#else
float peak_loop_avx512(std::int64_t iters, float a, float b);  // 16 x __m512
float peak_loop_avx2(std::int64_t iters, float a, float b);    // 12 x __m256
float peak_loop_sse2(std::int64_t iters, float a, float b);    // 12 x __m128, mul + add
float read_sum_avx512(const float* x, std::int64_t n);
float read_sum_avx2(const float* x, std::int64_t n);
float read_sum_sse2(const float* x, std::int64_t n);
#endif

// `iters` rounds of 16 independent vdpbf16ps accumulators (16 fp32 lanes, each gaining two bf16
// products: 64 flops per instruction); only where attn::cpu_has_bf16_dot(). Returns their sum.
float bf16dot_peak_loop(std::int64_t iters, float a, float b);

// `iters` rounds of tdpbf16ps on four independent C tiles (each of its 16 x 16 fp32 sums gains 32
// bf16 products: 16,384 flops per instruction); only where attn::best_has_amx_bf16(). a and b
// fill the A and B tiles. Returns a sum of the C tiles.
float amx_peak_loop(std::int64_t iters, float a, float b);

// The loop of the widest tier this CPU offers (attn::best_isa(): avx512, avx2 or sse2).
const PeakLoop& widest_peak_loop();

// Registers `peak/fma/<isa>/t:<t>` for every thread count, with the GFLOP/s rate counter of the
// kernel benchmarks (each of the t OpenMP threads runs the whole loop), and
// `peak/stream/<isa>/t:<t>` with the GB/s counter: t threads read disjoint slices of one buffer far
// larger than any last-level cache (kStreamBytes), each slice first touched by the thread that
// reads it; where the CPU has AVX512_BF16, `peak/bf16dot/avx512/t:<t>`, the GFLOP/s of vdpbf16ps,
// the ceiling of the bf16 products on vectors; and where it has AMX-BF16, `peak/amx/avx512/t:<t>`,
// the GFLOP/s of tdpbf16ps, the ceiling of the products on tiles. Returns the names Google
// Benchmark gives them (with /real_time).
std::vector<std::string> register_peak(const std::vector<int>& threads);

}  // namespace attnbench
