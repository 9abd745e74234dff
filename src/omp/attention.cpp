// The omp attention kernel: the simd body at the best ISA tier on Shape::threads OpenMP threads.
#include "kernels.hpp"
#include "simd/bodies.hpp"

namespace attn::kernels {

// Unfused attention by query blocks, one overload per storage type (16-bit inputs widened once);
// layouts as AttentionFn.
void attention_omp_best(const Shape& sh, const float* q, const float* k, const float* v, float* o) {
    simd::attention_body(Isa::best, sh.threads, sh, q, k, v, o);
}
void attention_omp_best(const Shape& sh, const bf16* q, const bf16* k, const bf16* v, float* o) {
    simd::attention_body(Isa::best, sh.threads, sh, q, k, v, o);
}
void attention_omp_best(const Shape& sh, const f16* q, const f16* k, const f16* v, float* o) {
    simd::attention_body(Isa::best, sh.threads, sh, q, k, v, o);
}

}  // namespace attn::kernels
