// The FMA peak loop written once with xsimd for every tier; included only by the per-tier files
// peak_<tier>.cpp, each compiled with its tier's flags alone.
#pragma once

#include <xsimd/xsimd.hpp>

#include <cstdint>

#include "peak.hpp"

namespace attnbench {
namespace {

// The sum of v's lanes, by a store and a scalar loop: it only keeps the probes' results alive,
// outside their timed loops, so it need not depend on xsimd's reductions (which differ by release).
template <class V> float lanes_sum(V v) {
    alignas(64) float lanes[V::size];
    v.store_aligned(lanes);
    float s = 0.0f;
    for (float x : lanes) s += x;
    return s;
}

// `iters` rounds of acc = acc * a + b on Chains independent accumulators of Arch's width (on SSE2,
// which has no FMA, xsimd::fma is a multiply and an add: still two flops); returns their sum.
template <class Arch, int Chains> float fma_peak_loop(std::int64_t iters, float a, float b) {
    using V = xsimd::batch<float, Arch>;
    const V va(a), vb(b);
    V acc[Chains];
    for (int c = 0; c < Chains; ++c) acc[c] = V(float(c) * 0.01f);
    for (std::int64_t i = 0; i < iters; ++i)
#pragma GCC unroll 16
        for (int c = 0; c < Chains; ++c) acc[c] = xsimd::fma(acc[c], va, vb);
    V sum = acc[0];
    for (int c = 1; c < Chains; ++c) sum += acc[c];
    return lanes_sum(sum);
}

// Sum of x [n] with eight independent accumulators of Arch's width (enough loads in flight to
// keep the memory busy); the tail is added one by one.
template <class Arch> float read_sum(const float* x, std::int64_t n) {
    using V = xsimd::batch<float, Arch>;
    constexpr std::int64_t W = V::size, U = 8;
    V acc[U];
    for (auto& a : acc) a = V(0.0f);
    std::int64_t i = 0;
    for (; i + U * W <= n; i += U * W)
#pragma GCC unroll 8
        for (std::int64_t u = 0; u < U; ++u) acc[u] += V::load_unaligned(x + i + u * W);
    V sum = acc[0];
    for (std::int64_t u = 1; u < U; ++u) sum += acc[u];
    float total = lanes_sum(sum);
    for (; i < n; ++i) total += x[i];
    return total;
}

}  // namespace
}  // namespace attnbench
