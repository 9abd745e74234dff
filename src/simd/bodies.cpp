#include "bodies.hpp"

#include <algorithm>

#include "attn/workload.hpp"

namespace attn::simd {

namespace {

// Query rows per task of the unfused kernels: a 64 x n_kv score block stays in L2 up to
// n_kv ~ 4096, and 64 is a multiple of every micro-tile height.
constexpr i64 kRowBlock = 64;

i64 blocks(i64 n, i64 b) { return (n + b - 1) / b; }

// K^T of every head packed for the score product (k = d, n = n_kv), one head per slot.
struct PackedHeads {
    Buffer data;
    i64 per_head;
    PackedHeads(const Ops& ops, int threads, const Shape& sh, const float* x, i64 rows, i64 cols, bool transposed)
        : data(std::size_t(sh.batch * sh.heads * ops.packed_size(rows, cols)), 0),
          per_head(ops.packed_size(rows, cols)) {
        const i64 bh = sh.batch * sh.heads, src = (transposed ? cols : rows) * (transposed ? rows : cols);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
        for (i64 h = 0; h < bh; ++h)
            ops.pack_b(rows, cols, x + h * src, transposed ? rows : cols, transposed, data.data() + h * per_head);
    }
    const float* head(i64 h) const { return data.data() + h * per_head; }
};

// K^T per head: rows = d, cols = n_kv, from K [n_kv x d].
PackedHeads pack_keys(const Ops& ops, int threads, const Shape& sh, const float* k) {
    return PackedHeads(ops, threads, sh, k, sh.head_dim, sh.n_kv, true);
}
// V per head: rows = n_kv, cols = d.
PackedHeads pack_values(const Ops& ops, int threads, const Shape& sh, const float* v) {
    return PackedHeads(ops, threads, sh, v, sh.n_kv, sh.head_dim, false);
}

// Key norms of every head, for cosine similarity (empty otherwise).
Buffer key_norms(const Ops& ops, const Shape& sh, const float* k) {
    if (sh.similarity != Similarity::cosine) return Buffer(0, 0);
    Buffer norms(std::size_t(sh.batch * sh.heads * sh.n_kv), 0);
    ops.row_norms(k, sh.batch * sh.heads * sh.n_kv, sh.head_dim, norms.data());
    return norms;
}

}  // namespace

void scores_body(const Ops& ops, int threads, const Shape& sh, const float* q, const float* k, float* s) {
    const PackedHeads kp = pack_keys(ops, threads, sh, k);
    const Buffer kn = key_norms(ops, sh, k);
    const i64 nb = blocks(sh.n_q, kRowBlock), tasks = sh.batch * sh.heads * nb;
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1)
    for (i64 t = 0; t < tasks; ++t) {
        const i64 h = t / nb, i0 = (t % nb) * kRowBlock, i1 = std::min(sh.n_q, i0 + kRowBlock);
        ops.scores_rows(sh, q + h * sh.n_q * sh.head_dim, kp.head(h), kn.data() + (kn.size() ? h * sh.n_kv : 0),
                        s + (h * sh.n_q + i0) * sh.n_kv, i0, i1);
    }
}

void softmax_body(const Ops& ops, int threads, const Shape& sh, const float* s, float* p) {
    const i64 rows = sh.batch * sh.heads * sh.n_q, tasks = blocks(rows, kRowBlock);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (i64 t = 0; t < tasks; ++t) {
        const i64 r0 = t * kRowBlock, r1 = std::min(rows, r0 + kRowBlock);
        ops.softmax_rows(sh.n_kv, s + r0 * sh.n_kv, p + r0 * sh.n_kv, r1 - r0);
    }
}

void weighted_sum_body(const Ops& ops, int threads, const Shape& sh, const float* p, const float* v, float* o) {
    const PackedHeads vp = pack_values(ops, threads, sh, v);
    const i64 nb = blocks(sh.n_q, kRowBlock), tasks = sh.batch * sh.heads * nb, d = sh.head_dim;
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1)
    for (i64 t = 0; t < tasks; ++t) {
        const i64 h = t / nb, i0 = (t % nb) * kRowBlock, i1 = std::min(sh.n_q, i0 + kRowBlock);
        // P is an input here: even under a causal mask every key is summed, as O = P V reads.
        ops.gemm_packed(i1 - i0, d, sh.n_kv, 1.0f, p + (h * sh.n_q + i0) * sh.n_kv, sh.n_kv, vp.head(h),
                        sh.n_kv * ops.nr, o + (h * sh.n_q + i0) * d, d, false);
    }
}

