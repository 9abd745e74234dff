// The AMX tile peak loop (tdpbf16ps); this file alone is compiled with -mamx-tile -mamx-bf16 and
// runs only where attn::best_has_amx_bf16().
#include <immintrin.h>

#include <cstdint>

#include "attn/dtype.hpp"
#include "attn/isa.hpp"
#include "peak.hpp"

namespace attnbench {

float amx_peak_loop(std::int64_t iters, float a, float b) {
    // Every A and B tile holds one bf16 value (a and b rounded, exact for powers of two):
    // tdpbf16ps does the same work whatever the values.
    alignas(64) std::uint16_t tile_a[16 * 32], tile_b[16 * 32];
    const std::uint16_t a_bits = attn::from_float<attn::bf16>(a).bits,
                        b_bits = attn::from_float<attn::bf16>(b).bits;
    for (int i = 0; i < 16 * 32; ++i) tile_a[i] = a_bits, tile_b[i] = b_bits;
    attn::amx_configure_tiles();
    _tile_loadd(4, tile_a, 64);
    _tile_loadd(5, tile_a, 64);
    _tile_loadd(6, tile_b, 64);
    _tile_loadd(7, tile_b, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    // Four independent C tiles, two A by two B tiles, as the library's AMX products step.
    for (std::int64_t i = 0; i < iters; ++i) {
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    alignas(64) float c[4][16 * 16];
    _tile_stored(0, c[0], 64);
    _tile_stored(1, c[1], 64);
    _tile_stored(2, c[2], 64);
    _tile_stored(3, c[3], 64);
    attn::amx_release_tiles();
    float sum = 0;
    for (const auto& tile : c) sum += tile[0] + tile[255];
    return sum;
}

}  // namespace attnbench
