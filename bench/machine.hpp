// The machine fingerprint every result carries, so that results from different machines, builds
// or library versions are never mixed up.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace attnbench {

// CPU model, the ISA tier the dispatcher uses, cores and logical CPUs, caches, memory, huge-page
// policy, compiler and flags, library versions (xsimd, Google Benchmark, OpenMP, OpenBLAS core),
// the source commit and the date. The measured FMA peak is added once the run has measured it.
nlohmann::json machine_info();

// The value of the first "key : value" line of /proc/cpuinfo with this key ("" where none).
std::string cpuinfo_field(const std::string& key);

// The current UTC time formatted by strftime, e.g. utc_time("%Y-%m-%dT%H:%M:%SZ").
std::string utc_time(const char* format);

// A short folder name for this machine: the CPU model (with its family and model numbers where
// the name has no model number), the dispatched ISA tier and the number of logical CPUs, e.g.
// "amd-epyc-9b45-avx512-2c", or "amd-epyc-f25m17-avx512-2c" for a guest named "AMD EPYC".
std::string fingerprint(const nlohmann::json& machine);

}  // namespace attnbench
