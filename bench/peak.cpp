#include "peak.hpp"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <memory>
#include <string>

#include "attn/buffer.hpp"

#include "run_config.hpp"

namespace attnbench {

namespace {

// Rounds of every chain per thread and call: long enough (about 10 ms on a 3 GHz AVX-512 core)
// that starting the threads is noise.
constexpr std::int64_t kIters = 4'000'000;

// acc = acc * a + b converges to b / (1 - a) = 1: no overflow, no denormals, and a and b come
// from memory the compiler cannot see through, so nothing is folded.
volatile float g_a = 0.999999f, g_b = 1e-6f;

// The stream probe's buffer: 1 GiB, far past the last-level cache of any CPU this runs on (a
// 2-vCPU guest sees at most a few tens of MiB), so each call reads memory, not cache.
constexpr std::int64_t kStreamFloats = std::int64_t(1) << 28;

// The buffer, allocated and first touched on the first call by `threads` threads in the static
// slices they later read (so that on a NUMA machine each slice lives near its reader).
const float* stream_buffer(int threads) {
    static std::unique_ptr<attn::Buffer> buffer;
    static int touched_by = 0;
    if (!buffer) buffer = std::make_unique<attn::Buffer>(std::size_t(kStreamFloats), 0);
    if (touched_by != threads) {
        float* x = buffer->data();
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::int64_t i = 0; i < kStreamFloats; ++i) x[i] = 1.0f;
        touched_by = threads;
    }
    return buffer->data();
}

// Checks that OpenMP gave the team asked for; false (and the benchmark skipped) otherwise.
bool got_team(benchmark::State& state, int team, int asked) {
    if (team == asked) return true;
    state.SkipWithError(
        ("OpenMP gave " + std::to_string(team) + " threads, not " + std::to_string(asked)).c_str());
    return false;
}

}  // namespace

const PeakLoop& widest_peak_loop() {
    static const PeakLoop loops[] = {
        {attn::Isa::avx512, 16, 16, peak_loop_avx512, read_sum_avx512},
        {attn::Isa::avx2, 8, 12, peak_loop_avx2, read_sum_avx2},
        {attn::Isa::sse2, 4, 12, peak_loop_sse2, read_sum_sse2},
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
                if (!got_team(state, team, t)) return;
                state.counters["GFLOP/s"] = benchmark::Counter(
                    t * loop.flops(kIters) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
            });
        b->Unit(benchmark::kMillisecond)->UseRealTime();
    }
    for (int t : threads) {
        const std::string name =
            std::string("peak/stream/") + attn::to_string(loop.isa) + "/t:" + std::to_string(t);
        auto* b =
            benchmark::RegisterBenchmark(name.c_str(), [&loop, t, name](benchmark::State& state) {
                show_progress(name);
                const float* x = stream_buffer(t);
                int team = t;
                for (auto _ : state) {
                    float sink = 0;
#pragma omp parallel num_threads(t) reduction(+ : sink)
                    {
                        // The slices of schedule(static) over kStreamFloats, as first touched.
                        const int id = omp_get_thread_num(), n = omp_get_num_threads();
                        const std::int64_t begin = kStreamFloats * id / n,
                                           end = kStreamFloats * (id + 1) / n;
                        sink += loop.read_sum(x + begin, end - begin);
                        if (id == 0) team = n;
                    }
                    benchmark::DoNotOptimize(sink);
                }
                if (!got_team(state, team, t)) return;
                state.counters["GB/s"] =
                    benchmark::Counter(double(kStreamFloats) * sizeof(float) / 1e9,
                                       benchmark::Counter::kIsIterationInvariantRate);
            });
        b->Unit(benchmark::kMillisecond)->UseRealTime();
    }
}

}  // namespace attnbench
