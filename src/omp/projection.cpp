// The omp projection kernel: the simd body at the best ISA tier on Shape::threads OpenMP threads.
#include "kernels.hpp"
#include "simd/bodies.hpp"

namespace attn::kernels {

// Y = X W over row blocks x column panels on Shape::threads threads, one overload per storage
// type (16-bit inputs widened once); x [B * n_q][d_model], w [d_model][cols], y [B * n_q][cols].
void project_columns_omp(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                         float* y) {
    simd::projection_body(Isa::best, sh.threads, sh, cols, x, w, y);
}
void project_columns_omp(const Shape& sh, std::int64_t cols, const bf16* x, const bf16* w,
                         float* y) {
    simd::projection_body(Isa::best, sh.threads, sh, cols, x, w, y);
}
void project_columns_omp(const Shape& sh, std::int64_t cols, const f16* x, const f16* w, float* y) {
    simd::projection_body(Isa::best, sh.threads, sh, cols, x, w, y);
}

// project_columns_omp with x or y in the heads' layout [B][heads][n_q][head_dim].
void project_heads_omp(const Shape& sh, std::int64_t cols, const float* x, const float* w, float* y,
                       HeadsAt heads) {
    simd::projection_body(Isa::best, sh.threads, sh, cols, x, w, y, heads);
}

// Y = X W; layouts as ProjectionFn.
void projection_omp_best(const Shape& sh, const float* x, const float* w, float* y) {
    project_columns_omp(sh, sh.d_model(), x, w, y);
}
void projection_omp_best(const Shape& sh, const bf16* x, const bf16* w, float* y) {
    project_columns_omp(sh, sh.d_model(), x, w, y);
}
void projection_omp_best(const Shape& sh, const f16* x, const f16* w, float* y) {
    project_columns_omp(sh, sh.d_model(), x, w, y);
}

}  // namespace attn::kernels
