#include "bodies.hpp"

#include "attention_row.hpp"

#include <algorithm>

namespace attn::simd {

namespace {

i64 blocks(i64 n, i64 b) { return (n + b - 1) / b; }

}  // namespace

PackedHeads::PackedHeads(const GemmOps& gemm, int threads, const Shape& sh, const float* x,
                         i64 rows, i64 cols, bool transposed, Slot slot)
    : data(workspace(slot, sh.batch * sh.kv_head_count() * gemm.packed_size(rows, cols))),
      per_head(gemm.packed_size(rows, cols)) {
    // One copy per K/V head: the query heads of a group all read it.
    const i64 bh = sh.batch * sh.kv_head_count(), src = rows * cols;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (i64 h = 0; h < bh; ++h)
        gemm.pack_b(rows, cols, x + h * src, transposed ? rows : cols, transposed,
                    data + h * per_head);
}

PackedHeads pack_keys(const GemmOps& gemm, int threads, const Shape& sh, const float* k) {
    return PackedHeads(gemm, threads, sh, k, sh.head_dim, sh.n_kv, true, Slot::keys_packed);
}

PackedHeads pack_values(const GemmOps& gemm, int threads, const Shape& sh, const float* v) {
    return PackedHeads(gemm, threads, sh, v, sh.n_kv, sh.head_dim, false, Slot::values_packed);
}

KeyNorms::KeyNorms(const ScoresOps& ops, const Shape& sh, const float* k) : n_kv(sh.n_kv) {
    if (sh.similarity != Similarity::cosine) return;
    const i64 rows = sh.batch * sh.kv_head_count() * sh.n_kv;
    float* norms = workspace(Slot::key_norms, rows);
    ops.row_norms(k, rows, sh.head_dim, norms);
    data = norms;
}

void scores_body(Isa isa, int threads, const Shape& sh, const float* q, const float* k, float* s) {
    const GemmOps& gemm = gemm_ops(isa);
    const ScoresOps& ops = scores_ops(isa);
    const PackedHeads kp = pack_keys(gemm, threads, sh, k);
    const KeyNorms kn(ops, sh, k);
    const i64 nb = blocks(sh.n_q, kRowBlock), tasks = sh.batch * sh.heads * nb;
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1)
    for (i64 t = 0; t < tasks; ++t) {
        const i64 h = t / nb, i0 = (t % nb) * kRowBlock, i1 = std::min(sh.n_q, i0 + kRowBlock);
        const i64 g = sh.kv_head_of(h);
        ops.scores_rows(sh, q + h * sh.n_q * sh.head_dim, kp.head(g), kn.head(g),
                        s + (h * sh.n_q + i0) * sh.n_kv, i0, i1);
    }
}

void softmax_body(Isa isa, int threads, const Shape& sh, const float* s, float* p) {
    const SoftmaxOps& ops = softmax_ops(isa);
    const i64 rows = sh.batch * sh.heads * sh.n_q, tasks = blocks(rows, kRowBlock);
    // An output over 32 MiB will not be read back from cache: write it without first fetching it.
    const bool streaming = double(rows) * double(sh.n_kv) * sizeof(float) > 32.0 * (1 << 20);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (i64 t = 0; t < tasks; ++t) {
        const i64 r0 = t * kRowBlock, r1 = std::min(rows, r0 + kRowBlock);
        ops.softmax_rows(sh.n_kv, s + r0 * sh.n_kv, p + r0 * sh.n_kv, r1 - r0, streaming);
    }
}

void weighted_sum_body(Isa isa, int threads, const Shape& sh, const float* p, const float* v,
                       float* o) {
    const GemmOps& gemm = gemm_ops(isa);
    const PackedHeads vp = pack_values(gemm, threads, sh, v);
    const i64 nb = blocks(sh.n_q, kRowBlock), tasks = sh.batch * sh.heads * nb, d = sh.head_dim;
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1)
    for (i64 t = 0; t < tasks; ++t) {
        const i64 h = t / nb, i0 = (t % nb) * kRowBlock, i1 = std::min(sh.n_q, i0 + kRowBlock);
        // P is an input here: even under a causal mask every key is summed, as O = P V reads.
        gemm.gemm_packed(i1 - i0, d, sh.n_kv, 1.0f, p + (h * sh.n_q + i0) * sh.n_kv, sh.n_kv,
                         vp.head(sh.kv_head_of(h)), sh.n_kv * gemm.nr, o + (h * sh.n_q + i0) * d, d,
                         false);
    }
}

