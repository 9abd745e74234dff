// What attnbench reads back from Google Benchmark's JSON: each benchmark's descriptor fields and
// the FMA peak the run measured. Robust to any JSON value (tests/fuzz feeds it arbitrary bytes).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace attnbench {

// The benchmark name of a result row: its run_name, else its name; "" when neither is a string.
std::string benchmark_name(const nlohmann::json& row);

// The fields of the benchmark called `name` as JSON values, so that no reader of a result has to
// parse names: stage, variant, isa, and for a kernel the shape's text and every field of it
// (batch, heads, kv_heads, n_q, n_kv, head_dim, threads, causal, similarity, the effective scale
// and whether the shape gave it), for the peak probe its threads; null for a name attnbench did not
// make. Google Benchmark's /iterations:N and /real_time suffixes are ignored.
nlohmann::json descriptor_fields(std::string name);

// What a peak probe measured, by thread count, from the peak/<probe> rows of a result (median of
// the `counter` over repetitions): the FMA peak ("fma", "GFLOP/s"), e.g. {"1": 237.6, "2": 461.3},
// or the memory bandwidth ("stream", "GB/s"); empty when there are none or `result` is not a
// result at all.
nlohmann::json measured_peak(const nlohmann::json& result, const std::string& probe,
                             const std::string& counter);

}  // namespace attnbench
