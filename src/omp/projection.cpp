// The omp projection kernel: the simd body at the best ISA tier on Shape::threads OpenMP threads.
#include "kernels.hpp"
#include "simd/bodies.hpp"

namespace attn::kernels {

// Y = X W over row blocks x column panels; layouts as ProjectionFn.
void projection_omp(const Shape& sh, const float* x, const float* w, float* y) {
    simd::projection_body(Isa::best, sh.threads, sh, x, w, y);
}

}  // namespace attn::kernels
