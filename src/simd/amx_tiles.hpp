// The step every AMX product here repeats, on the tile layout of amx_configure_tiles (C tiles 0-3,
// A tiles 4-5, B tiles 6-7): two A tiles times two B tiles into the four C tiles of a 32 x 32
// block. Included only by the *_amx.cpp files, the ones built with -mamx-tile -mamx-bf16.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "amx.hpp"

namespace attn::simd {

// C tiles 0-3 += A0 B0, A0 B1, A1 B0, A1 B1 (tdpbf16ps): a0, a1 two A tiles of kAmxRows rows of
// kAmxSpan bf16 (rows a_stride bytes apart), b0, b1 two B tiles of kAmxSpan / 2 pairs by kAmxRows
// columns (rows b_stride bytes apart).
inline void amx_step(const void* a0, const void* a1, std::int64_t a_stride, const void* b0,
                     const void* b1, std::int64_t b_stride) {
    _tile_loadd(4, a0, a_stride);
    _tile_loadd(5, a1, a_stride);
    _tile_loadd(6, b0, b_stride);
    _tile_loadd(7, b1, b_stride);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
}

// Clears C tiles 0-3.
inline void amx_zero_block() {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
}

// C tiles 0-3 from / into the fp32 block of 2 kAmxRows x 2 kAmxRows at c (rows ldc floats apart),
// tile 0 at its top left, 1 top right, 2 bottom left, 3 bottom right.
inline void amx_load_block(const float* c, std::int64_t ldc) {
    const std::int64_t bytes = ldc * std::int64_t(sizeof(float));
    _tile_loadd(0, c, bytes);
    _tile_loadd(1, c + kAmxRows, bytes);
    _tile_loadd(2, c + kAmxRows * ldc, bytes);
    _tile_loadd(3, c + kAmxRows * ldc + kAmxRows, bytes);
}
inline void amx_store_block(float* c, std::int64_t ldc) {
    const std::int64_t bytes = ldc * std::int64_t(sizeof(float));
    _tile_stored(0, c, bytes);
    _tile_stored(1, c + kAmxRows, bytes);
    _tile_stored(2, c + kAmxRows * ldc, bytes);
    _tile_stored(3, c + kAmxRows * ldc + kAmxRows, bytes);
}

}  // namespace attn::simd
