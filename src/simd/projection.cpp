// The simd projection kernels projection_simd_<tier>: one thread, one entry per ISA tier of
// attn/isa_tiers.inc and `best`, the widest tier the CPU has at run time (src/simd/bodies.cpp).
#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::kernels {

// Y = X W over row blocks x column panels at each tier, one overload per storage type; layouts as
// ProjectionFn (attn/stages.hpp).
#define ATTN_PROJECTION(tier, T)                                                     \
    void projection_simd_##tier(const Shape& sh, const T* x, const T* w, float* y) { \
        simd::project_columns<Isa::tier>(sh, sh.d_model(), x, w, y);                 \
    }
#define ATTN_ISA(tier, flags, feature, feature2) \
    ATTN_PROJECTION(tier, float) ATTN_PROJECTION(tier, bf16) ATTN_PROJECTION(tier, f16)
#include "attn/isa_tiers.inc"
ATTN_ISA(best, "", "", "")
#undef ATTN_ISA

}  // namespace attn::kernels
