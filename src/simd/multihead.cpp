// The simd multihead kernels multihead_simd_<tier>: the multi-head block from the simd projection
// and attention of each tier of attn/isa_tiers.inc and `best` (src/multihead_chain.cpp).
#include "bodies.hpp"
#include "kernels.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

// Self-attention block at each tier; x, y [B][n][d_model], layouts as MultiheadFn
// (attn/stages.hpp).
#define ATTN_ISA(tier, flags, feature, feature2)                                                 \
    void multihead_simd_##tier(const Shape& sh, const float* x, const MhaWeights& w, float* y) { \
        multihead_chain(sh, x, w, y, simd::project_columns<Isa::tier>, attention_simd_##tier, 1, \
                        simd::project_heads<Isa::tier>);                                         \
    }
#include "attn/isa_tiers.inc"
ATTN_ISA(best, "", "", "")
#undef ATTN_ISA

}  // namespace attn::kernels
