#include "attn/onednn_info.hpp"

#include <oneapi/dnnl/dnnl.hpp>

namespace attn {

namespace {

const char* runtime_name(unsigned runtime) {
    switch (runtime) {
        case DNNL_RUNTIME_OMP: return "OpenMP";
        case DNNL_RUNTIME_TBB: return "TBB";
        case DNNL_RUNTIME_THREADPOOL: return "threadpool";
        case DNNL_RUNTIME_SEQ: return "sequential";
        default: return "other";
    }
}

const char* isa_name(dnnl::cpu_isa isa) {
    switch (isa) {
        case dnnl::cpu_isa::sse41: return "sse41";
        case dnnl::cpu_isa::avx: return "avx";
        case dnnl::cpu_isa::avx2: return "avx2";
        case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
#if DNNL_VERSION_MAJOR < 3  // Xeon Phi, gone from oneDNN 3
        case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
        case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
#endif
        case dnnl::cpu_isa::avx512_core: return "avx512_core";
        case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
        default: return "all";
    }
}

}  // namespace

OnednnInfo onednn_info() {
    const dnnl::version_t* v = dnnl::version();
    std::string version =
        std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
    if (v->hash && std::string(v->hash) != "N/A") version += " (" + std::string(v->hash) + ")";
    return {version, runtime_name(v->cpu_runtime), isa_name(dnnl::get_effective_cpu_isa())};
}

}  // namespace attn
