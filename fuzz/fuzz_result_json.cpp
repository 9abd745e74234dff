// Fuzzes what attnbench reads back from result JSON (bench/result_fields.cpp): any bytes, valid
// JSON or not, give descriptor fields and a peak table without crashing or throwing.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>

#include "result_fields.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
    if (j.is_discarded()) return 0;
    const nlohmann::json peak = attnbench::measured_peak(j, "fma", "GFLOP/s");
    if (!peak.is_object()) std::abort();
    if (j.is_object() && j.contains("benchmarks") && j["benchmarks"].is_array())
        for (const auto& row : j["benchmarks"]) {
            const nlohmann::json f = attnbench::descriptor_fields(attnbench::benchmark_name(row));
            if (!f.is_null() && !f.is_object()) std::abort();
        }
    return 0;
}
