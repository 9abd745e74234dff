// The simd scores kernels: one thread, one entry per ISA tier and `best`, the widest tier the CPU
// has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Scores; layouts as ScoresFn (attn/stages.hpp).
void scores_simd_sse2(const Shape& sh, const float* q, const float* k, float* s) {
    simd::scores_body(Isa::sse2, 1, sh, q, k, s);
}
// As scores_simd_sse2, with the avx2 building blocks.
void scores_simd_avx2(const Shape& sh, const float* q, const float* k, float* s) {
    simd::scores_body(Isa::avx2, 1, sh, q, k, s);
}
// As scores_simd_sse2, with the avx512 building blocks.
void scores_simd_avx512(const Shape& sh, const float* q, const float* k, float* s) {
    simd::scores_body(Isa::avx512, 1, sh, q, k, s);
}
// As scores_simd_sse2, with the widest tier this CPU has.
void scores_simd_best(const Shape& sh, const float* q, const float* k, float* s) {
    simd::scores_body(Isa::best, 1, sh, q, k, s);
}

}  // namespace attn::kernels
