// The bf16 products of flash's prefill and decode are AVX512_BF16's and AMX's
// (flash_avx512bf16.cpp, flash_amx.cpp): on aarch64 no tier has them, and every bf16 kernel takes
// its widening path.
#include <stdexcept>

#include "bf16_dot.hpp"

namespace attn::flash {

bool bf16_dot_serves(Isa, const Shape&) { return false; }

bool bf16_dot_on(Isa) { return false; }

void enable_bf16_dot(bool) {}

bool amx_prefill_serves(Isa, const Shape&) { return false; }

void prefill_bf16_products(int, const Shape&, const bf16*, const bf16*, const bf16*, float*,
                           Bf16Products) {
    throw std::logic_error("attnbench: no bf16 dot products on this architecture");
}

void decode_rows_bf16_dot(const Shape&, const float*, std::int64_t, const bf16*, const bf16*,
                          std::int64_t, std::int64_t, float*, float*, float*, float*) {
    throw std::logic_error("attnbench: no bf16 dot products on this architecture");
}

void bf16_dot_scores(std::int64_t, const std::uint32_t*, std::int64_t, const bf16*, std::int64_t,
                     std::int64_t, float*, std::int64_t) {
    throw std::logic_error("attnbench: no bf16 dot products on this architecture");
}

void bf16_dot_weighted_sum(std::int64_t, const float*, std::int64_t, const bf16*, std::int64_t,
                           std::int64_t, float*) {
    throw std::logic_error("attnbench: no bf16 dot products on this architecture");
}

}  // namespace attn::flash

namespace attn {

double bf16_dot_rate_over_fma() { return 0.0; }

}  // namespace attn
