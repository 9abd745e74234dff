#include "result_fields.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <stdexcept>
#include <vector>

#include "attn/shape.hpp"

namespace attnbench {

namespace {

// The peak probe's stage name (run_config.hpp's kPeakStage, without the benchmark library).
constexpr const char* kPeak = "peak";

// row[key] when it is a string, else "".
std::string string_field(const nlohmann::json& row, const char* key) {
    const auto it = row.find(key);
    return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string benchmark_name(const nlohmann::json& row) {
    if (!row.is_object()) return {};
    std::string name = string_field(row, "run_name");
    return name.empty() ? string_field(row, "name") : name;
}

nlohmann::json descriptor_fields(std::string name) {
    // Google Benchmark appends /iterations:N (--iterations) and /real_time (UseRealTime).
    for (const char* suffix : {"/real_time", "/process_time", "/manual_time"})
        if (name.ends_with(suffix)) name.resize(name.size() - std::strlen(suffix));
    if (const auto it = name.rfind("/iterations:"); it != std::string::npos) name.resize(it);
    std::string part[3];
    std::size_t at = 0;
    for (auto& p : part) {
        const std::size_t slash = name.find('/', at);
        if (slash == std::string::npos) return nullptr;
        p = name.substr(at, slash - at);
        at = slash + 1;
    }
    nlohmann::json f = {{"stage", part[0]}, {"variant", part[1]}, {"isa", part[2]}};
    const std::string rest = name.substr(at);
    if (part[0] == kPeak) {
        int t = 0;
        const char* end = rest.data() + rest.size();
        const auto [stop, ec] =
            std::from_chars(rest.data() + std::min<std::size_t>(2, rest.size()), end, t);
        if (!rest.starts_with("t:") || ec != std::errc() || stop != end || t <= 0) return nullptr;
        f["threads"] = t;
        return f;
    }
    attn::Shape s;
    try {
        s = attn::parse_shape(rest);
    } catch (const std::invalid_argument&) {
        return nullptr;
    }
    f["shape"] = s.text();
    f["batch"] = s.batch, f["heads"] = s.heads, f["kv_heads"] = s.kv_head_count(), f["n_q"] = s.n_q,
    f["n_kv"] = s.n_kv, f["head_dim"] = s.head_dim;
    f["threads"] = s.threads;
    f["causal"] = s.causal;
    f["similarity"] = attn::to_string(s.similarity);
    f["dtype"] = attn::to_string(s.dtype);
    f["scale"] = s.effective_scale();
    f["scale_given"] = s.scale != 0.0;
    if (s.has_layer_fields()) {
        // The layer stage's own fields, as the report labels them ("ff=11008 vocab=32000 swiglu
        // rope rms").
        std::string layer = s.d_ff != 0 ? "ff=" + std::to_string(s.d_ff) : "";
        // Appended piece by piece: GCC 12 misreports a concatenation's copy as overlapping.
        auto add = [&layer](const std::string& word) {
            if (!layer.empty()) layer += ' ';
            layer += word;
        };
        if (s.vocab != 0) add("vocab=" + std::to_string(s.vocab));
        for (const auto& [on, name] :
             {std::pair{s.swiglu, "swiglu"}, std::pair{s.rope, "rope"}, std::pair{s.rms, "rms"}})
            if (on) add(name);
        f["layer"] = layer;
    }
    return f;
}

nlohmann::json measured_peak(const nlohmann::json& result, const std::string& probe,
                             const std::string& counter) {
    std::map<int, std::vector<double>> values;
    std::map<int, double> medians;
    nlohmann::json out = nlohmann::json::object();
    if (!result.is_object() || !result.contains("benchmarks") || !result["benchmarks"].is_array())
        return out;
    for (const auto& row : result["benchmarks"]) {
        const nlohmann::json f = descriptor_fields(benchmark_name(row));
        if (!f.is_object() || f.value("stage", "") != kPeak || f.value("variant", "") != probe)
            continue;
        const auto gflops = row.find(counter);
        const auto erred = row.find("error_occurred");
        if (gflops == row.end() || !gflops->is_number() || (erred != row.end() && *erred == true))
            continue;
        const int t = f["threads"].get<int>();
        if (string_field(row, "run_type") == "aggregate") {
            if (string_field(row, "aggregate_name") == "median") medians[t] = gflops->get<double>();
        } else {
            values[t].push_back(gflops->get<double>());
        }
    }
    for (auto& [t, v] : values) {
        std::sort(v.begin(), v.end());
        const std::size_t n = v.size();
        out[std::to_string(t)] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
    for (const auto& [t, v] : medians) out[std::to_string(t)] = v;
    return out;
}

}  // namespace attnbench
