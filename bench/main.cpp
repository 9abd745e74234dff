// attnbench: list the registered kernels or benchmark them across a sweep of shapes.
#include <benchmark/benchmark.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "attn/isa.hpp"
#include "attn/registry.hpp"
#include "machine.hpp"
#include "peak.hpp"
#include "report_script.hpp"
#include "result_file.hpp"
#include "run_config.hpp"

#ifdef ATTN_HAVE_OPENBLAS
#include <cstdlib>

#include "attn/openblas_info.hpp"
#endif

namespace {

// Strictly parses "a,b,c" of positive integers; a value like "-5", "0" or "12x" is an error
// naming the option.
template <class T> std::vector<T> positive_list(const std::string& option, const std::vector<std::string>& raw) {
    std::vector<T> out;
    for (const auto& item : raw) {
        T v{};
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size() || v <= 0)
            throw std::invalid_argument(option + ": '" + item + "' is not a positive integer");
        out.push_back(v);
    }
    return out;
}

int list_kernels() {
    for (const auto& k : attn::registry())
        std::printf("%s %.*s %s%s\n", attn::to_string(k.stage), int(k.variant.size()), k.variant.data(),
                    attn::to_string(k.isa), k.available() ? "" : "  (not on this CPU)");
    return 0;
}

#ifdef ATTN_HAVE_OPENBLAS
// OpenBLAS 0.3.21 chooses its kernels once, in its load-time constructor, and falls back to old
// SSE3 ones ("Prescott") on CPUs it does not know (recent Xeons) and to AVX2 ones on Zen 4 even
// though they have AVX-512. So that the comparison uses its best kernels, an AVX-512 CPU without an
// explicit OPENBLAS_CORETYPE gets SkylakeX and the binary re-executes itself for the loader to see
// it; the core actually used goes into the benchmark context. Returns only when no re-exec is needed
// (or it failed, which leaves the native choice, still reported).
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

}  // namespace

