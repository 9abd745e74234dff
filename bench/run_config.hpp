// What `attnbench run` measures: the kernel filters and the shape axes of the sweep.
#pragma once

#include <string>
#include <vector>

#include "attn/registry.hpp"

namespace attnbench {

struct RunConfig {
    std::vector<std::string> stages, variants, isas;  // empty: all
    std::vector<std::int64_t> seqs{128, 256, 512};
    std::vector<std::int64_t> heads{8};
    std::vector<std::int64_t> dims{64};
    std::vector<std::int64_t> batches{1};
    std::vector<int> threads;  // empty: 1 and every core
    bool causal = false;
    attn::Similarity similarity = attn::Similarity::dot;
};

// The peak probe's --stage name. It is not an attention stage (the registry knows nothing of it):
// `attnbench run` adds the probe when --stage names it or when no --stage filter is given.
inline constexpr const char* kPeakStage = "peak";
bool peak_selected(const RunConfig& cfg);

// The thread counts of the sweep: --threads, else 1 and every core.
std::vector<int> thread_counts(const RunConfig& cfg);

// One benchmark: a kernel at a shape.
struct Case {
    const attn::Kernel* kernel;
    attn::Shape shape;
    std::string name;  // stage/variant/isa/n:…/h:…/d:…/t:…[/causal][/cosine]
};

// The kernels that pass the filters crossed with the shape axes; throws std::invalid_argument
// with one line (listing valid names) for an unknown name, or for a selection that is empty
// unless --stage names peak (then no kernel at all is fine).
std::vector<Case> expand(const RunConfig& cfg);

// Registers every case with Google Benchmark, with GFLOP/s and GB/s rate counters.
void register_cases(const std::vector<Case>& cases);

}  // namespace attnbench
