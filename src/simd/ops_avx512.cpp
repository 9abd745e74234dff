// The simd building blocks compiled for avx512 (this file alone gets the avx512 compiler flags).
#include "ops_tables.hpp"

namespace attn::simd {

ATTN_SIMD_TABLES(avx512, xsimd::avx512f)

}  // namespace attn::simd
