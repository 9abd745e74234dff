#include "bodies.hpp"

#include <algorithm>
#include <array>
#include <memory>

#include "attn/workload.hpp"

namespace attn::simd {

namespace {

// Query rows per task of the unfused kernels: a 64 x n_kv score block stays in L2 up to
// n_kv ~ 4096, and 64 is a multiple of every micro-tile height.
constexpr i64 kRowBlock = 64;

i64 blocks(i64 n, i64 b) { return (n + b - 1) / b; }

// What a workspace slot holds; each thread has its own set of slots.
enum Slot { kKeysPacked, kValuesPacked, kKeyNorms, kWeightsPacked, kThreadBlock, kSlots };

// Scratch memory that stays with the calling thread and only grows: repeated calls (a benchmark
// loop, a model's layers) reuse pages that are already mapped instead of faulting in fresh ones,
// which cost several percent of a flash attention call at n = 2048.
float* workspace(Slot slot, i64 floats) {
    thread_local std::array<std::unique_ptr<Buffer>, kSlots> slots;
    auto& b = slots[slot];
    if (!b || b->size() < std::size_t(floats)) b = std::make_unique<Buffer>(std::size_t(floats), 0);
    return b->data();
}

// One packed matrix per head (see Ops::pack_b), all heads side by side in a workspace slot.
struct PackedHeads {
    float* data = nullptr;
    i64 per_head = 0;
    PackedHeads() = default;
    PackedHeads(const Ops& ops, int threads, const Shape& sh, const float* x, i64 rows, i64 cols, bool transposed,
                Slot slot)
        : data(workspace(slot, sh.batch * sh.heads * ops.packed_size(rows, cols))),
          per_head(ops.packed_size(rows, cols)) {
        const i64 bh = sh.batch * sh.heads, src = rows * cols;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
        for (i64 h = 0; h < bh; ++h)
            ops.pack_b(rows, cols, x + h * src, transposed ? rows : cols, transposed, data + h * per_head);
    }
    const float* head(i64 h) const { return data + h * per_head; }
};

// K^T per head: rows = d, cols = n_kv, from K [n_kv x d].
PackedHeads pack_keys(const Ops& ops, int threads, const Shape& sh, const float* k) {
    return PackedHeads(ops, threads, sh, k, sh.head_dim, sh.n_kv, true, kKeysPacked);
}
// V per head: rows = n_kv, cols = d.
PackedHeads pack_values(const Ops& ops, int threads, const Shape& sh, const float* v) {
    return PackedHeads(ops, threads, sh, v, sh.n_kv, sh.head_dim, false, kValuesPacked);
}

// Key norms of head h for cosine similarity (nullptr for dot, where they are unused).
struct KeyNorms {
    const float* data = nullptr;
    i64 n_kv;
    KeyNorms(const Ops& ops, const Shape& sh, const float* k) : n_kv(sh.n_kv) {
        if (sh.similarity != Similarity::cosine) return;
        float* norms = workspace(kKeyNorms, sh.batch * sh.heads * sh.n_kv);
        ops.row_norms(k, sh.batch * sh.heads * sh.n_kv, sh.head_dim, norms);
        data = norms;
    }
    const float* head(i64 h) const { return data ? data + h * n_kv : nullptr; }
};

}  // namespace

void scores_body(const Ops& ops, int threads, const Shape& sh, const float* q, const float* k, float* s) {
    const PackedHeads kp = pack_keys(ops, threads, sh, k);
    const KeyNorms kn(ops, sh, k);
    const i64 nb = blocks(sh.n_q, kRowBlock), tasks = sh.batch * sh.heads * nb;
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1)
    for (i64 t = 0; t < tasks; ++t) {
        const i64 h = t / nb, i0 = (t % nb) * kRowBlock, i1 = std::min(sh.n_q, i0 + kRowBlock);
        ops.scores_rows(sh, q + h * sh.n_q * sh.head_dim, kp.head(h), kn.head(h),
                        s + (h * sh.n_q + i0) * sh.n_kv, i0, i1);
    }
}

