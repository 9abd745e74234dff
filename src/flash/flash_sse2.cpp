// Flash attention compiled for sse2 (this file alone gets the sse2 compiler flags).
#include "flash_impl.hpp"

namespace attn::flash {

ATTN_FLASH_TABLE(sse2, xsimd::sse2)

}  // namespace attn::flash
