// attnbench: list the registered kernels, benchmark them across a sweep of shapes, or hand a
// report, gate or comparison to the Python scripts of bench/.
#include <benchmark/benchmark.h>
#include <unistd.h>
#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "attn/isa.hpp"
#include "attn/registry.hpp"
#include "cli.hpp"
#include "machine.hpp"
#include "peak.hpp"
#include "report_script.hpp"
#include "result_file.hpp"
#include "run_config.hpp"

#ifdef ATTN_HAVE_OPENBLAS
#include <cstdlib>

#include "attn/openblas_info.hpp"
#endif
#ifdef ATTN_HAVE_ONEDNN
#include "attn/onednn_info.hpp"
#endif

namespace {

int list_kernels() {
    // One line per entry: `stage variant isa`, then the storage type when it is not fp32.
    for (const auto& k : attn::registry()) {
        const std::string dt =
            k.dtype == attn::DType::f32 ? "" : std::string(" dt:") + attn::to_string(k.dtype);
        std::printf("%s %.*s %s%s%s\n", attn::to_string(k.stage), int(k.variant.size()),
                    k.variant.data(), attn::to_string(k.isa), dt.c_str(),
                    k.available() ? "" : "  (not on this CPU)");
    }
    // The external baselines, or why their variants are absent from the list above.
#ifdef ATTN_HAVE_OPENBLAS
    std::printf("# baseline openblas: OpenBLAS, core %s\n", attn::openblas_info().core.c_str());
#else
    std::printf("# baseline openblas: not built (OpenBLAS was not found; see README)\n");
#endif
#ifdef ATTN_HAVE_ONEDNN
    const auto dnn = attn::onednn_info();
    std::printf("# baseline onednn: oneDNN %s, %s runtime, ISA %s\n", dnn.version.c_str(),
                dnn.runtime.c_str(), dnn.isa.c_str());
#else
    std::printf("# baseline onednn: not built (oneDNN was not found; see README)\n");
#endif
    return 0;
}

#if defined(ATTN_HAVE_OPENBLAS) && defined(__x86_64__)
// OpenBLAS 0.3.21 chooses its kernels once, in its load-time constructor, and falls back to old
// SSE3 ones ("Prescott") on CPUs it does not know (recent Xeons) and to AVX2 ones on Zen 4 even
// though they have AVX-512. So that the comparison uses its best kernels, an AVX-512 CPU without an
// explicit OPENBLAS_CORETYPE gets SkylakeX and the binary re-executes itself for the loader to see
// it; the core actually used goes into the benchmark context. Returns only when no re-exec is
// needed (or it failed, which leaves the native choice, still reported).
void openblas_prefer_avx512(char** argv) {
    if (std::getenv("OPENBLAS_CORETYPE") || !attn::cpu_supports(attn::Isa::avx512)) return;
    if (setenv("OPENBLAS_CORETYPE", "SkylakeX", 1) != 0) return;
    execv("/proc/self/exe", argv);
    std::perror("attnbench: warning: re-exec for OPENBLAS_CORETYPE=SkylakeX failed");
}
#endif

// Google Benchmark's console output, with the progress line cleared before each result row.
class ConsoleWithProgress : public benchmark::ConsoleReporter {
public:
    using benchmark::ConsoleReporter::ConsoleReporter;
    bool ReportContext(const Context& context) override {
        attnbench::clear_progress();
        return ConsoleReporter::ReportContext(context);
    }
    void ReportRuns(const std::vector<Run>& runs) override {
        attnbench::clear_progress();
        ConsoleReporter::ReportRuns(runs);
    }
};

// The value of a --benchmark_NAME=value flag among the pass-through flags, or empty.
std::string bench_flag(const std::vector<char*>& flags, const std::string& name) {
    const std::string prefix = "--benchmark_" + name + "=";
    std::string value;
    for (const char* f : flags)
        if (std::string(f).rfind(prefix, 0) == 0) value = f + prefix.size();
    return value;
}
bool has_bench_flag(const std::vector<char*>& flags, const std::string& name) {
    for (const char* f : flags) {
        const std::string s = f;
        if (s == "--benchmark_" + name || s.rfind("--benchmark_" + name + "=", 0) == 0) return true;
    }
    return false;
}

// The run's benchmarks: the sweep expanded into cases; false after one line on a bad selection.
bool expand_cases(const attnbench::RunConfig& cfg, const std::vector<char*>& bench_argv,
                  std::vector<attnbench::Case>& cases) {
    try {
        cases = attnbench::expand(cfg);
        if (!bench_flag(bench_argv, "out_format").empty() &&
            bench_flag(bench_argv, "out_format") != "json")
            throw std::invalid_argument(
                "--benchmark_out_format: attnbench saves its results as json");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "attnbench: %s\n", e.what());
        return false;
    }
    return true;
}

