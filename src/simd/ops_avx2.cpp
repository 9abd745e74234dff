// The simd building blocks compiled for avx2 (this file alone gets the avx2 compiler flags).
#include "ops_tables.hpp"

namespace attn::simd {

ATTN_SIMD_TABLES(avx2, xsimd::fma3<xsimd::avx2>)

}  // namespace attn::simd