int main(int argc, char** argv) {
#ifdef ATTN_HAVE_OPENBLAS
    openblas_prefer_avx512(argv);
#endif
    // Google Benchmark's own flags go straight to it; everything else is ours.
    std::vector<char*> bench_argv{argv[0]};
    std::vector<std::string> ours;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--benchmark_", 0) == 0) bench_argv.push_back(argv[i]);
        else ours.push_back(a);
    }

    CLI::App app{"attnbench: transformer attention kernels, checked and measured side by side"};
    app.require_subcommand(1);
    auto* list = app.add_subcommand("list", "print every registered kernel as `stage variant isa`");
    auto* run = app.add_subcommand("run", "benchmark the selected kernels across a sweep of shapes, save the "
                                          "result as JSON and report it (Google Benchmark --benchmark_* flags "
                                          "pass through)");
    auto* report = app.add_subcommand("report", "make REPORT.md and PNG plots from a result file, or COMPARE.md "
                                                "from two side by side");
    // gate and compare are bench/gate.py (scipy.stats decides); their options are its own, so
    // everything after the command, --help included, goes to it.
    auto* gate = app.add_subcommand("gate", "paired A/B performance check of two attnbench builds: exit 0 no "
                                            "regression, 1 regression, 2 bad input, 3 inconclusive (gate --help)");
    auto* compare = app.add_subcommand("compare", "the gate's verdict table for two saved results (compare --help)");
    for (auto* sub : {gate, compare}) {
        sub->allow_extras();
        sub->set_help_flag();
    }
    std::vector<std::string> stages, variants, isas, seqs, heads, dims, batches, threads;
    std::string sim = "dot", preset, results_dir = "results";
    bool causal = false, no_save = false, no_report = false;
    double max_call_time = -1;
    std::string iterations;
    auto list_opt = [&](const char* name, std::vector<std::string>& into, const char* help) {
        run->add_option(name, into, help)->delimiter(',')->allow_extra_args(false);
    };
    run->add_option("--preset", preset,
                    "shape preset: quick, default, full, or the path of a shape file (default: the default "
                    "preset unless --seq, --heads, --dim or --batch give the shapes)");
    list_opt("--stage", stages, "stages to run (comma-separated)");
    list_opt("--variant", variants, "variants to run, e.g. naive,simd");
    list_opt("--isa", isas, "ISA tiers to run, e.g. avx2,avx512");
    list_opt("--seq", seqs, "sequence lengths n = n_q = n_kv (without a preset: 128,256,512)");
    list_opt("--heads", heads, "head counts (without a preset: 8)");
    list_opt("--dim", dims, "head sizes (without a preset: 64)");
    list_opt("--batch", batches, "batch sizes (without a preset: 1)");
    list_opt("--threads", threads, "thread counts for parallel kernels (default 1 and all cores)");
    run->add_flag("--causal", causal, "apply the causal mask (with a preset: keep its causal shapes)");
    run->add_option("--sim", sim, "similarity: dot or cosine (with a preset, cosine keeps its cosine shapes)")
        ->check(CLI::IsMember({"dot", "cosine"}));
    run->add_option("--max-call-time", max_call_time,
                    "skip a kernel's shapes whose call is predicted, from its smaller shapes in this run, to "
                    "take longer than this many seconds (0: never; default: the preset's, else 0)");
    run->add_option("--iterations", iterations,
                    "run every benchmark exactly this many iterations instead of for --benchmark_min_time "
                    "seconds (the gate's instruction-count lane)");
    run->add_option("--results", results_dir, "folder that receives <fingerprint>/<UTC time>.json")->capture_default_str();
    run->add_flag("--no-save", no_save, "do not save the result (and so do not report it)");
    run->add_flag("--no-report", no_report, "save the result but make no report");
    std::vector<std::string> report_files;
    std::string report_out;
    report->add_option("results", report_files, "RESULT.json [OTHER.json]: one result, or two to compare")
        ->required()->expected(1, 2);
    report->add_option("--out", report_out, "folder for the report (default: the first result's folder)");

    const auto subcommands = app.get_subcommands({});
    const bool known = std::any_of(subcommands.begin(), subcommands.end(),
                                   [&](const CLI::App* sub) { return !ours.empty() && sub->check_name(ours[0]); });
    if (!ours.empty() && ours[0][0] != '-' && !known) {
        std::string valid;
        for (const auto* sub : subcommands) valid += (valid.empty() ? "" : ", ") + sub->get_name();
        std::fprintf(stderr, "attnbench: unknown command '%s' (valid: %s)\n", ours[0].c_str(), valid.c_str());
        return 2;
    }
    try {
        std::vector<std::string> rev(ours.rbegin(), ours.rend());
        app.parse(rev);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::fprintf(stderr, "attnbench: %s (see attnbench --help)\n", e.what());
        return 2;
    }

    if (list->parsed()) return list_kernels();
    if (gate->parsed() || compare->parsed()) {
        std::vector<std::string> args{gate->parsed() ? "gate" : "compare"};
        for (const auto& a : (gate->parsed() ? gate : compare)->remaining()) args.push_back(a);
        return attnbench::run_python_script("gate.py", args);
    }
    if (report->parsed()) {
        std::vector<std::string> args = report_files;
        if (!report_out.empty()) args.insert(args.end(), {"--out", report_out});
        return attnbench::run_python_script("report.py", args);
    }

    attnbench::RunConfig cfg;
    std::vector<attnbench::Case> cases;
    try {
        cfg.stages = stages, cfg.variants = variants, cfg.isas = isas;
        if (!seqs.empty()) cfg.seqs = positive_list<std::int64_t>("--seq", seqs);
        if (!heads.empty()) cfg.heads = positive_list<std::int64_t>("--heads", heads);
        if (!dims.empty()) cfg.dims = positive_list<std::int64_t>("--dim", dims);
        if (!batches.empty()) cfg.batches = positive_list<std::int64_t>("--batch", batches);
        if (!threads.empty()) cfg.threads = positive_list<int>("--threads", threads);
        if (!iterations.empty()) cfg.iterations = positive_list<std::int64_t>("--iterations", {iterations}).front();
        cfg.causal = causal;
        cfg.cosine = sim == "cosine";
        const bool axes = !seqs.empty() || !heads.empty() || !dims.empty() || !batches.empty();
        if (!preset.empty() || !axes) cfg.preset = attnbench::load_shape_file(preset.empty() ? "default" : preset);
        if (max_call_time < 0 && cfg.preset && cfg.preset->max_call_time) max_call_time = *cfg.preset->max_call_time;
        cfg.max_call_time = std::max(0.0, max_call_time);
        cases = attnbench::expand(cfg);
        if (!bench_flag(bench_argv, "out_format").empty() && bench_flag(bench_argv, "out_format") != "json")
            throw std::invalid_argument("--benchmark_out_format: attnbench saves its results as json");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "attnbench: %s\n", e.what());
        return 2;
    }

    // Listing the benchmarks measures nothing, so there is nothing to save.
    const bool save = !no_save && !has_bench_flag(bench_argv, "list_tests");
    const nlohmann::json machine = attnbench::machine_info();
    const std::string fp = attnbench::fingerprint(machine);
    std::unique_ptr<attnbench::ResultFile> result;
    std::vector<std::string> owned_flags;  // storage for the flags added below
    if (save) {
        try {
            result = std::make_unique<attnbench::ResultFile>(results_dir, fp, bench_flag(bench_argv, "out"));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "attnbench: %s\n", e.what());
            return 2;
        }
        std::erase_if(bench_argv, [](const char* f) { return std::string(f).rfind("--benchmark_out", 0) == 0; });
        owned_flags.push_back("--benchmark_out=" + result->temp_path());
        owned_flags.push_back("--benchmark_out_format=json");
    }
    if (cfg.preset && cfg.preset->min_time && !has_bench_flag(bench_argv, "min_time"))
        owned_flags.push_back("--benchmark_min_time=" + std::to_string(*cfg.preset->min_time));
    for (auto& f : owned_flags) bench_argv.push_back(f.data());

    int bargc = int(bench_argv.size());
    benchmark::Initialize(&bargc, bench_argv.data());
    if (benchmark::ReportUnrecognizedArguments(bargc, bench_argv.data())) return 2;
    benchmark::AddCustomContext("attnbench_fingerprint", fp);
    benchmark::AddCustomContext("attnbench_isa", machine.value("isa_dispatched", ""));
    if (cfg.preset) benchmark::AddCustomContext("attnbench_preset", cfg.preset->name);
