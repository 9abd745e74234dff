// Writing a run's JSON result so that it is never half-written and never overwrites another:
// Google Benchmark writes to a hidden temporary file beside the destination, which is removed if
// the run is interrupted; once the run ends the file is completed with attnbench's context and
// moved into place in one step.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include "result_fields.hpp"

namespace attnbench {

class ResultFile {
public:
    // `final_path` empty: results_dir/<fingerprint>/<UTC timestamp>.json, never replacing a file;
    // otherwise that path, replaced as a whole at the end if it exists (the user named it).
    // Creates the folder; throws std::runtime_error with one line when it cannot.
    ResultFile(const std::string& results_dir, const std::string& fingerprint,
               std::string final_path);
    ~ResultFile();  // removes the temporary file if commit() never ran
    ResultFile(const ResultFile&) = delete;
    ResultFile& operator=(const ResultFile&) = delete;

    // Where Google Benchmark writes (--benchmark_out).
    const std::string& temp_path() const { return temp_; }
    // Adds `attnbench` (machine, peak, sweep) to the context of the finished temporary file and
    // each benchmark row's descriptor_fields() (plus `model`, the preset comment of its shape,
    // when the sweep's models name it) as its `attnbench` object, then moves the file into
    // place; returns the final path. Throws std::runtime_error with one line.
    std::string commit(const nlohmann::json& attnbench_context);

private:
    std::string dir_, final_, temp_;
    bool replace_;
};

}  // namespace attnbench
