// Declarations of every registered kernel and tile function, generated from src/kernels.inc so that
// a kernel's signature is fixed by its stage.
#pragma once

#include "attn/registry.hpp"

namespace attn::kernels {

// The tile sizes of each family at a tier (attn::Tiles): none for naive and openblas, the
// blocked kernels' fixed tiles, the simd micro-kernel's (also omp's), and flash's blocks.
Tiles no_tiles(Isa isa);
Tiles blocked_tiles(Isa isa);
Tiles simd_tiles(Isa isa);
Tiles flash_tiles(Isa isa);

#define ATTN_KERNEL(stage, variant, isa, parallel, fn, tiles) StageTraits<Stage::stage>::Fn fn;
#include "kernels.inc"
#undef ATTN_KERNEL

// Each projection variant's product with any number of output columns, which the multihead
// block needs for Wk and Wv under grouping: y [B * n_q][cols] = x [B * n_q][d_model]
// w [d_model][cols]; the registered projection kernel is the case cols = d_model.
void project_columns_naive(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                           float* y);
void project_columns_blocked(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                             float* y);
void project_columns_simd_sse2(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                               float* y);
void project_columns_simd_avx2(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                               float* y);
void project_columns_simd_avx512(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                                 float* y);
void project_columns_simd_best(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                               float* y);
void project_columns_omp(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                         float* y);

}  // namespace attn::kernels
