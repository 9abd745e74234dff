// The omp weighted_sum kernel: the simd body at the best ISA tier on Shape::threads OpenMP threads.
#include "kernels.hpp"
#include "simd/bodies.hpp"

namespace attn::kernels {

// O = P V, one overload per storage type (16-bit inputs widened once); layouts as WeightedSumFn.
void weighted_sum_omp_best(const Shape& sh, const float* p, const float* v, float* o) {
    simd::weighted_sum_body(Isa::best, sh.threads, sh, p, v, o);
}
void weighted_sum_omp_best(const Shape& sh, const bf16* p, const bf16* v, float* o) {
    simd::weighted_sum_body(Isa::best, sh.threads, sh, p, v, o);
}
void weighted_sum_omp_best(const Shape& sh, const f16* p, const f16* v, float* o) {
    simd::weighted_sum_body(Isa::best, sh.threads, sh, p, v, o);
}

}  // namespace attn::kernels
