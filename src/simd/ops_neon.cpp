// The simd building blocks compiled for neon (this file alone gets the neon compiler flags).
#include "ops_tables.hpp"

namespace attn::simd {

ATTN_SIMD_TABLES(neon, xsimd::neon64)

}  // namespace attn::simd
