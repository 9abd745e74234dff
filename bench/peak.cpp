#include "peak.hpp"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <string>

#include "run_config.hpp"

namespace attnbench {

namespace {

// Rounds of every chain per thread and call: long enough (about 10 ms on a 3 GHz AVX-512 core)
// that starting the threads is noise.
constexpr std::int64_t kIters = 4'000'000;

// acc = acc * a + b converges to b / (1 - a) = 1: no overflow, no denormals, and a and b come
// from memory the compiler cannot see through, so nothing is folded.
volatile float g_a = 0.999999f, g_b = 1e-6f;

}  // namespace

const PeakLoop& widest_peak_loop() {
    static const PeakLoop loops[] = {
        {attn::Isa::avx512, 16, 16, peak_loop_avx512},
        {attn::Isa::avx2, 8, 12, peak_loop_avx2},
        {attn::Isa::sse2, 4, 12, peak_loop_sse2},
    };
    const attn::Isa isa = attn::best_isa();
    for (const auto& l : loops)
        if (l.isa == isa) return l;
    return loops[2];  // x86-64 always has SSE2
}

void register_peak(const std::vector<int>& threads) {
    const PeakLoop& loop = widest_peak_loop();
    for (int t : threads) {
        const std::string name =
            std::string("peak/fma/") + attn::to_string(loop.isa) + "/t:" + std::to_string(t);
        auto* b =
            benchmark::RegisterBenchmark(name.c_str(), [&loop, t, name](benchmark::State& state) {
                show_progress(name);
                const float a = g_a, c = g_b;
                int team = t;
                for (auto _ : state) {
                    float sink = 0;
#pragma omp parallel num_threads(t) reduction(+ : sink)
                    {
                        sink += loop.run(kIters, a, c);
                        if (omp_get_thread_num() == 0) team = omp_get_num_threads();
                    }
                    benchmark::DoNotOptimize(sink);
                }
                if (team != t) {
                    state.SkipWithError(("OpenMP gave " + std::to_string(team) + " threads, not " +
                                         std::to_string(t))
                                            .c_str());
                    return;
                }
                state.counters["GFLOP/s"] = benchmark::Counter(
                    t * loop.flops(kIters) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
            });
        b->Unit(benchmark::kMillisecond)->UseRealTime();
    }
}

}  // namespace attnbench
