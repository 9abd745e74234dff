#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "shape_file.hpp"

namespace attnbench {

namespace {

// Strictly parses "a,b,c" of positive integers; a value like "-5", "0" or "12x" is an error
// naming the option.
template <class T>
std::vector<T> positive_list(const std::string& option, const std::vector<std::string>& raw) {
    std::vector<T> out;
    for (const auto& item : raw) {
        T v{};
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size() || v <= 0)
            throw std::invalid_argument(option + ": '" + item + "' is not a positive integer");
        // A repeated value would benchmark the same shape twice under one name.
        if (std::find(out.begin(), out.end(), v) != out.end())
            throw std::invalid_argument(option + ": '" + item + "' is given twice");
        out.push_back(v);
    }
    return out;
}

// The raw text of `run`'s options, before they are checked and converted.
struct RunOptions {
    std::vector<std::string> stages, variants, isas, seqs, heads, dims, batches, threads, shapes,
        dtypes;
    std::string sim = "dot", preset, iterations, steps_alone;
    bool causal = false, no_save = false, no_report = false;
    std::string max_call_time;  // empty: not given
};

void add_run_options(CLI::App& run, RunOptions& o, std::string& results_dir) {
    auto list = [&](const char* name, std::vector<std::string>& into, const char* help) {
        run.add_option(name, into, help)->delimiter(',')->allow_extra_args(false);
    };
    run.add_option(
        "--preset", o.preset,
        "shape preset: quick, default, full, or the path of a shape file (default: the default "
        "preset unless --shape, --seq, --heads, --dim or --batch give the shapes)");
    list("--stage", o.stages, "stages to run (comma-separated)");
    list("--variant", o.variants, "variants to run, e.g. naive,simd");
    list("--isa", o.isas, "ISA tiers to run, e.g. avx2,avx512");
    list("--shape", o.shapes,
         "whole problem descriptors, e.g. b:1/h:32/nq:16/nkv:4096/d:128/causal (fields n or nq and "
         "nkv, h, d, "
         "and optionally b, t, dt, scale, causal, cosine, and the layer's ff, vocab, swiglu, rope, "
         "rms; comma-separated or repeated)");
    list("--seq", o.seqs, "sequence lengths n = n_q = n_kv (without a preset: 128,256,512)");
    list("--heads", o.heads, "head counts (without a preset: 8)");
    list("--dim", o.dims, "head sizes (without a preset: 64)");
    list("--batch", o.batches, "batch sizes (without a preset: 1)");
    list("--dtype", o.dtypes,
         "storage types to run every shape in: f32, bf16, f16 (default: each shape's own, a "
         "preset line's dt= or f32)");
    list("--threads", o.threads, "thread counts for parallel kernels (default 1 and all cores)");
    run.add_flag("--causal", o.causal,
                 "apply the causal mask (with a preset: keep its causal shapes)");
    run.add_option("--sim", o.sim,
                   "similarity: dot or cosine (with a preset, cosine keeps its cosine shapes)")
        ->check(CLI::IsMember({"dot", "cosine"}));
    run.add_option(
        "--max-call-time", o.max_call_time,
        "skip a kernel's shapes whose call is predicted, from its smaller shapes in this run, to "
        "take longer than this many seconds (0: never; default: the preset's, else 0)");
    run.add_option(
        "--iterations", o.iterations,
        "run every benchmark exactly this many iterations instead of for --benchmark_min_time "
        "seconds (the gate's instruction-count lane)");
    run.add_option("--steps-alone", o.steps_alone,
                   "after each layer benchmark, time each of the layer's steps alone this many "
                   "times and report vs_steps_alone: the layer's time over their sum (costs 1 + N "
                   "calls per benchmark; default 0, off)");
    run.add_option("--results", results_dir, "folder that receives <fingerprint>/<UTC time>.json")
        ->capture_default_str();
    run.add_flag("--no-save", o.no_save, "do not save the result (and so do not report it)");
    run.add_flag("--no-report", o.no_report, "save the result but make no report");
}

// The checked sweep of `run`; throws std::invalid_argument with one line.
RunConfig to_run_config(const RunOptions& o) {
    RunConfig cfg;
    cfg.stages = o.stages, cfg.variants = o.variants, cfg.isas = o.isas;
    if (!o.seqs.empty()) cfg.seqs = positive_list<std::int64_t>("--seq", o.seqs);
    if (!o.heads.empty()) cfg.heads = positive_list<std::int64_t>("--heads", o.heads);
    if (!o.dims.empty()) cfg.dims = positive_list<std::int64_t>("--dim", o.dims);
    if (!o.batches.empty()) cfg.batches = positive_list<std::int64_t>("--batch", o.batches);
    if (!o.threads.empty()) cfg.threads = positive_list<int>("--threads", o.threads);
    for (const auto& name : o.dtypes) {
        attn::DType t;
        if (!attn::parse_dtype(name, t))
            throw std::invalid_argument("--dtype: '" + name +
                                        "' is not a storage type (valid: f32, bf16, f16)");
        cfg.dtypes.push_back(t);
    }
    if (!o.iterations.empty())
        cfg.iterations = positive_list<std::int64_t>("--iterations", {o.iterations}).front();
    if (!o.steps_alone.empty()) {
        const auto repeats = positive_list<std::int64_t>("--steps-alone", {o.steps_alone}).front();
        if (repeats > 100)
            throw std::invalid_argument("--steps-alone: " + o.steps_alone +
                                        " repeats of every step is more than 100");
        cfg.steps_alone = int(repeats);
    }
    cfg.causal = o.causal;
    cfg.cosine = o.sim == "cosine";
    const bool axes = !o.seqs.empty() || !o.heads.empty() || !o.dims.empty() || !o.batches.empty();
    if (!o.shapes.empty()) {
        // A descriptor is the whole problem: the axis options would contradict it.
        if (!o.preset.empty() || axes || o.causal || cfg.cosine || !o.dtypes.empty())
            throw std::invalid_argument(
                "--shape gives the whole shape: drop --preset, --seq, --heads, --dim, --batch, "
                "--dtype, --causal and --sim");
        for (const auto& text : o.shapes) {
            if (std::count(o.shapes.begin(), o.shapes.end(), text) > 1)
                throw std::invalid_argument("--shape: '" + text + "' is given twice");
            RunConfig::GivenShape g;
            g.shape = attn::parse_shape(text, &g.threads_given);
            cfg.shapes.push_back(g);
        }
    } else if (!o.preset.empty() || !axes) {
        cfg.preset = load_shape_file(o.preset.empty() ? "default" : o.preset);
        if (cfg.stages.empty()) cfg.stages = cfg.preset->stages;
        if (cfg.variants.empty()) cfg.variants = cfg.preset->variants;
    }
    double max_call_time =
        cfg.preset && cfg.preset->max_call_time ? *cfg.preset->max_call_time : 0.0;
    if (!o.max_call_time.empty()) {
        const char* text = o.max_call_time.c_str();
        const auto [end, ec] = std::from_chars(text, text + o.max_call_time.size(), max_call_time);
        if (ec != std::errc() || end != text + o.max_call_time.size() ||
            !std::isfinite(max_call_time) || max_call_time < 0)
            throw std::invalid_argument("--max-call-time: '" + o.max_call_time +
                                        "' is not a number of seconds >= 0");
    }
    cfg.max_call_time = max_call_time;
    return cfg;
}

}  // namespace

