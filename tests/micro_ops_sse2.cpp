// The micro-op probes compiled for sse2 (this file alone gets the sse2 compiler flags).
#include "micro_ops_impl.hpp"

namespace attn::testing {

ATTN_MICRO_OP_PROBES(sse2, xsimd::sse2)

}  // namespace attn::testing
