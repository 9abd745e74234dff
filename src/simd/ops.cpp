#include "ops.hpp"

#include "bodies.hpp"
#include "kernels.hpp"

namespace attn::simd {

const GemmOps& gemm_ops(Isa isa) {
    return for_tier(isa, []<Isa I>() -> const GemmOps& { return gemm_ops_for<I>(); });
}
const SoftmaxOps& softmax_ops(Isa isa) {
    return for_tier(isa, []<Isa I>() -> const SoftmaxOps& { return softmax_ops_for<I>(); });
}
const ScoresOps& scores_ops(Isa isa) {
    return for_tier(isa, []<Isa I>() -> const ScoresOps& { return scores_ops_for<I>(); });
}
const WidenOps& widen_ops(Isa isa) {
    return for_tier(isa, []<Isa I>() -> const WidenOps& { return widen_ops_for<I>(); });
}
const LayerOps& layer_ops(Isa isa) {
    return for_tier(isa, []<Isa I>() -> const LayerOps& { return layer_ops_for<I>(); });
}

}  // namespace attn::simd

namespace attn::kernels {

Tiles simd_tiles(Isa isa) {
    if (!cpu_supports(isa)) return {};  // not tested here: no shapes to aim at
    const simd::GemmOps& gemm = simd::gemm_ops(isa);
    Tiles t;
    t.vector = simd::softmax_ops(isa).width;
    t.rows = gemm.mr, t.cols = gemm.nr, t.depth = gemm.kc;
    t.row_block = simd::kRowBlock;
    t.projection_block = simd::projection_rows(gemm.mr);
    t.projection_direct = gemm.direct_rows;
    t.projection_packed_x = simd::projection_packed_x_depth(gemm.mr);
    return t;
}

}  // namespace attn::kernels
