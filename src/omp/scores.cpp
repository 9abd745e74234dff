// The omp scores kernel: the simd body at the best ISA tier on Shape::threads OpenMP threads.
#include "kernels.hpp"
#include "simd/bodies.hpp"

namespace attn::kernels {

// Scores; layouts as ScoresFn (attn/stages.hpp).
void scores_omp_best(const Shape& sh, const float* q, const float* k, float* s) {
    simd::scores_body(Isa::best, sh.threads, sh, q, k, s);
}

}  // namespace attn::kernels
