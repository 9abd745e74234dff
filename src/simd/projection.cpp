// The simd projection kernels: one thread, one entry per ISA tier and `best`, the widest tier the
// CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Y = X W over row blocks x column panels with the sse2 blocks; layouts as ProjectionFn.
void projection_simd_sse2(const Shape& sh, const float* x, const float* w, float* y) {
    simd::project_columns<Isa::sse2>(sh, sh.d_model(), x, w, y);
}
// As projection_simd_sse2, with the avx2 building blocks.
void projection_simd_avx2(const Shape& sh, const float* x, const float* w, float* y) {
    simd::project_columns<Isa::avx2>(sh, sh.d_model(), x, w, y);
}
// As projection_simd_sse2, with the avx512 building blocks.
void projection_simd_avx512(const Shape& sh, const float* x, const float* w, float* y) {
    simd::project_columns<Isa::avx512>(sh, sh.d_model(), x, w, y);
}
// As projection_simd_sse2, with the widest tier this CPU has.
void projection_simd_best(const Shape& sh, const float* x, const float* w, float* y) {
    simd::project_columns<Isa::best>(sh, sh.d_model(), x, w, y);
}

}  // namespace attn::kernels
