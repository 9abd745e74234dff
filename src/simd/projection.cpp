// The simd projection kernels: one thread, one entry per ISA tier and `best`, the widest tier the
// CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Y = X W over row blocks x column panels with the sse2 blocks; x [B * n_q][d_model],
// w [d_model][cols], y [B * n_q][cols].
void project_columns_simd_sse2(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                               float* y) {
    simd::projection_body(Isa::sse2, 1, sh, cols, x, w, y);
}
// As project_columns_simd_sse2, with the avx2 building blocks.
void project_columns_simd_avx2(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                               float* y) {
    simd::projection_body(Isa::avx2, 1, sh, cols, x, w, y);
}
// As project_columns_simd_sse2, with the avx512 building blocks.
void project_columns_simd_avx512(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                                 float* y) {
    simd::projection_body(Isa::avx512, 1, sh, cols, x, w, y);
}
// As project_columns_simd_sse2, with the widest tier this CPU has.
void project_columns_simd_best(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                               float* y) {
    simd::projection_body(Isa::best, 1, sh, cols, x, w, y);
}

// Y = X W over row blocks x column panels; layouts as ProjectionFn.
void projection_simd_sse2(const Shape& sh, const float* x, const float* w, float* y) {
    project_columns_simd_sse2(sh, sh.d_model(), x, w, y);
}
// As projection_simd_sse2, with the avx2 building blocks.
void projection_simd_avx2(const Shape& sh, const float* x, const float* w, float* y) {
    project_columns_simd_avx2(sh, sh.d_model(), x, w, y);
}
// As projection_simd_sse2, with the avx512 building blocks.
void projection_simd_avx512(const Shape& sh, const float* x, const float* w, float* y) {
    project_columns_simd_avx512(sh, sh.d_model(), x, w, y);
}
// As projection_simd_sse2, with the widest tier this CPU has.
void projection_simd_best(const Shape& sh, const float* x, const float* w, float* y) {
    project_columns_simd_best(sh, sh.d_model(), x, w, y);
}

}  // namespace attn::kernels
