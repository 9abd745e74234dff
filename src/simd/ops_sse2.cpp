// The simd building blocks compiled for sse2 (this file alone gets the sse2 compiler flags).
#include "ops_tables.hpp"

namespace attn::simd {

ATTN_SIMD_TABLES(sse2, xsimd::sse2)

}  // namespace attn::simd
