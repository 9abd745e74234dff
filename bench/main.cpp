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

#include "attn/isa.hpp"
#include "attn/registry.hpp"
#include "peak.hpp"
#include "run_config.hpp"

#ifdef ATTN_HAVE_OPENBLAS
#include <unistd.h>

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
        const auto cases = attnbench::expand(cfg);
        if (attnbench::peak_selected(cfg)) attnbench::register_peak(attnbench::thread_counts(cfg));
        attnbench::register_cases(cases);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "attnbench: %s\n", e.what());
        return 2;
    }

    int bargc = int(bench_argv.size());
    benchmark::Initialize(&bargc, bench_argv.data());
    if (benchmark::ReportUnrecognizedArguments(bargc, bench_argv.data())) return 2;
#ifdef ATTN_HAVE_OPENBLAS
    const auto blas = attn::openblas_info();
    benchmark::AddCustomContext("openblas_core", blas.core);
    benchmark::AddCustomContext("openblas_config", blas.config);
#endif
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
