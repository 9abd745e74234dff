// The simd softmax kernels: one thread, one entry per ISA tier and `best`, the widest tier the CPU
// has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Row-wise softmax; layouts as SoftmaxFn.
void softmax_simd_sse2(const Shape& sh, const float* s, float* p) {
    simd::softmax_body(Isa::sse2, 1, sh, s, p);
}
// As softmax_simd_sse2, with the avx2 building blocks.
void softmax_simd_avx2(const Shape& sh, const float* s, float* p) {
    simd::softmax_body(Isa::avx2, 1, sh, s, p);
}
// As softmax_simd_sse2, with the avx512 building blocks.
void softmax_simd_avx512(const Shape& sh, const float* s, float* p) {
    simd::softmax_body(Isa::avx512, 1, sh, s, p);
}
// As softmax_simd_sse2, with the widest tier this CPU has.
void softmax_simd_best(const Shape& sh, const float* s, float* p) {
    simd::softmax_body(Isa::best, 1, sh, s, p);
}

}  // namespace attn::kernels
