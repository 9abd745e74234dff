// Flash attention compiled for avx512 (this file alone gets the avx512 compiler flags).
#include "flash_impl.hpp"

namespace attn::flash {

ATTN_FLASH_TABLE(avx512, xsimd::avx512f)

}  // namespace attn::flash
