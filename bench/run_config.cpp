#include "run_config.hpp"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <thread>

#include "attn/layer_steps.hpp"
#include "attn/workload.hpp"

#ifdef ATTN_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#endif

namespace attnbench {

namespace {

template <class T> bool selected(const std::vector<T>& filter, const T& value) {
    return filter.empty() || std::find(filter.begin(), filter.end(), value) != filter.end();
}

void check_names(const std::vector<std::string>& names, const char* what,
                 bool (*known)(std::string_view), const std::string& valid) {
    for (const auto& n : names)
        if (!known(n))
            throw std::invalid_argument(std::string("unknown ") + what + " '" + n +
                                        "' (valid: " + valid + ")");
}

// The library of an optional baseline variant that this build lacks, or nullptr.
const char* library_not_built([[maybe_unused]] std::string_view variant) {
#ifndef ATTN_HAVE_OPENBLAS
    if (variant == "openblas") return "OpenBLAS (libopenblas-dev)";
#endif
#ifndef ATTN_HAVE_ONEDNN
    if (variant == "onednn") return "oneDNN (libdnnl-dev)";
#endif
    return nullptr;
}

// Each variant asked for is in the registry; a baseline this build lacks says which library to
// install rather than that the name is unknown.
void check_variants(const std::vector<std::string>& variants) {
    for (const auto& v : variants)
        if (const char* library = library_not_built(v))
            throw std::invalid_argument("variant '" + v + "' is not in this build: " + library +
                                        " was not found when it was configured (see README)");
    check_names(variants, "variant", attn::is_variant, attn::known_variants());
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
    return k.name() + "/" + s.text();
}

// The shapes of the sweep with the thread counts of each.
struct SweepShape {
    attn::Shape shape;
    std::vector<int> threads;
};

// Each shape with the thread counts, and in each storage type of `dtypes` (when given) in place of
// its own; a shape that the crossing gives twice is kept once.
std::vector<SweepShape> with_threads(const std::vector<attn::Shape>& shapes,
                                     const std::vector<int>& threads,
                                     const std::vector<attn::DType>& dtypes) {
    std::vector<SweepShape> out;
    std::set<std::string> seen;
    for (const auto& s : shapes) {
        if (dtypes.empty()) {
            out.push_back({s, threads});
            continue;
        }
        for (attn::DType t : dtypes) {
            attn::Shape typed = s;
            typed.dtype = t;
            if (seen.insert(typed.text(false)).second) out.push_back({typed, threads});
        }
    }
    return out;
}

std::vector<SweepShape> sweep_shapes(const RunConfig& cfg, const std::vector<int>& threads) {
    if (!cfg.shapes.empty()) {
        std::vector<SweepShape> out;
        for (const auto& g : cfg.shapes)
            out.push_back({g.shape, g.threads_given ? std::vector<int>{g.shape.threads} : threads});
        return out;
    }
    std::vector<attn::Shape> shapes;
    if (cfg.preset) {
        for (const auto& s : cfg.preset->shapes)
            if (selected(cfg.seqs, s.n_q) && selected(cfg.heads, s.heads) &&
                selected(cfg.dims, s.head_dim) && selected(cfg.batches, s.batch) &&
                (!cfg.causal || s.causal) &&
                (!cfg.cosine || s.similarity == attn::Similarity::cosine))
                shapes.push_back(s);
        if (shapes.empty())
            throw std::invalid_argument("the filters keep none of the shapes of preset '" +
                                        cfg.preset->name + "'");
        return with_threads(shapes, threads, cfg.dtypes);
    }
    const auto or_default = [](const std::vector<std::int64_t>& v, std::vector<std::int64_t> d) {
        return v.empty() ? d : v;
    };
    for (auto d : or_default(cfg.dims, {64}))
        for (auto h : or_default(cfg.heads, {8}))
            for (auto n : or_default(cfg.seqs, {128, 256, 512}))
                for (auto b : or_default(cfg.batches, {1})) {
                    attn::Shape s;
                    s.batch = b, s.heads = h, s.n_q = s.n_kv = n, s.head_dim = d;
                    s.causal = cfg.causal;
                    s.similarity = cfg.cosine ? attn::Similarity::cosine : attn::Similarity::dot;
                    shapes.push_back(s);
                }
    return with_threads(shapes, threads, cfg.dtypes);
}

// One workload is kept between benchmarks: consecutive cases of a stage share their shape, and
// building inputs of hundreds of MiB for every kernel (and every Google Benchmark trial run)
// would take longer than timing them.
attn::Workload& workload_for(attn::Stage stage, const attn::Shape& shape) {
    static std::unique_ptr<attn::Workload> cached;
    auto same = [&](const attn::Shape& a) {
        return cached->stage() == stage && a.text(false) == shape.text(false);
    };
    if (!cached || !same(cached->shape())) {
        cached.reset();  // free the old buffers before allocating the new ones
        cached = std::make_unique<attn::Workload>(stage, shape);
    }
    cached->set_threads(shape.threads);
    return *cached;
}

// The seconds per call measured for each (kernel, threads) on its largest shape so far.
struct Measured {
    double flops = 0, seconds = 0;
};
std::map<std::pair<const attn::Kernel*, int>, Measured>& measured() {
    static std::map<std::pair<const attn::Kernel*, int>, Measured> m;
    return m;
}

// The measured call that predicts a kernel's call of `flops` at `threads`: its own largest smaller
// one, else (a storage type whose first shape is a big one) the largest smaller one of the same
// stage, variant and tier in another type, whose cost per FLOP is of the same order; null if none.
const Measured* prediction_basis(const attn::Kernel& kernel, int threads, double flops) {
    if (auto it = measured().find({&kernel, threads});
        it != measured().end() && it->second.flops < flops)
        return &it->second;
    const Measured* basis = nullptr;
    for (const auto& [key, m] : measured()) {
        const attn::Kernel& other = *key.first;
        if (key.second == threads && other.stage == kernel.stage &&
            other.variant == kernel.variant && other.isa == kernel.isa && m.flops < flops &&
            (!basis || m.flops > basis->flops))
            basis = &m;
    }
    return basis;
}

struct ProgressState {
    int total = 0;
    std::set<std::string> seen;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    bool tty = isatty(STDERR_FILENO) && isatty(STDOUT_FILENO);
    bool drawn = false;
};
ProgressState& progress() {
    static ProgressState p;
    return p;
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
    check_variants(cfg.variants);
    check_names(cfg.isas, "isa", known_isa, attn::known_isas());
    std::vector<SweepShape> shapes = sweep_shapes(cfg, thread_counts(cfg));
    std::vector<Case> cases;
    std::set<std::string> names;
    // Shapes of a 16-bit storage type that no selected kernel reads, to say so once.
    std::set<std::string> unread;
    for (const auto& [base, threads] : shapes)
        if (base.dtype != attn::DType::f32) unread.insert(base.text(false));
    for (attn::Stage stage : attn::kAllStages) {
        if (!selected(cfg.stages, std::string(attn::to_string(stage)))) continue;
        // The layer stage runs when named: its calls are the longest of the suite, and the
        // presets' shapes are attention's.
        if (stage == attn::Stage::layer &&
            std::find(cfg.stages.begin(), cfg.stages.end(), "layer") == cfg.stages.end())
            continue;
        // Smallest call first, so that max_call_time predicts each big shape from measured ones.
        std::stable_sort(shapes.begin(), shapes.end(),
                         [stage](const SweepShape& a, const SweepShape& b) {
                             return attn::flops(stage, a.shape) < attn::flops(stage, b.shape);
                         });
        for (const auto& [base, threads] : shapes)
            for (const auto& k : attn::registry()) {
                if (k.stage != stage || !selected(cfg.variants, std::string(k.variant)) ||
                    !selected(cfg.isas, std::string(attn::to_string(k.isa))))
                    continue;
                // A shape's storage type picks among a variant's entries.
                if (k.dtype != base.dtype) continue;
                unread.erase(base.text(false));
                // Multihead is self-attention: a decode shape (n_q != n_kv) of a preset is for
                // the other stages. Asked for alone, it still gets the error below.
                if (stage == attn::Stage::multihead && base.n_q != base.n_kv &&
                    !(cfg.stages.size() == 1 && cfg.stages[0] == "multihead"))
                    continue;
                // Likewise for the layer, and a shape with the layer's fields is for it alone.
                const bool alone =
                    cfg.stages.size() == 1 && cfg.stages[0] == attn::to_string(stage);
                if (stage == attn::Stage::layer && base.n_q != base.n_kv && !alone) continue;
                if (stage != attn::Stage::layer && base.has_layer_fields() && !alone) continue;
                for (int t : threads) {
                    // A single-threaded kernel would only repeat itself at t > 1.
                    if (!k.parallel() && t != 1) continue;
                    attn::Shape s = base;
                    s.threads = t;
                    // The benchmark's name leads, so that its shape can be pasted into --shape.
                    if (auto p = attn::stage_problem(k.stage, s); !p.empty())
                        throw std::invalid_argument(case_name(k, s) + ": " + p);
                    cases.push_back({&k, s, case_name(k, s)});
                    // Two equal shapes (a preset that lists one twice) would share one name.
                    if (!names.insert(cases.back().name).second)
                        throw std::invalid_argument("the sweep gives " + cases.back().name +
                                                    " twice");
                }
            }
    }
    for (const auto& text : unread)
        std::fprintf(stderr,
                     "attnbench: note: no selected kernel reads %s (attnbench list shows "
                     "each kernel's storage types); skipped\n",
                     text.c_str());
    const bool peak_named = !cfg.stages.empty() && peak_selected(cfg);
    if (cases.empty() && !peak_named)
        throw std::invalid_argument("the filters select no kernel (see `attnbench list`)");
    return cases;
}

// Under callgrind --collect-atstart=no (the gate's instruction-count lane) only the timed loop is
// counted, and each benchmark's count is dumped under its name; outside valgrind these are a few
// no-op instructions before and after the loop.
void begin_counted_loop() {
#ifdef ATTN_HAVE_CALLGRIND
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
#endif
}
void end_counted_loop([[maybe_unused]] const std::string& name) {
#ifdef ATTN_HAVE_CALLGRIND
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(name.c_str());
#endif
}

// The sum of a layer kernel's steps each measured alone: one call under
// attn::layer_steps_alone(repeats), outside the timed loop.
static double steps_alone_seconds(attn::Workload& work, const attn::Kernel& kernel, int repeats) {
    attn::layer_step_seconds() = {};
    attn::layer_steps_alone() = repeats;
    work.run(kernel);
    attn::layer_steps_alone() = 0;
    double sum = 0;
    for (double s : attn::layer_step_seconds()) sum += s;
    return sum;
}

std::vector<std::string> register_cases(const std::vector<Case>& cases, const RunConfig& cfg) {
    std::vector<std::string> names;
    const double max_call_time = cfg.max_call_time;
    const std::int64_t iterations = cfg.iterations;
    const int steps_alone = cfg.steps_alone;
    for (const auto& c : cases) {
        auto* b = benchmark::RegisterBenchmark(c.name.c_str(), [c, max_call_time, steps_alone](
                                                                   benchmark::State& state) {
            show_progress(c.name);
            if (!c.kernel->available()) {
                state.SkipWithError(
                    ("this CPU lacks " + std::string(attn::to_string(c.kernel->isa))).c_str());
                return;
            }
            const double flops = attn::flops(c.kernel->stage, c.shape);
            const auto key = std::make_pair(c.kernel, c.shape.threads);
            if (const Measured* basis = prediction_basis(*c.kernel, c.shape.threads, flops);
                max_call_time > 0 && basis) {
                const double predicted = basis->seconds * flops / basis->flops;
                if (predicted > max_call_time) {
                    char why[160];
                    std::snprintf(why, sizeof why,
                                  "skipped: a call would take about %.3g s (max_call_time %g s)",
                                  predicted, max_call_time);
                    state.SkipWithError(why);
                    return;
                }
            }
            attn::Workload& work = workload_for(c.kernel->stage, c.shape);
            const auto t0 = std::chrono::steady_clock::now();
            attn::layer_step_seconds() = {};
            const std::int64_t amx_before = attn::amx_multiply_adds();
            const std::int64_t dot_before = attn::bf16_dot_multiply_adds();
            begin_counted_loop();
            for (auto _ : state) {
                work.run(*c.kernel);
                benchmark::DoNotOptimize(work.output().data());
                benchmark::ClobberMemory();
            }
            end_counted_loop(c.name);
            const double tile_multiply_adds = double(attn::amx_multiply_adds() - amx_before);
            const double dot_multiply_adds = double(attn::bf16_dot_multiply_adds() - dot_before);
            const double secs =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (state.iterations() > 0) {
                Measured& m = measured()[key];
                if (flops >= m.flops) m = {flops, secs / double(state.iterations())};
            }
            using benchmark::Counter;
            state.counters["GFLOP/s"] = Counter(flops / 1e9, Counter::kIsIterationInvariantRate);
            state.counters["GB/s"] = Counter(attn::min_bytes(c.kernel->stage, c.shape) / 1e9,
                                             Counter::kIsIterationInvariantRate);
            // The share of the counted work the AMX paths were called for: the report reads a
            // kernel that did most of it on tiles against the tile peak probe.
            if (tile_multiply_adds > 0 && flops > 0 && state.iterations() > 0)
                state.counters["amx_share"] =
                    2 * tile_multiply_adds / (flops * double(state.iterations()));
            // Likewise for vdpbf16ps, read against the bf16 dot-product probe.
            if (dot_multiply_adds > 0 && flops > 0 && state.iterations() > 0)
                state.counters["dot_share"] =
                    2 * dot_multiply_adds / (flops * double(state.iterations()));
            // Each step's share of the loop's time, timed by the layer as it runs.
            if (c.kernel->stage == attn::Stage::layer && secs > 0 && state.iterations() > 0) {
                // Only the steps that ran: a counter that is 0 in every repetition has no
                // coefficient of variation, which Google Benchmark would write as a bare nan.
                for (std::size_t i = 0; i < attn::kLayerSteps; ++i)
                    if (attn::layer_step_seconds()[i] > 0)
                        state
                            .counters[std::string("share:") + attn::to_string(attn::LayerStep(i))] =
                            attn::layer_step_seconds()[i] / secs;
                if (steps_alone > 0)
                    state.counters["vs_steps_alone"] =
                        secs / double(state.iterations()) /
                        steps_alone_seconds(work, *c.kernel, steps_alone);
            }
        });
        b->Unit(benchmark::kMillisecond);
        if (c.kernel->parallel()) b->UseRealTime();
        if (iterations > 0) b->Iterations(iterations);
        names.push_back(c.name +
                        (iterations > 0 ? "/iterations:" + std::to_string(iterations) : "") +
                        (c.kernel->parallel() ? "/real_time" : ""));
    }
    return names;
}

int count_selected(const std::vector<std::string>& names, const std::string& filter) {
    std::string spec = filter.empty() || filter == "all" ? "." : filter;
    const bool negative = spec[0] == '-';
    if (negative) spec.erase(0, 1);
    std::regex re;
    try {
        re = std::regex(spec, std::regex::extended);
    } catch (const std::regex_error&) {
        return int(names.size());  // Google Benchmark reports the bad filter itself
    }
    return int(std::count_if(names.begin(), names.end(), [&](const std::string& n) {
        return std::regex_search(n, re) != negative;
    }));
}

void start_progress(int total) {
    progress().total = total;
    progress().start = std::chrono::steady_clock::now();
}

void show_progress(const std::string& name) {
    ProgressState& p = progress();
    if (p.total == 0 || !p.seen.insert(name).second) return;
    const auto secs =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - p.start)
            .count();
    std::fprintf(stderr, "%s[%zu/%d %lld:%02lld] %s%s", p.tty ? "\r\033[K" : "", p.seen.size(),
                 p.total, static_cast<long long>(secs / 60), static_cast<long long>(secs % 60),
                 name.c_str(), p.tty ? "" : "\n");
    std::fflush(stderr);
    p.drawn = p.tty;
}

void clear_progress() {
    ProgressState& p = progress();
    if (!p.drawn) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    p.drawn = false;
}

}  // namespace attnbench
