// Stage bodies shared by the simd (one thread, one ISA) and omp (many threads, best ISA)
// variants: the same loops over batch x heads x row blocks with the building blocks of tier
// `isa`, parallelised with OpenMP when `threads` > 1. Layouts are those of attn/stages.hpp.
#pragma once

#include <algorithm>
#include <type_traits>

#include "amx.hpp"
#include "dot_projection.hpp"
#include "heads.hpp"

#include "attn/stages.hpp"
#include "ops.hpp"
#include "workspace.hpp"

namespace attn::simd {

// ceil(n / b): the blocks of b that cover n.
inline constexpr i64 blocks(i64 n, i64 b) { return (n + b - 1) / b; }
// The columns of each of projection_body's column panels of an n-column product packed in strips
// of `strip` columns: equal panels of whole strips, about 256 columns each and as many as a
// multiple of the threads where the columns allow.
inline constexpr i64 projection_panel(i64 n, i64 strip, int threads) {
    constexpr i64 kPanel = 256;
    const i64 strips = blocks(n, strip);
    const i64 panels = std::min(strips, blocks(blocks(n, kPanel), threads) * threads);
    return blocks(strips, panels) * strip;
}
// Query rows per task of the unfused kernels: a 64 x n_kv score block stays in L2 up to
// n_kv ~ 4096, and 64 is a multiple of every micro-tile height.
inline constexpr i64 kRowBlock = 64;
// The most rows per task of projection_body: 16 heights of the micro-tile (mr rows), so that each
// slice of a packed strip, loaded into L1 by a block's first tile, serves up to 16 tiles.
inline constexpr i64 projection_rows(i64 mr) { return 16 * mr; }
// Whether projection_body's micro-kernel reads the rows of X (k floats apart) in place rather
// than packed: unless more than half of the mr rows it broadcasts from at one k step lie in
// distinct lines of one L1 set (x86's L1 data caches have 64 sets of 64-byte lines, 4 KiB a way;
// Arm's as many or more), as at d_model 1024, 2048 or 4096, where those lines then compete for
// the ways the strip of W needs (in place there: 0.86-0.93x the speed packed).
inline constexpr bool x_rows_in_place(i64 k, i64 mr) {
    constexpr i64 kLine = 64, kSets = 64;
    auto line = [&](i64 r) { return r * k * i64(sizeof(float)) / kLine; };
    i64 most = 0;
    for (i64 r = 0; r < mr; ++r) {
        i64 sharing = 0;
        for (i64 s = 0; s < mr; ++s)
            sharing += (s == 0 || line(s) != line(s - 1)) && line(s) % kSets == line(r) % kSets;
        most = sharing > most ? sharing : most;
    }
    return most <= mr / 2;
}
// The smallest depth k at which projection_body packs X (x_rows_in_place is false).
inline constexpr i64 projection_packed_x_depth(i64 mr) {
    i64 k = 1;
    while (x_rows_in_place(k, mr)) ++k;
    return k;
}

// S = Q K^T * scale (or cosine) with the mask; q [B][H][n_q][d], k [B][kv_heads][n_kv][d] -> s
// [B][H][n_q][n_kv].
void scores_body(Isa isa, int threads, const Shape& sh, const float* q, const float* k, float* s);
// Row-wise softmax; s, p [B][H][n_q][n_kv], p may equal s.
void softmax_body(Isa isa, int threads, const Shape& sh, const float* s, float* p);
// O = P V; p [B][H][n_q][n_kv], v [B][kv_heads][n_kv][d] -> o [B][H][n_q][d].
void weighted_sum_body(Isa isa, int threads, const Shape& sh, const float* p, const float* v,
                       float* o);
// Unfused attention: per block of query rows, scores, softmax and P V through a score block
// that stays in cache; q, o [B][H][n_q][d], k, v [B][kv_heads][n_kv][d].
void attention_body(Isa isa, int threads, const Shape& sh, const float* q, const float* k,
                    const float* v, float* o);
// Y = X W; x [B * n_q][d_model], w [d_model][cols], y [B * n_q][cols], or one of them in the
// heads' layout [B][heads][n_q][head_dim] (`heads`, src/heads.hpp).
void projection_body(Isa isa, int threads, const Shape& sh, i64 cols, const float* x,
                     const float* w, float* y, HeadsAt heads = HeadsAt::none);
// The same product with one operand in the heads' layout (a ProjectHeadsFn).
template <Isa I> void project_heads(const Shape& sh, i64 cols, const float* x, const float* w,
                                    float* y, HeadsAt heads) {
    projection_body(I, 1, sh, cols, x, w, y, heads);
}

// x [n] stored as T as fp32: x itself when T is float, else x widened exactly at tier `isa` on
// `threads` threads into the calling thread's workspace `slot` (valid until its next use).
template <class T> const float* widened(Isa isa, int threads, const T* x, i64 n, Slot slot);
template <> inline const float* widened(Isa, int, const float* x, i64, Slot) { return x; }

// The bodies on 16-bit storage T: the inputs widened once at the tier (their n d elements against
// the products' n^2 d multiply-adds), then the fp32 body; layouts as the fp32 ones.
template <class T>
void scores_body(Isa isa, int threads, const Shape& sh, const T* q, const T* k, float* s) {
    scores_body(isa, threads, sh, widened(isa, threads, q, i64(sh.q_elems()), Slot::widened_a),
                widened(isa, threads, k, i64(sh.kv_elems()), Slot::widened_b), s);
}
template <class T>
void weighted_sum_body(Isa isa, int threads, const Shape& sh, const T* p, const T* v, float* o) {
    weighted_sum_body(isa, threads, sh,
                      widened(isa, threads, p, i64(sh.score_elems()), Slot::widened_a),
                      widened(isa, threads, v, i64(sh.kv_elems()), Slot::widened_b), o);
}
template <class T> void attention_body(Isa isa, int threads, const Shape& sh, const T* q,
                                       const T* k, const T* v, float* o) {
    attention_body(isa, threads, sh, widened(isa, threads, q, i64(sh.q_elems()), Slot::widened_a),
                   widened(isa, threads, k, i64(sh.kv_elems()), Slot::widened_b),
                   widened(isa, threads, v, i64(sh.kv_elems()), Slot::widened_c), o);
}
// Y [m x n] = X [m x k] W [k x n], W row-major stored as TW, for m up to GemmOps::direct_rows
// (decoding's few tokens): W read once in place, widened as it loads, in one span of columns per
// thread.
template <class TW> void few_rows_projection(Isa isa, int threads, i64 m, i64 n, i64 k,
                                             const float* x, const TW* w, float* y);
// On 16-bit storage, X is widened once; W too, except for few rows of X, where the product reads
// W once and widening it first would triple the bytes. bf16 on a CPU with AMX multiplies tiles of
// X and W as stored instead (amx.hpp), past the few rows, and where vdpbf16ps pays, pairs of them
// (dot_projection.hpp).
template <class T> void projection_body(Isa isa, int threads, const Shape& sh, i64 cols, const T* x,
                                        const T* w, float* y) {
    const i64 m = sh.batch * sh.n_q, k = sh.d_model();
    if constexpr (std::is_same_v<T, bf16>)
        if (m > gemm_ops(isa).direct_rows && amx_serves(isa)) {
            amx_projection(threads, m, cols, k, x, w, y);
            return;
        }
    if constexpr (std::is_same_v<T, bf16>)
        if (m > gemm_ops(isa).direct_rows && dot_projection_serves(isa)) {
            dot_projection(threads, m, cols, k, x, w, y);
            return;
        }
    const float* xw = widened(isa, threads, x, m * k, Slot::widened_a);
    if (m <= gemm_ops(isa).direct_rows) {
        few_rows_projection(isa, threads, m, cols, k, xw, w, y);
        return;
    }
    projection_body(isa, threads, sh, cols, xw, widened(isa, threads, w, k * cols, Slot::widened_b),
                    y);
}
// projection_body at tier I on one thread, as the simd kernels of that tier project (a
// ProjectColumnsFnOf<T> for the multihead block).
template <Isa I, class T>
void project_columns(const Shape& sh, i64 cols, const T* x, const T* w, float* y) {
    projection_body(I, 1, sh, cols, x, w, y);
}

// K^T of K/V head g (k = d rows, n = n_kv columns, by GemmOps::pack_b) from k
// [B][kv_heads][n_kv][d] into out, which holds key_head_floats(gemm, sh) floats, 64-byte aligned.
void pack_key_head(const GemmOps& gemm, const Shape& sh, const float* k, i64 g, float* out);
i64 key_head_floats(const GemmOps& gemm, const Shape& sh);
// V of K/V head g (k = n_kv rows, n = d columns) from v [B][kv_heads][n_kv][d] into out, which
// holds value_head_floats(gemm, sh) floats, 64-byte aligned.
void pack_value_head(const GemmOps& gemm, const Shape& sh, const float* v, i64 g, float* out);
i64 value_head_floats(const GemmOps& gemm, const Shape& sh);
// One packed matrix per K/V head, all side by side in a workspace slot; head(Shape::kv_head_of(h))
// is what query head h reads.
struct PackedHeads {
    float* data = nullptr;
    i64 per_head = 0;
    const float* head(i64 h) const { return data + h * per_head; }
};
// K^T of every K/V head (pack_key_head), on `threads` threads.
PackedHeads pack_keys(const GemmOps& gemm, int threads, const Shape& sh, const float* k);
// V of every K/V head (pack_value_head), on `threads` threads.
PackedHeads pack_values(const GemmOps& gemm, int threads, const Shape& sh, const float* v);
// Key norms of every K/V head for cosine similarity (no data for dot, where they are unused).
struct KeyNorms {
    const float* data = nullptr;
    i64 n_kv;
    KeyNorms(const ScoresOps& ops, const Shape& sh, const float* k);
    const float* head(i64 h) const { return data ? data + h * n_kv : nullptr; }
};

}  // namespace attn::simd