#ifdef ATTN_HAVE_OPENBLAS
    benchmark::AddCustomContext("openblas_core", machine.value("openblas_core", ""));
    benchmark::AddCustomContext("openblas_config", machine.value("openblas_config", ""));
#endif
    const bool peak = attnbench::peak_selected(cfg);
    const std::vector<int> thread_list = attnbench::thread_counts(cfg);
    if (peak) attnbench::register_peak(thread_list);
    attnbench::register_cases(cases, cfg.max_call_time, cfg.iterations);
    attnbench::start_progress(int(cases.size() + (peak ? thread_list.size() : 0)));

    std::unique_ptr<benchmark::BenchmarkReporter> display;
    if (!has_bench_flag(bench_argv, "format"))
        display = std::make_unique<ConsoleWithProgress>(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Color
                                                                               : benchmark::ConsoleReporter::OO_None);
    const std::size_t ran = benchmark::RunSpecifiedBenchmarks(display.get());
    benchmark::Shutdown();
    attnbench::clear_progress();
    if (!result) return 0;
    if (ran == 0) {
        std::fprintf(stderr, "attnbench: no benchmark ran (check --benchmark_filter); nothing saved\n");
        return 2;
    }

    nlohmann::json sweep;
    sweep["preset"] = cfg.preset ? cfg.preset->name : "";
    sweep["max_call_time"] = cfg.max_call_time;
    sweep["threads"] = thread_list;
    nlohmann::json models = nlohmann::json::object();
    if (cfg.preset)
        for (std::size_t i = 0; i < cfg.preset->shapes.size(); ++i)
            models[attnbench::shape_key(cfg.preset->shapes[i], false)] = cfg.preset->models[i];
    sweep["models"] = models;
    std::string command = "attnbench";
    for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
    sweep["command"] = command;
    nlohmann::json context = {{"fingerprint", fp}, {"machine", machine}, {"sweep", sweep}};
    std::string saved;
    try {
        saved = result->commit(context);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "attnbench: %s\n", e.what());
        return 2;
    }
    std::printf("\nattnbench: saved %s\n", saved.c_str());
    if (no_report) return 0;
    return attnbench::run_python_script("report.py", {saved});
}
