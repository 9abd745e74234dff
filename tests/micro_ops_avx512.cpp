// The micro-op probes compiled for avx512 (this file alone gets the avx512 compiler flags).
#include "micro_ops_impl.hpp"

namespace attn::testing {

ATTN_MICRO_OP_PROBES(avx512, xsimd::avx512f)

}  // namespace attn::testing
