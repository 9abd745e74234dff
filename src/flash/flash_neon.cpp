// Flash attention compiled for neon (this file alone gets the neon compiler flags).
#include "flash_impl.hpp"

namespace attn::flash {

ATTN_FLASH_TABLE(neon, xsimd::neon64)

}  // namespace attn::flash
