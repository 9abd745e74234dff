#include "run_config.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "attn/workload.hpp"

namespace attnbench {

namespace {

template <class T> bool selected(const std::vector<std::string>& filter, const T& name) {
    return filter.empty() || std::find(filter.begin(), filter.end(), name) != filter.end();
}

void check_names(const std::vector<std::string>& names, const char* what,
                 bool (*known)(std::string_view), const std::string& valid) {
    for (const auto& n : names)
        if (!known(n))
            throw std::invalid_argument(std::string("unknown ") + what + " '" + n + "' (valid: " + valid + ")");
}

bool known_stage(std::string_view n) {
    attn::Stage s;
    return n == kPeakStage || attn::parse_stage(n, s);
}
bool known_isa(std::string_view n) {
    attn::Isa i;
    return attn::parse_isa(n, i);
}

std::string case_name(const attn::Kernel& k, const attn::Shape& s) {
    std::string n = k.name() + "/n:" + std::to_string(s.n_q) + "/h:" + std::to_string(s.heads) +
                    "/d:" + std::to_string(s.head_dim) + "/t:" + std::to_string(s.threads);
    if (s.batch != 1) n += "/b:" + std::to_string(s.batch);
    if (s.causal) n += "/causal";
    if (s.similarity == attn::Similarity::cosine) n += "/cosine";
    return n;
}

}  // namespace

bool peak_selected(const RunConfig& cfg) { return selected(cfg.stages, std::string(kPeakStage)); }

std::vector<int> thread_counts(const RunConfig& cfg) {
    if (!cfg.threads.empty()) return cfg.threads;
    std::vector<int> threads{1};
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    if (cores > 1) threads.push_back(cores);
    return threads;
}

std::vector<Case> expand(const RunConfig& cfg) {
    check_names(cfg.stages, "stage", known_stage, attn::known_stages() + ", " + kPeakStage);
    check_names(cfg.variants, "variant", attn::is_variant, attn::known_variants());
    check_names(cfg.isas, "isa", known_isa, attn::known_isas());
    const std::vector<int> threads = thread_counts(cfg);
    std::vector<Case> cases;
    for (const auto& k : attn::registry()) {
        if (!selected(cfg.stages, std::string(attn::to_string(k.stage))) ||
            !selected(cfg.variants, std::string(k.variant)) ||
            !selected(cfg.isas, std::string(attn::to_string(k.isa))))
            continue;
        for (auto d : cfg.dims)
            for (auto h : cfg.heads)
                for (auto n : cfg.seqs)
                    for (auto b : cfg.batches)
                        for (int t : threads) {
                            // A single-threaded kernel would only repeat itself at t > 1.
                            if (!k.parallel && t != 1) continue;
                            attn::Shape s;
                            s.batch = b, s.heads = h, s.n_q = s.n_kv = n, s.head_dim = d;
                            s.causal = cfg.causal, s.similarity = cfg.similarity, s.threads = t;
                            if (auto p = attn::stage_problem(k.stage, s); !p.empty())
                                throw std::invalid_argument(p);
                            cases.push_back({&k, s, case_name(k, s)});
                        }
    }
    const bool peak_named = !cfg.stages.empty() && peak_selected(cfg);
    if (cases.empty() && !peak_named)
        throw std::invalid_argument("the filters select no kernel (see `attnbench list`)");
    return cases;
}

void register_cases(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
        auto* b = benchmark::RegisterBenchmark(c.name.c_str(), [c](benchmark::State& state) {
            if (!c.kernel->available()) {
                state.SkipWithError(("this CPU lacks " + std::string(attn::to_string(c.kernel->isa))).c_str());
                return;
            }
            attn::Workload work(c.kernel->stage, c.shape);
            for (auto _ : state) {
                work.run(*c.kernel);
                benchmark::DoNotOptimize(work.output().data());
                benchmark::ClobberMemory();
            }
            using benchmark::Counter;
            state.counters["GFLOP/s"] =
                Counter(attn::flops(c.kernel->stage, c.shape) / 1e9, Counter::kIsIterationInvariantRate);
            state.counters["GB/s"] =
                Counter(attn::min_bytes(c.kernel->stage, c.shape) / 1e9, Counter::kIsIterationInvariantRate);
        });
        b->Unit(benchmark::kMillisecond);
        if (c.kernel->parallel) b->UseRealTime();
    }
}

}  // namespace attnbench
