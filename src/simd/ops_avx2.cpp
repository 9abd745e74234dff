// The simd building blocks compiled for avx2 (this file alone gets the avx2 compiler flags).
#include "ops_impl.hpp"

namespace attn::simd {

const Ops& ops_avx2() {
    static const Ops table = make_ops<xsimd::fma3<xsimd::avx2>>(Isa::avx2);
    return table;
}

}  // namespace attn::simd
