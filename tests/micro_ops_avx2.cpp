// The micro-op probes compiled for avx2 (this file alone gets the avx2 compiler flags).
#include "micro_ops_impl.hpp"

namespace attn::testing {

ATTN_MICRO_OP_PROBES(avx2, xsimd::fma3<xsimd::avx2>)

}  // namespace attn::testing
