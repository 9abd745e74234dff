#include "attn/openblas_info.hpp"

#include "openblas/blas.hpp"

namespace attn {

OpenblasInfo openblas_info() {
    const char* core = openblas_get_corename();
    const char* config = openblas_get_config();
    return {core ? core : "", config ? config : ""};
}

}  // namespace attn
