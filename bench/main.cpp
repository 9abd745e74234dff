// attnbench: list the registered kernels or benchmark them across a sweep of shapes.
#include <benchmark/benchmark.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "attn/registry.hpp"
#include "run_config.hpp"

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

}  // namespace

int main(int argc, char** argv) {
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
    auto* run = app.add_subcommand("run", "benchmark the selected kernels across a sweep of shapes "
                                          "(Google Benchmark --benchmark_* flags pass through)");
    std::vector<std::string> stages, variants, isas, seqs, heads, dims, batches, threads;
    std::string sim = "dot";
    bool causal = false;
    auto list_opt = [&](const char* name, std::vector<std::string>& into, const char* help) {
        run->add_option(name, into, help)->delimiter(',')->allow_extra_args(false);
    };
    list_opt("--stage", stages, "stages to run (comma-separated)");
    list_opt("--variant", variants, "variants to run, e.g. naive,simd");
    list_opt("--isa", isas, "ISA tiers to run, e.g. avx2,avx512");
    list_opt("--seq", seqs, "sequence lengths n = n_q = n_kv (default 128,256,512)");
    list_opt("--heads", heads, "head counts (default 8)");
    list_opt("--dim", dims, "head sizes (default 64)");
    list_opt("--batch", batches, "batch sizes (default 1)");
    list_opt("--threads", threads, "thread counts for parallel kernels (default 1 and all cores)");
    run->add_flag("--causal", causal, "apply the causal mask");
    run->add_option("--sim", sim, "similarity: dot or cosine")->check(CLI::IsMember({"dot", "cosine"}));

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

    try {
        attnbench::RunConfig cfg;
        cfg.stages = stages, cfg.variants = variants, cfg.isas = isas;
        if (!seqs.empty()) cfg.seqs = positive_list<std::int64_t>("--seq", seqs);
        if (!heads.empty()) cfg.heads = positive_list<std::int64_t>("--heads", heads);
        if (!dims.empty()) cfg.dims = positive_list<std::int64_t>("--dim", dims);
        if (!batches.empty()) cfg.batches = positive_list<std::int64_t>("--batch", batches);
        if (!threads.empty()) cfg.threads = positive_list<int>("--threads", threads);
        cfg.causal = causal;
        cfg.similarity = sim == "cosine" ? attn::Similarity::cosine : attn::Similarity::dot;
        attnbench::register_cases(attnbench::expand(cfg));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "attnbench: %s\n", e.what());
        return 2;
    }

    int bargc = int(bench_argv.size());
    benchmark::Initialize(&bargc, bench_argv.data());
    if (benchmark::ReportUnrecognizedArguments(bargc, bench_argv.data())) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
