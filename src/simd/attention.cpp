// The simd attention kernels: one thread, one entry per ISA tier and `best`, the widest tier the
// CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Unfused attention by query blocks; layouts as AttentionFn.
void attention_simd_sse2(const Shape& sh, const float* q, const float* k, const float* v,
                         float* o) {
    simd::attention_body(Isa::sse2, 1, sh, q, k, v, o);
}
// As attention_simd_sse2, with the avx2 building blocks.
void attention_simd_avx2(const Shape& sh, const float* q, const float* k, const float* v,
                         float* o) {
    simd::attention_body(Isa::avx2, 1, sh, q, k, v, o);
}
// As attention_simd_sse2, with the avx512 building blocks.
void attention_simd_avx512(const Shape& sh, const float* q, const float* k, const float* v,
                           float* o) {
    simd::attention_body(Isa::avx512, 1, sh, q, k, v, o);
}
// As attention_simd_sse2, with the widest tier this CPU has.
void attention_simd_best(const Shape& sh, const float* q, const float* k, const float* v,
                         float* o) {
    simd::attention_body(Isa::best, 1, sh, q, k, v, o);
}

}  // namespace attn::kernels
