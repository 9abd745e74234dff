// The omp softmax kernel: the simd body at the best ISA tier on Shape::threads OpenMP threads.
#include "kernels.hpp"
#include "simd/bodies.hpp"

namespace attn::kernels {

// Row-wise softmax; layouts as SoftmaxFn.
void softmax_omp_best(const Shape& sh, const float* s, float* p) {
    simd::softmax_body(Isa::best, sh.threads, sh, s, p);
}

}  // namespace attn::kernels
