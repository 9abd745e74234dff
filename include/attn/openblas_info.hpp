// Which OpenBLAS build and which of its CPU kernels ("core") the process loaded. Exists only when
// the project is built with OpenBLAS (ATTN_HAVE_OPENBLAS). OpenBLAS picks the core once, when the
// library loads, from the CPU or from the OPENBLAS_CORETYPE environment variable.
#pragma once

#include <string>

namespace attn {

struct OpenblasInfo {
    std::string core;    // openblas_get_corename(), e.g. "SkylakeX"
    std::string config;  // openblas_get_config(), e.g. "OpenBLAS 0.3.21 ... DYNAMIC_ARCH ..."
};

OpenblasInfo openblas_info();

}  // namespace attn