void split_arguments(int argc, char** argv, std::vector<std::string>& ours,
                     std::vector<char*>& benchmark_flags) {
    benchmark_flags = {argv[0]};
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]).rfind("--benchmark_", 0) == 0) benchmark_flags.push_back(argv[i]);
        else ours.emplace_back(argv[i]);
    }
}

std::variant<Command, int> parse_command_line(const std::vector<std::string>& args) {
    CLI::App app{"attnbench: transformer attention kernels, checked and measured side by side"};
    app.require_subcommand(1);
    auto* list = app.add_subcommand("list", "print every registered kernel as `stage variant isa`");
    auto* run =
        app.add_subcommand("run",
                           "benchmark the selected kernels across a sweep of shapes, save the "
                           "result as JSON and report it (Google Benchmark --benchmark_* flags "
                           "pass through)");
    auto* report =
        app.add_subcommand("report",
                           "make REPORT.md and PNG plots from a result file, or COMPARE.md "
                           "from two side by side");
    // gate and compare are bench/gate.py (scipy.stats decides); their options are its own, so
    // everything after the command, --help included, goes to it.
    auto* gate =
        app.add_subcommand("gate",
                           "paired A/B performance check of two attnbench builds: exit 0 no "
                           "regression, 1 regression, 2 bad input, 3 inconclusive (gate --help)");
    auto* compare = app.add_subcommand(
        "compare", "the gate's verdict table for two saved results (compare --help)");
    auto* explain = app.add_subcommand(
        "explain",
        "print the notes' worked example (\"A man has kept money in the bank\"), or one head of "
        "a small --shape, step by step as chosen kernels compute it beside the reference");
    for (auto* sub : {gate, compare}) {
        sub->allow_extras();
        sub->set_help_flag();
    }
    Command cmd;
    RunOptions run_options;
    add_run_options(*run, run_options, cmd.results_dir);
    explain->add_option("--variant", cmd.explain.variant, "the variant whose kernels compute it")
        ->capture_default_str();
    explain->add_option("--isa", cmd.explain.isa,
                        "its ISA tier (default: best, or the variant's only tier)");
    explain->add_option("--dtype", cmd.explain.dtype, "storage type of Q, K, V: f32, bf16, f16")
        ->capture_default_str();
    explain->add_option("--shape", cmd.explain.shape,
                        "instead of the worked example, one head of this descriptor (n_q, n_kv "
                        "and d of at most 16), e.g. n:4/h:2/d:3/causal");
    explain->add_option("--head", cmd.explain.head, "the head of --shape to print (batch 0)")
        ->capture_default_str();
    explain->add_option("--seed", cmd.explain.seed, "seed of --shape's random inputs")
        ->capture_default_str();
    std::vector<std::string> report_files;
    std::string report_out;
    report
        ->add_option("results", report_files,
                     "RESULT.json [OTHER.json]: one result, or two to compare")
        ->required()
        ->expected(1, 2);
    report->add_option("--out", report_out,
                       "folder for the report (default: the first result's folder)");

    const auto subcommands = app.get_subcommands({});
    const bool known =
        std::any_of(subcommands.begin(), subcommands.end(),
                    [&](const CLI::App* sub) { return !args.empty() && sub->check_name(args[0]); });
    if (!args.empty() && !args[0].empty() && args[0][0] != '-' && !known) {
        std::string valid;
        for (const auto* sub : subcommands) valid += (valid.empty() ? "" : ", ") + sub->get_name();
        std::fprintf(stderr, "attnbench: unknown command '%s' (valid: %s)\n", args[0].c_str(),
                     valid.c_str());
        return 2;
    }
    try {
        std::vector<std::string> reversed(args.rbegin(),
                                          args.rend());  // CLI11 takes them last first
        app.parse(reversed);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::fprintf(stderr, "attnbench: %s (see attnbench --help)\n", e.what());
        return 2;
    }

    if (list->parsed()) return cmd;
    if (gate->parsed() || compare->parsed()) {
        cmd.kind = gate->parsed() ? Command::Kind::gate : Command::Kind::compare;
        cmd.script_args = {gate->parsed() ? "gate" : "compare"};
        for (const auto& a : (gate->parsed() ? gate : compare)->remaining())
            cmd.script_args.push_back(a);
        return cmd;
    }
    if (explain->parsed()) {
        cmd.kind = Command::Kind::explain;
        return cmd;
    }
    if (report->parsed()) {
        cmd.kind = Command::Kind::report;
        cmd.script_args = report_files;
        if (!report_out.empty())
            cmd.script_args.insert(cmd.script_args.end(), {"--out", report_out});
        return cmd;
    }
    cmd.kind = Command::Kind::run;
    try {
        cmd.run = to_run_config(run_options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "attnbench: %s\n", e.what());
        return 2;
    }
    cmd.save = !run_options.no_save;
    cmd.report = !run_options.no_report;
    return cmd;
}

namespace {

// Whether the linked Google Benchmark is 1.8 or later (ATTN_BENCHMARK_VERSION,
// "major.minor.patch").
bool benchmark_takes_units() {
    const std::string v = ATTN_BENCHMARK_VERSION;
    int major = 0, minor = 0;
    const auto dot = v.find('.');
    std::from_chars(v.data(), v.data() + v.size(), major);
    if (dot != std::string::npos) std::from_chars(v.data() + dot + 1, v.data() + v.size(), minor);
    return major > 1 || (major == 1 && minor >= 8);
}

}  // namespace

std::string min_time_for_benchmark(const std::string& value) {
    if (value.empty()) return value;
    const char unit = value.back();
    if (benchmark_takes_units()) return unit == 's' || unit == 'x' ? value : value + "s";
    if (unit == 'x')
        throw std::invalid_argument("--benchmark_min_time=" + value +
                                    ": iterations need Google Benchmark 1.8 or later (this build "
                                    "has " ATTN_BENCHMARK_VERSION "); use --iterations");
    return unit == 's' ? value.substr(0, value.size() - 1) : value;
}

}  // namespace attnbench
