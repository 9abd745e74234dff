#include "peak.hpp"

#include <iterator>

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

// Registers peak/<probe>/<isa>/t:<t>: each call runs work(thread id, team size) on t OpenMP
// threads, with work = make_work() made when the benchmark first runs (so that a buffer is
// allocated only for a probe that is measured); `counter` reports `amount` per call as a rate.
template <class MakeWork> std::string register_probe(const std::string& probe, attn::Isa isa, int t,
                                                     const char* counter, double amount,
                                                     MakeWork make_work) {
    const std::string name =
        "peak/" + probe + "/" + attn::to_string(isa) + "/t:" + std::to_string(t);
    auto* b = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
        show_progress(name);
        const auto work = make_work();
        int team = t;
        for (auto _ : state) {
            float sink = 0;
#pragma omp parallel num_threads(t) reduction(+ : sink)
            {
                const int id = omp_get_thread_num(), n = omp_get_num_threads();
                sink += work(id, n);
                if (id == 0) team = n;
            }
            benchmark::DoNotOptimize(sink);
        }
        if (team != t) {
            state.SkipWithError(
                ("OpenMP gave " + std::to_string(team) + " threads, not " + std::to_string(t))
                    .c_str());
            return;
        }
        state.counters[counter] =
            benchmark::Counter(amount, benchmark::Counter::kIsIterationInvariantRate);
    });
    b->Unit(benchmark::kMillisecond)->UseRealTime();
    return name + "/real_time";
}

}  // namespace

const PeakLoop& widest_peak_loop() {
    // Widest first; the last is the architecture's baseline (SSE2 on x86-64, NEON on aarch64).
    // NEON: 16 chains cover four 128-bit FMA pipes of four cycles' latency (Neoverse V1 and V2).
    static const PeakLoop loops[] = {
#if defined(__aarch64__)
        {attn::Isa::neon, 4, 16, peak_loop_neon, read_sum_neon},
#else
        {attn::Isa::avx512, 16, 16, peak_loop_avx512, read_sum_avx512},
        {attn::Isa::avx2, 8, 12, peak_loop_avx2, read_sum_avx2},
        {attn::Isa::sse2, 4, 12, peak_loop_sse2, read_sum_sse2},
#endif
    };
    const attn::Isa isa = attn::best_isa();
    for (const auto& l : loops)
        if (l.isa == isa) return l;
    return loops[std::size(loops) - 1];
}

std::vector<std::string> register_peak(const std::vector<int>& threads) {
    const PeakLoop& loop = widest_peak_loop();
    std::vector<std::string> names;
    for (int t : threads)
        names.push_back(
            register_probe("fma", loop.isa, t, "GFLOP/s", t * loop.flops(kIters) / 1e9, [&loop] {
                const float a = g_a, c = g_b;
                return [&loop, a, c](int, int) { return loop.run(kIters, a, c); };
            }));
#if defined(__x86_64__)
    if (attn::best_has_bf16_dot())
        for (int t : threads)
            names.push_back(register_probe(
                "bf16dot", attn::Isa::avx512, t, "GFLOP/s", t * double(kIters) * 16 * 64 / 1e9, [] {
                    const float a = g_a, c = g_b;
                    return [a, c](int, int) { return bf16dot_peak_loop(kIters, a, c); };
                }));
    // A tdpbf16ps does 256 times a vdpbf16ps's flops in (on Sapphire Rapids) 16 cycles: a
    // sixteenth of the rounds takes about as long as the other probes.
    constexpr std::int64_t kAmxIters = kIters / 16;
    if (attn::best_has_amx_bf16())
        for (int t : threads)
            names.push_back(register_probe(
                "amx", attn::Isa::avx512, t, "GFLOP/s", t * double(kAmxIters) * 4 * 16384 / 1e9,
                [] {
                    return [](int, int) { return amx_peak_loop(kAmxIters, 0.0078125f, 0.5f); };
                }));
#endif
    for (int t : threads)
        names.push_back(register_probe(
            "stream", loop.isa, t, "GB/s", double(kStreamFloats) * sizeof(float) / 1e9, [&loop, t] {
                const float* x = stream_buffer(t);
                // The slices of schedule(static) over kStreamFloats, as first touched.
                return [&loop, x](int id, int n) {
                    const std::int64_t begin = kStreamFloats * id / n,
                                       end = kStreamFloats * (id + 1) / n;
                    return loop.read_sum(x + begin, end - begin);
                };
            }));
    return names;
}

}  // namespace attnbench