// Seconds each benchmark runs untimed before it is timed: --benchmark_min_warmup_time, else 0.05
// (any positive time makes at least one call), none under --iterations, whose counted loop must
// run alone. Without it a call longer than min_time is timed cold, the first touch of its output
// and scratch pages and OpenMP's thread start included (a projection at d_model 4096 on 2
// threads: 416 ms cold, 266 ms warm).
double warmup_seconds(const attnbench::RunConfig& cfg, const std::vector<char*>& bench_argv) {
    if (has_bench_flag(bench_argv, "min_warmup_time"))
        return std::atof(bench_flag(bench_argv, "min_warmup_time").c_str());
    return cfg.iterations > 0 ? 0.0 : 0.05;
}

// Whether one of the added flags starts with `prefix`.
bool has_owned(const std::vector<std::string>& owned, const std::string& prefix) {
    return std::any_of(owned.begin(), owned.end(),
                       [&](const std::string& f) { return f.rfind(prefix, 0) == 0; });
}

// Hands Google Benchmark its flags, plus where to write the result and the preset's min_time;
// `owned` keeps the strings of the added flags alive. False on a flag it does not know.
bool initialize_benchmark(const attnbench::RunConfig& cfg, const attnbench::ResultFile* result,
                          std::vector<char*> bench_argv, std::vector<std::string>& owned) {
    if (result) {
        std::erase_if(bench_argv, [](const char* f) {
            return std::string(f).rfind("--benchmark_out", 0) == 0;
        });
        owned.push_back("--benchmark_out=" + result->temp_path());
        owned.push_back("--benchmark_out_format=json");
    }
    // --benchmark_min_time in the form this build's Google Benchmark takes, given or the preset's.
    const std::string min_time_flag = "--benchmark_min_time=";
    try {
        for (char*& f : bench_argv)
            if (std::string(f).rfind(min_time_flag, 0) == 0) {
                owned.push_back(min_time_flag + attnbench::min_time_for_benchmark(
                                                    std::string(f).substr(min_time_flag.size())));
                f = nullptr;  // replaced by the rewritten flag below
            }
        std::erase(bench_argv, nullptr);
        if (cfg.preset && cfg.preset->min_time && !has_bench_flag(bench_argv, "min_time") &&
            !has_owned(owned, min_time_flag))
            owned.push_back(min_time_flag + attnbench::min_time_for_benchmark(
                                                std::to_string(*cfg.preset->min_time)));
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "attnbench: %s\n", e.what());
        return false;
    }
    if (!has_bench_flag(bench_argv, "min_warmup_time"))
        owned.push_back("--benchmark_min_warmup_time=" +
                        std::to_string(warmup_seconds(cfg, bench_argv)));
    for (auto& f : owned) bench_argv.push_back(f.data());
    int bargc = int(bench_argv.size());
    benchmark::Initialize(&bargc, bench_argv.data());
    return !benchmark::ReportUnrecognizedArguments(bargc, bench_argv.data());
}

// The machine and library facts every result is read against.
void add_benchmark_context(const attnbench::RunConfig& cfg, const nlohmann::json& machine,
                           const std::string& fp) {
    benchmark::AddCustomContext("attnbench_fingerprint", fp);
    benchmark::AddCustomContext("attnbench_isa", machine.value("isa_dispatched", ""));
    if (cfg.preset) benchmark::AddCustomContext("attnbench_preset", cfg.preset->name);
#ifdef ATTN_HAVE_OPENBLAS
    benchmark::AddCustomContext("openblas_core", machine.value("openblas_core", ""));
    benchmark::AddCustomContext("openblas_config", machine.value("openblas_config", ""));
#endif
#ifdef ATTN_HAVE_ONEDNN
    benchmark::AddCustomContext("onednn_version", machine.value("onednn_version", ""));
    benchmark::AddCustomContext("onednn_runtime", machine.value("onednn_runtime", ""));
    benchmark::AddCustomContext("onednn_isa", machine.value("onednn_isa", ""));
#endif
}

// Registers the peak probe and the cases and runs them with the console display (unless
// --benchmark_format chose another); returns how many benchmarks ran.
std::size_t measure(const attnbench::RunConfig& cfg, const std::vector<attnbench::Case>& cases,
                    const std::vector<char*>& bench_argv) {
    const bool peak = attnbench::peak_selected(cfg);
    const std::vector<int> thread_list = attnbench::thread_counts(cfg);
    std::vector<std::string> names;
    if (peak) names = attnbench::register_peak(thread_list);
    for (auto& n : attnbench::register_cases(cases, cfg)) names.push_back(std::move(n));
    // The total counts what --benchmark_filter leaves, as Google Benchmark will run it.
    attnbench::start_progress(attnbench::count_selected(names, bench_flag(bench_argv, "filter")));
    std::unique_ptr<benchmark::BenchmarkReporter> display;
    if (!has_bench_flag(bench_argv, "format"))
        display = std::make_unique<ConsoleWithProgress>(isatty(STDOUT_FILENO)
                                                            ? benchmark::ConsoleReporter::OO_Color
                                                            : benchmark::ConsoleReporter::OO_None);
    const std::size_t ran = benchmark::RunSpecifiedBenchmarks(display.get());
    benchmark::Shutdown();
    attnbench::clear_progress();
    return ran;
}

