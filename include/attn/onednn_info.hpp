// Which oneDNN build the process loaded and what it runs on. Exists only when the project is built
// with oneDNN (ATTN_HAVE_ONEDNN).
#pragma once

#include <string>

namespace attn {

struct OnednnInfo {
    std::string version;  // e.g. "2.6.3" (plus the git hash when the build recorded one)
    std::string runtime;  // its CPU threading runtime: "OpenMP", "TBB", "threadpool", "sequential"
    std::string isa;      // dnnl_get_effective_cpu_isa(): the widest ISA its JIT kernels use
};

OnednnInfo onednn_info();

}  // namespace attn
