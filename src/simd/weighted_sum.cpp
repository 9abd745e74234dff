// The simd weighted_sum kernels: one thread, one entry per ISA tier and `best`, the widest tier the
// CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// O = P V; layouts as WeightedSumFn.
void weighted_sum_simd_sse2(const Shape& sh, const float* p, const float* v, float* o) {
    simd::weighted_sum_body(Isa::sse2, 1, sh, p, v, o);
}
// As weighted_sum_simd_sse2, with the avx2 building blocks.
void weighted_sum_simd_avx2(const Shape& sh, const float* p, const float* v, float* o) {
    simd::weighted_sum_body(Isa::avx2, 1, sh, p, v, o);
}
// As weighted_sum_simd_sse2, with the avx512 building blocks.
void weighted_sum_simd_avx512(const Shape& sh, const float* p, const float* v, float* o) {
    simd::weighted_sum_body(Isa::avx512, 1, sh, p, v, o);
}
// As weighted_sum_simd_sse2, with the widest tier this CPU has.
void weighted_sum_simd_best(const Shape& sh, const float* p, const float* v, float* o) {
    simd::weighted_sum_body(Isa::best, 1, sh, p, v, o);
}

}  // namespace attn::kernels
