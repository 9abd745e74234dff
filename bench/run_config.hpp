// What `attnbench run` measures: the kernel filters and the shapes of the sweep: a preset shape
// file, the shapes --shape gives, or the cross product of --seq, --heads, --dim and --batch.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attn/registry.hpp"
#include "shape_file.hpp"

namespace attnbench {

struct RunConfig {
    std::vector<std::string> stages, variants, isas;  // empty: all
    // With a preset, the shape axes below filter its shapes (empty: keep all); without one, they
    // are crossed (empty: the defaults 128,256,512 / 8 / 64 / 1).
    std::optional<ShapeFile> preset;
    std::vector<std::int64_t> seqs, heads, dims, batches;
    // Storage types every shape of the sweep runs in, preset or not (empty: each shape's own, a
    // preset line's dt= or else f32).
    std::vector<attn::DType> dtypes;
    // From --shape: whole problem descriptors (attn::parse_shape); one that names t: runs at that
    // thread count only, the others at every count of `threads`.
    struct GivenShape {
        attn::Shape shape;
        bool threads_given = false;
    };
    std::vector<GivenShape> shapes;
    std::vector<int> threads;  // empty: 1 and every core
    // Without a preset they apply to every shape; with one they keep only its causal (or cosine)
    // shapes.
    bool causal = false;
    bool cosine = false;
    // Seconds one call of a kernel may be predicted to take before its shape is skipped (0: no
    // limit). The prediction scales the kernel's own time on its largest smaller shape already
    // measured in this run by the ratio of FLOPs, so the slow variants drop out of big shapes
    // without a list of kernels to avoid.
    double max_call_time = 0;
    // Iterations of every benchmark (0: as many as --benchmark_min_time takes).
    std::int64_t iterations = 0;
    // Above 0: after a layer benchmark's timed loop, one more call with attn::layer_steps_alone()
    // at this many repeats, for the vs_steps_alone counter (the loop's time per call over the sum
    // of the steps measured alone). It costs (1 + this) calls per benchmark run, so it is opt-in.
    int steps_alone = 0;
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
    std::string name;  // stage/variant/isa/<attn::Shape::text()>
};

// The kernels that pass the filters crossed with the shapes, by stage, then by shape from the
// smallest call to the largest, then in registry order; throws std::invalid_argument with one
// line (listing valid names) for an unknown name, or for a selection that is empty unless
// --stage names peak (then no kernel at all is fine).
std::vector<Case> expand(const RunConfig& cfg);

// Registers every case with Google Benchmark, with GFLOP/s and GB/s rate counters (a layer's
// share:<step> counters too, and vs_steps_alone under cfg.steps_alone), a progress line and the
// cfg.max_call_time skip; cfg.iterations > 0 runs each exactly that many times (0: Google
// Benchmark decides from --benchmark_min_time). Returns the names Google Benchmark gives them
// (with /iterations:N and /real_time where they apply), which --benchmark_filter matches.
std::vector<std::string> register_cases(const std::vector<Case>& cases, const RunConfig& cfg);

// The progress line on stderr: "[k/total m:ss] benchmark name" when a benchmark starts for the
// first time (repetitions do not count again). On a terminal it is redrawn in place and cleared
// before each result row; otherwise it is one line per benchmark, for logs.
void start_progress(int total);
// How many of `names` Google Benchmark's --benchmark_filter (empty or "all": every one; a leading
// '-' negates; POSIX extended regex searched in the name) selects, for the progress total.
int count_selected(const std::vector<std::string>& names, const std::string& filter);
void show_progress(const std::string& name);
void clear_progress();

}  // namespace attnbench