void attention_body(Isa isa, int threads, const Shape& sh, const float* q, const float* k,
                    const float* v, float* o) {
    const GemmOps& gemm = gemm_ops(isa);
    const ScoresOps& scores = scores_ops(isa);
    const SoftmaxOps& softmax = softmax_ops(isa);
    const PackedHeads kp = pack_keys(gemm, threads, sh, k), vp = pack_values(gemm, threads, sh, v);
    const KeyNorms kn(scores, sh, k);
    const i64 nb = blocks(sh.n_q, kRowBlock), tasks = sh.batch * sh.heads * nb, d = sh.head_dim,
              n = sh.n_kv;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float* block = workspace(Slot::thread_block, kRowBlock * n);
#pragma omp for schedule(dynamic)
        for (i64 t = 0; t < tasks; ++t) {
            const i64 h = t / nb, i0 = (t % nb) * kRowBlock, i1 = std::min(sh.n_q, i0 + kRowBlock);
            const i64 g = sh.kv_head_of(h);
            scores.scores_rows(sh, q + h * sh.n_q * d, kp.head(g), kn.head(g), block, i0, i1);
            softmax.softmax_rows(n, block, block, i1 - i0, false);
            gemm.gemm_packed(i1 - i0, d, sh.visible_keys(i1 - 1), 1.0f, block, n, vp.head(g),
                             n * gemm.nr, o + (h * sh.n_q + i0) * d, d, false);
            repair_hidden_key_rows(sh, q + h * sh.n_q * d, k + g * n * d, v + g * n * d,
                                   o + h * sh.n_q * d, i0, i1);
        }
    }
}

void projection_body(Isa isa, int threads, const Shape& sh, i64 cols, const float* x,
                     const float* w, float* y) {
    const GemmOps& gemm = gemm_ops(isa);
    // X is m x k, W k x n.
    const i64 m = sh.batch * sh.n_q, k = sh.d_model(), n = cols;
    float* wp = workspace(Slot::weights_packed, gemm.packed_size(k, n));
    const i64 strips = blocks(n, gemm.nr);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (i64 s = 0; s < strips; ++s)  // each strip packs independently
        gemm.pack_b(k, std::min<i64>(gemm.nr, n - s * gemm.nr), w + s * gemm.nr, n, false,
                    wp + s * k * gemm.nr);
    // Tasks are row blocks x column panels so that two threads share work even when m is small;
    // consecutive tasks share a panel, so its packed strips (4 MiB at d_model 4096) are read from
    // the L3 by every row block after the first. The rows split into blocks of equal height, a
    // multiple of the micro-tile's, of at most projection_rows: with few rows (128 into 66 + 62
    // rather than 96 + 32) two threads get equal shares.
    constexpr i64 kPanel = 256;
    const i64 most = projection_rows(gemm.mr), row_blocks = std::max<i64>(1, blocks(m, most));
    const i64 row_block = std::min(most, blocks(blocks(m, row_blocks), gemm.mr) * gemm.mr);
    const i64 panels = blocks(n, kPanel), nb = blocks(m, row_block), tasks = nb * panels;
    // The micro-kernel broadcasts from MR rows of X at once; with d_model a multiple of 1024 those
    // rows sit 4 KiB apart and fight over one L1 set, so each task copies its rows, one K slice
    // at a time, to a stride padded by 16 floats first. A slice (row_block x kc) stays in L2
    // while the panel's strips pass over it; whole rows (1 MiB at d_model 4096) would not.
    const i64 lda = gemm.kc + 16;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float* rows = workspace(Slot::thread_block, row_block * lda);
#pragma omp for schedule(dynamic)
        for (i64 t = 0; t < tasks; ++t) {
            const i64 i0 = (t % nb) * row_block, i1 = std::min(m, i0 + row_block);
            const i64 j0 = (t / nb) * kPanel, j1 = std::min(n, j0 + kPanel);
            for (i64 k0 = 0; k0 < k; k0 += gemm.kc) {
                const i64 kc = std::min(gemm.kc, k - k0);
                for (i64 i = i0; i < i1; ++i)
                    std::copy_n(x + i * k + k0, kc, rows + (i - i0) * lda);
                gemm.gemm_packed(i1 - i0, j1 - j0, kc, 1.0f, rows, lda,
                                 wp + (j0 / gemm.nr) * k * gemm.nr + k0 * gemm.nr, k * gemm.nr,
                                 y + i0 * n + j0, n, k0 > 0);
            }
        }
    }
}

}  // namespace attn::simd
