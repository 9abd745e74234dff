// Declarations of every registered kernel and tile function, generated from src/kernels.inc so that
// a kernel's signature is fixed by its stage.
#pragma once

#include "attn/registry.hpp"
#include "multihead_chain.hpp"

namespace attn::kernels {

// The tile sizes of each family at a tier (attn::Tiles): none for naive, openblas and onednn, the
// blocked kernels' fixed tiles, the simd micro-kernel's (also omp's), and flash's blocks.
Tiles no_tiles(Isa isa);
Tiles blocked_tiles(Isa isa);
Tiles simd_tiles(Isa isa);
Tiles flash_tiles(Isa isa);

#define ATTN_KERNEL(stage, variant, isa, dtype, threading, fn, tiles) \
    StageTraits<Stage::stage, storage_t<DType::dtype>>::Fn fn;
#include "kernels.inc"
#undef ATTN_KERNEL

// Each projection variant's product with any number of output columns, which the multihead
// block needs for Wk and Wv under grouping (the registered projection kernel is the case
// cols = d_model); simd's per-tier ones are simd::project_columns<tier> (src/simd/bodies.hpp).
ProjectColumnsFn project_columns_naive, project_columns_blocked, project_columns_omp;
ProjectColumnsFnOf<bf16> project_columns_naive;
ProjectColumnsFnOf<f16> project_columns_naive;
ProjectColumnsFnOf<bf16> project_columns_omp;
ProjectColumnsFnOf<f16> project_columns_omp;
// The omp projection writing the heads' layout (simd's: simd::project_heads<tier>).
ProjectHeadsFn project_heads_omp;
#ifdef ATTN_HAVE_ONEDNN
ProjectColumnsFn project_columns_onednn;
ProjectColumnsFnOf<bf16> project_columns_onednn;
#endif

}  // namespace attn::kernels