// What the result records of the sweep: preset, limits, warm-up, thread counts, the model of each
// preset shape and the command line.
nlohmann::json sweep_context(const attnbench::RunConfig& cfg, const std::vector<char*>& bench_argv,
                             int argc, char** argv) {
    nlohmann::json sweep;
    sweep["preset"] = cfg.preset ? cfg.preset->name : "";
    sweep["max_call_time"] = cfg.max_call_time;
    sweep["min_warmup_time"] = warmup_seconds(cfg, bench_argv);
    sweep["threads"] = attnbench::thread_counts(cfg);
    nlohmann::json models = nlohmann::json::object();
    if (cfg.preset)
        for (std::size_t i = 0; i < cfg.preset->shapes.size(); ++i)
            models[cfg.preset->shapes[i].text(false)] = cfg.preset->models[i];
    sweep["models"] = models;
    std::string command = "attnbench";
    for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
    sweep["command"] = command;
    return sweep;
}

// `attnbench run`: expand the sweep, measure it, save the result and report it.
int run_command(const attnbench::Command& cmd, const std::vector<char*>& bench_argv, int argc,
                char** argv) {
    std::vector<attnbench::Case> cases;
    if (!expand_cases(cmd.run, bench_argv, cases)) return 2;
    // Listing the benchmarks measures nothing, so there is nothing to save.
    const bool save = cmd.save && !has_bench_flag(bench_argv, "list_tests");
    const nlohmann::json machine = attnbench::machine_info();
    const std::string fp = attnbench::fingerprint(machine);
    std::unique_ptr<attnbench::ResultFile> result;
    try {
        if (save)
            result = std::make_unique<attnbench::ResultFile>(cmd.results_dir, fp,
                                                             bench_flag(bench_argv, "out"));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "attnbench: %s\n", e.what());
        return 2;
    }
    std::vector<std::string> owned_flags;
    if (!initialize_benchmark(cmd.run, result.get(), bench_argv, owned_flags)) return 2;
    add_benchmark_context(cmd.run, machine, fp);
    const std::size_t ran = measure(cmd.run, cases, bench_argv);
    if (!result) return 0;
    if (ran == 0) {
        std::fprintf(stderr,
                     "attnbench: no benchmark ran (check --benchmark_filter); nothing saved\n");
        return 2;
    }
    std::string saved;
    try {
        saved = result->commit({{"fingerprint", fp},
                                {"machine", machine},
                                {"sweep", sweep_context(cmd.run, bench_argv, argc, argv)}});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "attnbench: %s\n", e.what());
        return 2;
    }
    std::printf("\nattnbench: saved %s\n", saved.c_str());
    if (!cmd.report) return 0;
    return attnbench::run_python_script("report.py", {saved});
}

// Every allocation of 128 KiB or more gets fresh pages of its own (mmap), whatever ran before it
// in the process. glibc otherwise raises that threshold as large blocks are freed, and the
// buffers of later benchmarks came from the heap where earlier ones had lain: the omp projection
// at n 128, d_model 768 on two threads ran 0.82-0.85x as fast after flash attention's benchmarks
// in the same process as alone, and 0.92-0.98x with the threshold fixed (where its output buffer
// started within its page made no difference).
void fix_mmap_threshold() {
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 128 << 10);
#endif
}

}  // namespace

int main(int argc, char** argv) {
    fix_mmap_threshold();
#if defined(ATTN_HAVE_OPENBLAS) && defined(__x86_64__)
    openblas_prefer_avx512(argv);
#endif
    std::vector<std::string> ours;
    std::vector<char*> bench_argv;
    attnbench::split_arguments(argc, argv, ours, bench_argv);
    const auto parsed = attnbench::parse_command_line(ours);
    if (const int* status = std::get_if<int>(&parsed)) return *status;
    const attnbench::Command& cmd = std::get<attnbench::Command>(parsed);
    switch (cmd.kind) {
        case attnbench::Command::Kind::list: return list_kernels();
        case attnbench::Command::Kind::gate:
        case attnbench::Command::Kind::compare:
            return attnbench::run_python_script("gate.py", cmd.script_args);
        case attnbench::Command::Kind::report:
            return attnbench::run_python_script("report.py", cmd.script_args);
        case attnbench::Command::Kind::run: return run_command(cmd, bench_argv, argc, argv);
        case attnbench::Command::Kind::explain:
            try {
                std::fputs(attnbench::explain(cmd.explain).c_str(), stdout);
                return 0;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "attnbench: %s\n", e.what());
                return 2;
            }
    }
    return 2;
}
