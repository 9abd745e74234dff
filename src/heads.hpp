// The head split and concatenation of multi-head attention, for the kernels and the
// double-precision reference alike.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "attn/dtype.hpp"
#include "attn/shape.hpp"
#include "parallel.hpp"

namespace attn {

enum class HeadLayout { split, merge };

// Which operand of a projection Y = X W is in the heads' layout [B][heads][n][d] rather than in
// rows [B][n][heads * d]: neither, Y (Q, K and V, as attention reads them) or X (the heads'
// outputs, as the output projection reads them).
enum class HeadsAt { none, output, input };

// Where element (row, col) of the rows' layout [B * n][H * d] (row = b n + t, col = h d + c) sits
// in the heads' layout [B][H][n][d]: ((b H + h) n + t) d + c.
inline std::int64_t head_major_index(const Shape& sh, std::int64_t heads, std::int64_t row,
                                     std::int64_t col) {
    const std::int64_t n = sh.n_q, d = sh.head_dim;
    return ((row / n * heads + col / d) * n + row % n) * d + col % d;
}

// One run of n elements from `in` to `out`, rounded to the storage type Out when In is fp32 and
// Out one of the 16-bit types (the intermediate tensors of a 16-bit block).
template <class In, class Out> void copy_run(const In* in, std::int64_t n, Out* out) {
    if constexpr (std::is_same_v<In, Out>) std::copy_n(in, n, out);
    else
        for (std::int64_t c = 0; c < n; ++c) out[c] = from_float<Out>(in[c]);
}

// split: in [B][n][H][d] (the projection's row layout) -> out [B][H][n][d]; merge: the reverse;
// n = n_q, d = head_dim, H = `heads` (sh.heads for Q and the output, sh.kv_head_count() for K, V).
// Rows of tokens are shared among `threads` OpenMP threads.
template <class In, class Out> void permute_heads(const Shape& sh, std::int64_t heads, const In* in,
                                                  Out* out, HeadLayout to, int threads = 1) {
    const std::int64_t n = sh.n_q, d = sh.head_dim, H = heads, tokens = sh.batch * n;
    parallel_region(threads, [&] {
#pragma omp for schedule(static) nowait
        for (std::int64_t bt = 0; bt < tokens; ++bt) {
            for (std::int64_t h = 0; h < H; ++h) {
                const std::int64_t token_major = (bt * H + h) * d,
                                   head_major = head_major_index(sh, H, bt, h * d);
                if (to == HeadLayout::split) copy_run(in + token_major, d, out + head_major);
                else copy_run(in + head_major, d, out + token_major);
            }
        }
    });
}

}  // namespace attn
