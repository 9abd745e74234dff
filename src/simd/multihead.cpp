// The simd multihead kernels multihead_simd_<tier>: the multi-head block from the simd projection
// and attention of each tier of attn/isa_tiers.inc and `best` (src/multihead_chain.cpp).
#include "bodies.hpp"
#include "kernels.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

// Self-attention block at each tier; x, y [B][n][d_model], layouts as MultiheadFn
// (attn/stages.hpp); x and the weights stored as the overload's type (16-bit: Q, K, V and the
// heads' outputs too).
#define ATTN_MULTIHEAD_16(tier, T)                                                                \
    void multihead_simd_##tier(const Shape& sh, const T* x, const MhaWeightsOf<T>& w, float* y) { \
        multihead_chain<T>(sh, x, w, y, simd::project_columns<Isa::tier, T>,                      \
                           attention_simd_##tier, 1);                                             \
    }
#define ATTN_ISA(tier, flags, feature, feature2)                                                 \
    void multihead_simd_##tier(const Shape& sh, const float* x, const MhaWeights& w, float* y) { \
        multihead_chain(sh, x, w, y, simd::project_columns<Isa::tier, float>,                    \
                        attention_simd_##tier, 1, simd::project_heads<Isa::tier>);               \
    }                                                                                            \
    ATTN_MULTIHEAD_16(tier, bf16) ATTN_MULTIHEAD_16(tier, f16)
#include "attn/isa_tiers.inc"
ATTN_ISA(best, "", "", "")
#undef ATTN_ISA

}  // namespace attn::kernels
