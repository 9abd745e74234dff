// The simd variant of every stage, one entry per ISA tier and one (`best`) that takes the
// widest tier the CPU has at run time; all single-threaded.
#include "bodies.hpp"
#include "kernels.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

#define ATTN_SIMD_KERNELS(tier)                                                                              \
    void scores_simd_##tier(const Shape& sh, const float* q, const float* k, float* s) {                     \
        simd::scores_body(simd::ops(Isa::tier), 1, sh, q, k, s);                                             \
    }                                                                                                        \
    void softmax_simd_##tier(const Shape& sh, const float* s, float* p) {                                    \
        simd::softmax_body(simd::ops(Isa::tier), 1, sh, s, p);                                               \
    }                                                                                                        \
    void weighted_sum_simd_##tier(const Shape& sh, const float* p, const float* v, float* o) {               \
        simd::weighted_sum_body(simd::ops(Isa::tier), 1, sh, p, v, o);                                       \
    }                                                                                                        \
    void attention_simd_##tier(const Shape& sh, const float* q, const float* k, const float* v, float* o) {  \
        simd::attention_body(simd::ops(Isa::tier), 1, sh, q, k, v, o);                                       \
    }                                                                                                        \
    void projection_simd_##tier(const Shape& sh, const float* x, const float* w, float* y) {                 \
        simd::projection_body(simd::ops(Isa::tier), 1, sh, x, w, y);                                         \
    }                                                                                                        \
    void multihead_simd_##tier(const Shape& sh, const float* x, const MhaWeights& w, float* y) {             \
        multihead_chain(sh, x, w, y, projection_simd_##tier, attention_simd_##tier);                          \
    }

// Each function: the stage's signature and layout (attn/stages.hpp), computed with that tier.
ATTN_SIMD_KERNELS(sse2)
ATTN_SIMD_KERNELS(avx2)
ATTN_SIMD_KERNELS(avx512)
ATTN_SIMD_KERNELS(best)

#undef ATTN_SIMD_KERNELS

}  // namespace attn::kernels
