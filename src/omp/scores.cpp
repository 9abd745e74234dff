// The omp scores kernel: the simd body at the best ISA tier on Shape::threads OpenMP threads.
#include "kernels.hpp"
#include "simd/bodies.hpp"

namespace attn::kernels {

// Scores, one overload per storage type (16-bit inputs widened once); layouts as ScoresFn
// (attn/stages.hpp).
void scores_omp_best(const Shape& sh, const float* q, const float* k, float* s) {
    simd::scores_body(Isa::best, sh.threads, sh, q, k, s);
}
void scores_omp_best(const Shape& sh, const bf16* q, const bf16* k, float* s) {
    simd::scores_body(Isa::best, sh.threads, sh, q, k, s);
}
void scores_omp_best(const Shape& sh, const f16* q, const f16* k, float* s) {
    simd::scores_body(Isa::best, sh.threads, sh, q, k, s);
}

}  // namespace attn::kernels
