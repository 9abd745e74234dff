// AMX is Intel's (gemm_amx.cpp): on aarch64 no tier has it, and the bf16 projection widens.
#include <stdexcept>

#include "amx.hpp"

namespace attn::simd {

bool amx_serves(Isa) { return false; }

void enable_amx(bool) {}

void amx_projection(int, std::int64_t, std::int64_t, std::int64_t, const bf16*, const bf16*,
                    float*) {
    throw std::logic_error("attnbench: no AMX on this architecture");
}

}  // namespace attn::simd

namespace attn {

bool cpu_has_amx_bf16() { return false; }

void amx_configure_tiles() { throw std::logic_error("attnbench: no AMX on this architecture"); }

void amx_release_tiles() {}

std::int64_t amx_multiply_adds() { return 0; }

}  // namespace attn
