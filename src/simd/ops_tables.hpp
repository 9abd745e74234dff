// The simd function tables of one tier, filled from the templates; included only by the per-tier
// files ops_<tier>.cpp, each of which defines its tier's tables with ATTN_SIMD_TABLES.
#pragma once

#include "rows.hpp"

namespace attn::simd {
namespace {

template <class Arch> constexpr GemmOps make_gemm_ops() {
    using T = Tile<Arch>;
    return {T::MR, T::NR, T::KC, packed_size<Arch>, pack_b<Arch>, gemm_packed<Arch>};
}

template <class Arch> constexpr SoftmaxOps make_softmax_ops() {
    return {Tile<Arch>::W, kSoftmaxRowBuffer, softmax_rows<Arch>, exp_n<Arch>};
}

template <class Arch> constexpr ScoresOps make_scores_ops() {
    return {scores_rows<Arch>, row_norms<Arch>};
}

}  // namespace
}  // namespace attn::simd

// Defines gemm_ops_for<Isa::tier>() and its siblings from the templates compiled for Arch. The
// tables are constants, so that reading one (its tile sizes, say) runs no code of the tier.
#define ATTN_SIMD_TABLES(tier, Arch)                                  \
    template <> const GemmOps& gemm_ops_for<Isa::tier>() {            \
        static constexpr GemmOps table = make_gemm_ops<Arch>();       \
        return table;                                                 \
    }                                                                 \
    template <> const SoftmaxOps& softmax_ops_for<Isa::tier>() {      \
        static constexpr SoftmaxOps table = make_softmax_ops<Arch>(); \
        return table;                                                 \
    }                                                                 \
    template <> const ScoresOps& scores_ops_for<Isa::tier>() {        \
        static constexpr ScoresOps table = make_scores_ops<Arch>();   \
        return table;                                                 \
    }
