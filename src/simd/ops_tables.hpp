// The simd function tables of one tier, filled from the templates; included only by the per-tier
// files ops_<tier>.cpp, each of which defines its tier's tables with ATTN_SIMD_TABLES.
#pragma once

#include "layer_rows.hpp"
#include "rows.hpp"

namespace attn::simd {
namespace {

template <class Arch> constexpr GemmOps make_gemm_ops() {
    using T = Tile<Arch>;
    return {T::MR,
            T::NR,
            T::KC,
            T::DirectRows,
            packed_size<Arch>,
            pack_b<Arch>,
            gemm_packed<Arch>,
            pack_a<Arch>,
            gemm_tiles<Arch>,
            few_rows_product<Arch>,
            few_rows_product<Arch, bf16>,
            few_rows_product<Arch, f16>};
}

template <class Arch> constexpr SoftmaxOps make_softmax_ops() {
    return {Tile<Arch>::W, kSoftmaxRowBuffer, softmax_rows<Arch>, exp_n<Arch>};
}

template <class Arch> constexpr ScoresOps make_scores_ops() {
    return {scores_rows<Arch>, row_norms<Arch>};
}

template <class Arch> constexpr LayerOps make_layer_ops() {
    return {gelu_n<Arch>, silu_gate_n<Arch>, residual_norm_row<Arch>, add_n<Arch>,
            rotate_pairs_n<Arch>};
}

template <class Arch> constexpr WidenOps make_widen_ops() {
    return {widen_n<Arch, attn::bf16>, widen_n<Arch, attn::f16>};
}

}  // namespace
}  // namespace attn::simd

// Defines `const Type& getter<Isa::tier>()` returning a constant table made by `make`: constants,
// so that reading one (its tile sizes, say) runs no code of the tier. Shared by the simd and flash
// tables.
#define ATTN_CONSTANT_TABLE(Type, getter, tier, make) \
    template <> const Type& getter<Isa::tier>() {     \
        static constexpr Type table = make;           \
        return table;                                 \
    }

// Defines gemm_ops_for<Isa::tier>() and its siblings from the templates compiled for Arch.
#define ATTN_SIMD_TABLES(tier, Arch)                                                 \
    ATTN_CONSTANT_TABLE(GemmOps, gemm_ops_for, tier, make_gemm_ops<Arch>())          \
    ATTN_CONSTANT_TABLE(SoftmaxOps, softmax_ops_for, tier, make_softmax_ops<Arch>()) \
    ATTN_CONSTANT_TABLE(ScoresOps, scores_ops_for, tier, make_scores_ops<Arch>())    \
    ATTN_CONSTANT_TABLE(WidenOps, widen_ops_for, tier, make_widen_ops<Arch>())       \
    ATTN_CONSTANT_TABLE(LayerOps, layer_ops_for, tier, make_layer_ops<Arch>())
