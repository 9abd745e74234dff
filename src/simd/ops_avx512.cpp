// The simd building blocks compiled for avx512 (this file alone gets the avx512 compiler flags).
#include "ops_impl.hpp"

namespace attn::simd {

const Ops& ops_avx512() {
    static const Ops table = make_ops<xsimd::avx512f>(Isa::avx512);
    return table;
}

}  // namespace attn::simd
