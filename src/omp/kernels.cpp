// The omp variant of every stage: the simd bodies at the best ISA tier, parallelised with OpenMP
// over batch x heads x row blocks using Shape::threads threads (not only OMP_NUM_THREADS).
#include "simd/bodies.hpp"
#include "kernels.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

// Scores for every head; layouts as ScoresFn.
void scores_omp(const Shape& sh, const float* q, const float* k, float* s) {
    simd::scores_body(simd::ops(Isa::best), sh.threads, sh, q, k, s);
}
// Row-wise softmax; layouts as SoftmaxFn.
void softmax_omp(const Shape& sh, const float* s, float* p) {
    simd::softmax_body(simd::ops(Isa::best), sh.threads, sh, s, p);
}
// O = P V for every head; layouts as WeightedSumFn.
void weighted_sum_omp(const Shape& sh, const float* p, const float* v, float* o) {
    simd::weighted_sum_body(simd::ops(Isa::best), sh.threads, sh, p, v, o);
}
// Unfused attention by query blocks; layouts as AttentionFn.
void attention_omp(const Shape& sh, const float* q, const float* k, const float* v, float* o) {
    simd::attention_body(simd::ops(Isa::best), sh.threads, sh, q, k, v, o);
}
// Y = X W over row blocks x column panels; layouts as ProjectionFn.
void projection_omp(const Shape& sh, const float* x, const float* w, float* y) {
    simd::projection_body(simd::ops(Isa::best), sh.threads, sh, x, w, y);
}
// Multi-head block from the omp projection and omp attention; layouts as MultiheadFn.
void multihead_omp(const Shape& sh, const float* x, const MhaWeights& w, float* y) {
    multihead_chain(sh, x, w, y, projection_omp, attention_omp);
}

}  // namespace attn::kernels
