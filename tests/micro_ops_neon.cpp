// The micro-op probes compiled for neon (this file alone gets the neon compiler flags).
#include "micro_ops_impl.hpp"

namespace attn::testing {

ATTN_MICRO_OP_PROBES(neon, xsimd::neon64)

}  // namespace attn::testing
