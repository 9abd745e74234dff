// The simd softmax kernels softmax_simd_<tier>: one thread, one entry per ISA tier of
// attn/isa_tiers.inc and `best`, the widest tier the CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Row-wise softmax at each tier; layouts as SoftmaxFn (attn/stages.hpp).
#define ATTN_ISA(tier, flags, feature, feature2)                          \
    void softmax_simd_##tier(const Shape& sh, const float* s, float* p) { \
        simd::softmax_body(Isa::tier, 1, sh, s, p);                       \
    }
#include "attn/isa_tiers.inc"
ATTN_ISA(best, "", "", "")
#undef ATTN_ISA

}  // namespace attn::kernels