void softmax_body(const Ops& ops, int threads, const Shape& sh, const float* s, float* p) {
    const i64 rows = sh.batch * sh.heads * sh.n_q, tasks = blocks(rows, kRowBlock);
    // An output over 32 MiB will not be read back from cache: write it without first fetching it.
    const bool streaming = double(rows) * double(sh.n_kv) * sizeof(float) > 32.0 * (1 << 20);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (i64 t = 0; t < tasks; ++t) {
        const i64 r0 = t * kRowBlock, r1 = std::min(rows, r0 + kRowBlock);
        ops.softmax_rows(sh.n_kv, s + r0 * sh.n_kv, p + r0 * sh.n_kv, r1 - r0, streaming);
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
    const KeyNorms kn(ops, sh, k);
    const i64 nb = blocks(sh.n_q, kRowBlock), tasks = sh.batch * sh.heads * nb, d = sh.head_dim, n = sh.n_kv;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float* block = workspace(kThreadBlock, kRowBlock * n);
#pragma omp for schedule(dynamic)
        for (i64 t = 0; t < tasks; ++t) {
            const i64 h = t / nb, i0 = (t % nb) * kRowBlock, i1 = std::min(sh.n_q, i0 + kRowBlock);
            ops.scores_rows(sh, q + h * sh.n_q * d, kp.head(h), kn.head(h), block,
                            i0, i1);
            ops.softmax_rows(n, block, block, i1 - i0, false);
            ops.gemm_packed(i1 - i0, d, sh.visible_keys(i1 - 1), 1.0f, block, n, vp.head(h), n * ops.nr,
                            o + (h * sh.n_q + i0) * d, d, false);
        }
    }
}

void projection_body(const Ops& ops, int threads, const Shape& sh, const float* x, const float* w, float* y) {
    const i64 m = sh.batch * sh.n_q, n = sh.d_model();
    float* wp = workspace(kWeightsPacked, ops.packed_size(n, n));
    const i64 strips = blocks(n, ops.nr);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (i64 s = 0; s < strips; ++s)  // each strip packs independently
        ops.pack_b(n, std::min<i64>(ops.nr, n - s * ops.nr), w + s * ops.nr, n, false, wp + s * n * ops.nr);
    // Tasks are row blocks x column panels so that two threads share work even when m is small.
    constexpr i64 kPanel = 256;
    const i64 panels = blocks(n, kPanel), nb = blocks(m, kRowBlock), tasks = nb * panels;
    // The micro-kernel broadcasts from MR rows of X at once; with d_model a multiple of 1024 those
    // rows sit 4 KiB apart and fight over one L1 set, so each task copies its rows to a stride
    // padded by 16 floats first (the copy is 1/kPanel of the task's arithmetic).
    const i64 lda = n + 16;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float* rows = workspace(kThreadBlock, kRowBlock * lda);
#pragma omp for schedule(dynamic)
        for (i64 t = 0; t < tasks; ++t) {
            const i64 i0 = (t / panels) * kRowBlock, i1 = std::min(m, i0 + kRowBlock);
            const i64 j0 = (t % panels) * kPanel, j1 = std::min(n, j0 + kPanel);
            for (i64 i = i0; i < i1; ++i) std::copy_n(x + i * n, n, rows + (i - i0) * lda);
            ops.gemm_packed(i1 - i0, j1 - j0, n, 1.0f, rows, lda, wp + (j0 / ops.nr) * n * ops.nr, n * ops.nr,
                            y + i0 * n + j0, n, false);
        }
    }
}

void flash_body(const Ops& ops, int threads, const Shape& sh, const float* q, const float* k, const float* v,
                float* o) {
    // V is packed too, although a head_dim of whole strips could be read in place: the P V
    // micro-kernel ran 10% faster on a contiguous 32 KiB strip than on rows d floats apart,
    // whose lines fall into few L1 sets.
    const PackedHeads kp = pack_keys(ops, threads, sh, k), vp = pack_values(ops, threads, sh, v);
    const KeyNorms kn(ops, sh, k);
    const i64 bq = ops.flash_block_q, nb = blocks(sh.n_q, bq), tasks = sh.batch * sh.heads * nb, d = sh.head_dim;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float* scratch = workspace(kThreadBlock, ops.flash_scratch(d));
        // Under a causal mask the last query blocks of a head carry the most keys: hand them out
        // first (largest first), so that the small ones even out the end of the dynamic schedule.
#pragma omp for schedule(dynamic)
        for (i64 t = 0; t < tasks; ++t) {
            const i64 block = sh.causal ? nb - 1 - t / (sh.batch * sh.heads) : t % nb;
            const i64 h = sh.causal ? t % (sh.batch * sh.heads) : t / nb;
            const i64 i0 = block * bq, i1 = std::min(sh.n_q, i0 + bq);
            ops.flash_rows(sh, q + h * sh.n_q * d, kp.head(h), vp.head(h), kn.head(h), o + h * sh.n_q * d, i0, i1,
                           scratch);
        }
    }
}

}  // namespace attn::simd
