#include "ops.hpp"

namespace attn::simd {

const Ops& ops(Isa isa) {
    switch (isa == Isa::best || isa == Isa::scalar ? best_isa() : isa) {
        case Isa::avx512: return ops_avx512();
        case Isa::avx2: return ops_avx2();
        default: return ops_sse2();
    }
}

}  // namespace attn::simd
