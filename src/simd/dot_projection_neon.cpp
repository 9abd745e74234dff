// vdpbf16ps is AVX512_BF16's (gemm_avx512bf16.cpp): on aarch64 no tier has it, and the bf16
// projection widens.
#include <stdexcept>

#include "dot_projection.hpp"

namespace attn::simd {

bool dot_projection_serves(Isa) { return false; }

void dot_projection(int, std::int64_t, std::int64_t, std::int64_t, const bf16*, const bf16*,
                    float*) {
    throw std::logic_error("attnbench: no bf16 dot products on this architecture");
}

}  // namespace attn::simd