void attention_body(const Ops& ops, int threads, const Shape& sh, const float* q, const float* k, const float* v,
                    float* o) {
    const PackedHeads kp = pack_keys(ops, threads, sh, k), vp = pack_values(ops, threads, sh, v);
    const Buffer kn = key_norms(ops, sh, k);
    const i64 nb = blocks(sh.n_q, kRowBlock), tasks = sh.batch * sh.heads * nb, d = sh.head_dim, n = sh.n_kv;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        Buffer block(std::size_t(kRowBlock * n), 0);
#pragma omp for schedule(dynamic)
        for (i64 t = 0; t < tasks; ++t) {
            const i64 h = t / nb, i0 = (t % nb) * kRowBlock, i1 = std::min(sh.n_q, i0 + kRowBlock);
            ops.scores_rows(sh, q + h * sh.n_q * d, kp.head(h), kn.data() + (kn.size() ? h * n : 0), block.data(),
                            i0, i1);
            ops.softmax_rows(n, block.data(), block.data(), i1 - i0);
            ops.gemm_packed(i1 - i0, d, sh.visible_keys(i1 - 1), 1.0f, block.data(), n, vp.head(h), n * ops.nr,
                            o + (h * sh.n_q + i0) * d, d, false);
        }
    }
}

void projection_body(const Ops& ops, int threads, const Shape& sh, const float* x, const float* w, float* y) {
    const i64 m = sh.batch * sh.n_q, n = sh.d_model();
    Buffer wp(std::size_t(ops.packed_size(n, n)), 0);
    const i64 strips = blocks(n, ops.nr);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (i64 s = 0; s < strips; ++s)  // each strip packs independently
        ops.pack_b(n, std::min<i64>(ops.nr, n - s * ops.nr), w + s * ops.nr, n, false, wp.data() + s * n * ops.nr);
    // Tasks are row blocks x column panels so that two threads share work even when m is small.
    constexpr i64 kPanel = 256;
    const i64 panels = blocks(n, kPanel), nb = blocks(m, kRowBlock), tasks = nb * panels;
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1)
    for (i64 t = 0; t < tasks; ++t) {
        const i64 i0 = (t / panels) * kRowBlock, i1 = std::min(m, i0 + kRowBlock);
        const i64 j0 = (t % panels) * kPanel, j1 = std::min(n, j0 + kPanel);
        ops.gemm_packed(i1 - i0, j1 - j0, n, 1.0f, x + i0 * n, n, wp.data() + (j0 / ops.nr) * n * ops.nr, n * ops.nr,
                        y + i0 * n + j0, n, false);
    }
}

void flash_body(const Ops& ops, int threads, const Shape& sh, const float* q, const float* k, const float* v,
                float* o) {
    const PackedHeads kp = pack_keys(ops, threads, sh, k), vp = pack_values(ops, threads, sh, v);
    const Buffer kn = key_norms(ops, sh, k);
    const i64 bq = ops.flash_block_q, nb = blocks(sh.n_q, bq), tasks = sh.batch * sh.heads * nb, d = sh.head_dim;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        Buffer scratch(std::size_t(ops.flash_scratch(d)), 0);
        // Causal blocks near the end of a head carry the most keys: dynamic scheduling evens it out.
#pragma omp for schedule(dynamic)
        for (i64 t = 0; t < tasks; ++t) {
            const i64 h = t / nb, i0 = (t % nb) * bq, i1 = std::min(sh.n_q, i0 + bq);
            ops.flash_rows(sh, q + h * sh.n_q * d, kp.head(h), vp.head(h), kn.data() + (kn.size() ? h * sh.n_kv : 0),
                           o + h * sh.n_q * d, i0, i1, scratch.data());
        }
    }
}

}  // namespace attn::simd
