#include "attn/isa.hpp"

#include <cstdlib>
#include <cstring>

namespace attn {

const char* to_string(Isa isa) {
    switch (isa) {
        case Isa::scalar: return "scalar";
        case Isa::sse2: return "sse2";
        case Isa::avx2: return "avx2";
        case Isa::avx512: return "avx512";
        case Isa::best: return "best";
    }
    return "?";
}

// __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0), which a raw
// CPUID read does not; valgrind's emulated CPUID reports no AVX-512, so it lands on avx2.
bool cpu_supports(Isa isa) {
    switch (isa) {
        case Isa::scalar:
        case Isa::best: return true;
        case Isa::sse2: return __builtin_cpu_supports("sse2");
        case Isa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case Isa::avx512:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    }
    return false;
}

Isa best_isa() {
    static const Isa chosen = [] {
        Isa cap = Isa::avx512;
        if (const char* env = std::getenv("ATTNBENCH_MAX_ISA")) {
            if (!std::strcmp(env, "sse2")) cap = Isa::sse2;
            else if (!std::strcmp(env, "avx2")) cap = Isa::avx2;
        }
        for (Isa isa : {Isa::avx512, Isa::avx2, Isa::sse2})
            if (int(isa) <= int(cap) && cpu_supports(isa)) return isa;
        return Isa::scalar;
    }();
    return chosen;
}

}  // namespace attn
