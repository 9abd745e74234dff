// Flash attention compiled for avx2 (this file alone gets the avx2 compiler flags).
#include "flash_impl.hpp"

namespace attn::flash {

ATTN_FLASH_TABLE(avx2, xsimd::fma3<xsimd::avx2>)

}  // namespace attn::flash
