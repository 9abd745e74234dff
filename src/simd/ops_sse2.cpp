// The simd building blocks compiled for sse2 (this file alone gets the sse2 compiler flags).
#include "ops_impl.hpp"

namespace attn::simd {

const Ops& ops_sse2() {
    static const Ops table = make_ops<xsimd::sse2>(Isa::sse2);
    return table;
}

}  // namespace attn::simd
