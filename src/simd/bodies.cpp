#include "bodies.hpp"

#include "attention_row.hpp"
#include "heads.hpp"
#include "parallel.hpp"
#include "workspace.hpp"

#include <omp.h>

#include <algorithm>
#include <numeric>

namespace attn::simd {

template <class T> const float* widened(Isa isa, int threads, const T* x, i64 n, Slot slot) {
    float* out = workspace(slot, n);
    const WidenOps& widen = widen_ops(isa);
    // One contiguous part per thread, in thread order (cache-line multiples): the kernels' static
    // schedules that follow hand thread t the heads in part t, which it then reads from its own
    // cache. Chunks of 64K elements dealt out in turn left flash at n 128, 8 heads, bf16 taking
    // 1.8x the fp32 time on two threads (1.15x on one).
    parallel_region(threads, [&] {
        const i64 parts = omp_get_num_threads(), part = omp_get_thread_num();
        const i64 per = ((n + parts - 1) / parts + 15) / 16 * 16;
        const i64 begin = std::min(n, part * per), end = std::min(n, begin + per);
        if (end > begin) widen(x + begin, end - begin, out + begin);
    });
    return out;
}
template const float* widened(Isa, int, const bf16*, i64, Slot);
template const float* widened(Isa, int, const f16*, i64, Slot);

i64 key_head_floats(const GemmOps& gemm, const Shape& sh) {
    return gemm.packed_size(sh.head_dim, sh.n_kv);
}

i64 value_head_floats(const GemmOps& gemm, const Shape& sh) {
    return gemm.packed_size(sh.n_kv, sh.head_dim);
}

void pack_key_head(const GemmOps& gemm, const Shape& sh, const float* k, i64 g, float* out) {
    gemm.pack_b(sh.head_dim, sh.n_kv, k + g * sh.n_kv * sh.head_dim, sh.head_dim, true, out);
}

void pack_value_head(const GemmOps& gemm, const Shape& sh, const float* v, i64 g, float* out) {
    gemm.pack_b(sh.n_kv, sh.head_dim, v + g * sh.n_kv * sh.head_dim, sh.head_dim, false, out);
}

namespace {

// Every K/V head packed by pack_head(g, out) into a workspace slot, one copy per head: the query
// heads of a group all read it.
template <class PackHead>
PackedHeads pack_heads(int threads, const Shape& sh, i64 per_head, Slot slot, PackHead pack_head) {
    const i64 bh = sh.batch * sh.kv_head_count();
    const PackedHeads p{workspace(slot, bh * per_head), per_head};
    parallel_region(threads, [&] {
#pragma omp for schedule(static) nowait
        for (i64 g = 0; g < bh; ++g) pack_head(g, p.data + g * per_head);
    });
    return p;
}

}  // namespace

PackedHeads pack_keys(const GemmOps& gemm, int threads, const Shape& sh, const float* k) {
    return pack_heads(threads, sh, key_head_floats(gemm, sh), Slot::keys_packed,
                      [&](i64 g, float* out) { pack_key_head(gemm, sh, k, g, out); });
}

PackedHeads pack_values(const GemmOps& gemm, int threads, const Shape& sh, const float* v) {
    return pack_heads(threads, sh, value_head_floats(gemm, sh), Slot::values_packed,
                      [&](i64 g, float* out) { pack_value_head(gemm, sh, v, g, out); });
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
    parallel_region(threads, [&] {
#pragma omp for schedule(dynamic) nowait
        for (i64 t = 0; t < tasks; ++t) {
            const i64 h = t / nb, i0 = (t % nb) * kRowBlock, i1 = std::min(sh.n_q, i0 + kRowBlock);
            const i64 g = sh.kv_head_of(h);
            ops.scores_rows(sh, q + h * sh.n_q * sh.head_dim, kp.head(g), kn.head(g),
                            s + (h * sh.n_q + i0) * sh.n_kv, i0, i1);
        }
    });
}

void softmax_body(Isa isa, int threads, const Shape& sh, const float* s, float* p) {
    const SoftmaxOps& ops = softmax_ops(isa);
    const i64 rows = sh.batch * sh.heads * sh.n_q, tasks = blocks(rows, kRowBlock);
    // An output over 32 MiB will not be read back from cache: write it without first fetching it.
    const bool streaming = double(rows) * double(sh.n_kv) * sizeof(float) > 32.0 * (1 << 20);
    parallel_region(threads, [&] {
#pragma omp for schedule(static) nowait
        for (i64 t = 0; t < tasks; ++t) {
            const i64 r0 = t * kRowBlock, r1 = std::min(rows, r0 + kRowBlock);
            ops.softmax_rows(sh.n_kv, s + r0 * sh.n_kv, p + r0 * sh.n_kv, r1 - r0, streaming);
        }
    });
}

void weighted_sum_body(Isa isa, int threads, const Shape& sh, const float* p, const float* v,
                       float* o) {
    const GemmOps& gemm = gemm_ops(isa);
    const PackedHeads vp = pack_values(gemm, threads, sh, v);
    const i64 nb = blocks(sh.n_q, kRowBlock), tasks = sh.batch * sh.heads * nb, d = sh.head_dim;
    parallel_region(threads, [&] {
#pragma omp for schedule(dynamic) nowait
        for (i64 t = 0; t < tasks; ++t) {
            const i64 h = t / nb, i0 = (t % nb) * kRowBlock, i1 = std::min(sh.n_q, i0 + kRowBlock);
            // P is an input here: even under a causal mask every key is summed, as O = P V reads.
            gemm.gemm_packed(i1 - i0, d, sh.n_kv, 1.0f, p + (h * sh.n_q + i0) * sh.n_kv, sh.n_kv,
                             vp.head(sh.kv_head_of(h)), sh.n_kv * gemm.nr,
                             o + (h * sh.n_q + i0) * d, d, false, nullptr);
        }
    });
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
    parallel_region(threads, [&] {
        float* block = workspace(Slot::thread_block, kRowBlock * n);
#pragma omp for schedule(dynamic) nowait
        for (i64 t = 0; t < tasks; ++t) {
            const i64 h = t / nb, i0 = (t % nb) * kRowBlock, i1 = std::min(sh.n_q, i0 + kRowBlock);
            const i64 g = sh.kv_head_of(h);
            scores.scores_rows(sh, q + h * sh.n_q * d, kp.head(g), kn.head(g), block, i0, i1);
            softmax.softmax_rows(n, block, block, i1 - i0, false);
            gemm.gemm_packed(i1 - i0, d, sh.visible_keys(i1 - 1), 1.0f, block, n, vp.head(g),
                             n * gemm.nr, o + (h * sh.n_q + i0) * d, d, false, nullptr);
            repair_hidden_key_rows(sh, q + h * sh.n_q * d, k + g * n * d, v + g * n * d,
                                   o + h * sh.n_q * d, i0, i1);
        }
    });
}

template <class TW> void few_rows_projection(Isa isa, int threads, i64 m, i64 n, i64 k,
                                             const float* x, const TW* w, float* y) {
    // Decoding's few rows: the product is as long as one read of W, and packing W would read it
    // once and write it once more first. W is read in up to four parts of consecutive rows, each
    // a contiguous stretch of memory that one core streams whole rows of: a span of columns per
    // thread read each row in pieces that crossed pages, and two threads read a cold Falcon-7B W
    // (4544 x 4672) at 0.95x oneDNN's speed that way, 1.08-1.13x by parts (more parts, up to 32,
    // were slower at Llama's 4096 x 6144). The parts are fixed by the shape, not the threads, and
    // their sums added in part order, so every thread count gives the same bits; their partial
    // sums cost at most 1/32 of W's bytes. Threads that do not divide the parts also split the
    // columns.
    if (m <= 0 || n <= 0) return;
    const GemmOps& gemm = gemm_ops(isa);
    const i64 most_parts = std::max<i64>(1, k * i64(sizeof(TW)) / (128 * m));
    const i64 part_rows = std::max<i64>(4, blocks(blocks(k, std::min<i64>(4, most_parts)), 4) * 4);
    const i64 parts = std::max<i64>(1, blocks(k, part_rows));  // k = 0: one part, which zeroes Y
    const i64 line = 64 / i64(sizeof(TW));
    const i64 spans = std::min(blocks(n, 16 * line), i64(threads) / std::gcd(i64(threads), parts));
    const i64 span = blocks(blocks(n, spans), line) * line;
    float* sums = parts > 1 ? workspace(Slot::projection_parts, (parts - 1) * m * n) : nullptr;
    parallel_region(threads, [&] {
#pragma omp for schedule(static)
        for (i64 task = 0; task < parts * spans; ++task) {
            const i64 p = task / spans, k0 = p * part_rows, j0 = task % spans * span;
            if (j0 >= n) continue;
            float* out = p == 0 ? y : sums + (p - 1) * m * n;
            gemm.few_rows(m, std::min(span, n - j0), std::min(part_rows, k - k0), x + k0, k,
                          w + k0 * n + j0, n, out + j0, n);
        }
        if (parts > 1) {
            constexpr i64 kPiece = 1024;
#pragma omp for schedule(static)
            for (i64 i0 = 0; i0 < m * n; i0 += kPiece) {
                const i64 i1 = std::min(m * n, i0 + kPiece);
                for (i64 p = 1; p < parts; ++p) {
                    const float* part = sums + (p - 1) * m * n;
                    for (i64 i = i0; i < i1; ++i) y[i] += part[i];
                }
            }
        }
    });
}
template void few_rows_projection(Isa, int, i64, i64, i64, const float*, const float*, float*);
template void few_rows_projection(Isa, int, i64, i64, i64, const float*, const bf16*, float*);
template void few_rows_projection(Isa, int, i64, i64, i64, const float*, const f16*, float*);

void projection_body(Isa isa, int threads, const Shape& sh, i64 cols, const float* x,
                     const float* w, float* y, HeadsAt heads) {
    const GemmOps& gemm = gemm_ops(isa);
    // X is m x k, W k x n.
    const i64 m = sh.batch * sh.n_q, k = sh.d_model(), n = cols, d = sh.head_dim;
    const bool few_rows = m <= gemm.direct_rows;
    const bool y_heads = heads == HeadsAt::output, x_heads = heads == HeadsAt::input;
    if (y_heads && (few_rows || d % gemm.nr != 0)) {
        // A head that does not start on a packed strip (or the few-rows path, which writes whole
        // spans of columns) takes the rows' layout first and the split after.
        float* rows = workspace(Slot::projection_rows, m * n);
        projection_body(isa, threads, sh, cols, x, w, rows);
        permute_heads(sh, n / d, rows, y, HeadLayout::split, threads);
        return;
    }
    if (x_heads && few_rows) {  // the few-rows path reads X in place: merge the heads first
        float* rows = workspace(Slot::projection_rows, m * k);
        permute_heads(sh, k / d, x, rows, HeadLayout::merge, threads);
        projection_body(isa, threads, sh, cols, rows, w, y);
        return;
    }
    if (few_rows) {
        few_rows_projection(isa, threads, m, n, k, x, w, y);
        return;
    }
    // X's rows are read in place by the micro-kernel, which broadcasts from MR rows of them, or,
    // where those rows would crowd one L1 set (x_rows_in_place), packed once into row tiles
    // (pack_a) that it broadcasts from one contiguous run per k step, all threads sharing the
    // copy. In place, no thread writes a copy of X into lines the other core has read and waits
    // for its half: on two threads at d_model 768, n 512 and 1024, packing X took 7% of each
    // thread's time, and in place the projection ran 1.07-1.09x as fast (1.00-1.02x on one
    // thread). The packed tiles stream from memory in the order they are used: the tiles of one
    // K slice lie one after another (slice k0 at k0 * padded_rows, row tile t's slice at t * MR *
    // kc in it), and each tile's product fetches the next (gemm_tiles). With either side in the
    // heads' layout, the rows are tiled per sequence (row runs of n_q), so that no tile spans two
    // sequences: X's head runs are then packed straight from the heads' layout (X in that layout
    // is always packed), and Y's products go to the heads' layout, each block of rows within one
    // sequence and each run of columns within one head (d is whole strips), written by the owner
    // of a panel while they are in its cache, where a separate split pass would read half of them
    // from the other core's.
    const i64 row_run = heads == HeadsAt::none ? m : sh.n_q, runs = m / row_run;
    const i64 run_tiles = blocks(row_run, gemm.mr), padded_rows = runs * run_tiles * gemm.mr;
    const bool x_in_place = !x_heads && x_rows_in_place(k, gemm.mr);
    // Packed in one block of rows (a short call), X is small enough that every thread packs all
    // of it into its own copy. A shared copy, each thread packing half and reading the other half
    // from the other core, cost a barrier and a write into lines the other core had read in the
    // last call: at n 128, d_model 768 on two threads, the packing took 7% and the barrier's wait
    // 6% of the time where all of X packs in 1%.
    const i64 most = projection_rows(gemm.mr);
    const bool one_block = runs == 1 && m <= most;
    const bool own_x = !x_in_place && one_block && threads > 1;
    float* const shared_x =
        own_x || x_in_place ? nullptr : workspace(Slot::projection_packed_x, padded_rows * k);
    auto x_slice = [&](float* packed_x, i64 k0, i64 tile) {
        return packed_x + k0 * padded_rows + tile * gemm.mr * std::min(gemm.kc, k - k0);
    };
    // Each task owns a column panel of W and packs it into its own buffer (k x panel floats), one
    // K slice at a time as its first block of rows multiplies by the slice, so no packed strip
    // crosses to another core and no pass over all of W precedes the products (a separate packing
    // pass, its strips then read by the other thread, cost a third of the product's time on two
    // threads at d_model 768). Each block of rows then runs over every K slice of the panel while
    // its block of Y (most x panel floats: 192 KiB on AVX-512) stays in L2: K slices outer, Y's
    // whole panel went out to memory and back once per slice (d_model 4096, n 2048: 0.92x the
    // speed). Panels are equal, whole strips, and as many as a multiple of the threads where the
    // columns allow.
    const i64 panel = projection_panel(n, gemm.nr, threads);
    const i64 col_run = y_heads ? d : n;
    auto out = [&](i64 i, i64 j) {
        return y + (y_heads ? head_major_index(sh, n / d, i, j) : i * n + j);
    };
    const i64 ldc = y_heads ? d : n;
    parallel_region(threads, [&] {
        // One block of rows reads each packed slice once: its slices share one buffer, which
        // stays in L2, instead of each landing in memory not yet in cache.
        float* packed =
            workspace(Slot::weights_packed, gemm.packed_size(one_block ? gemm.kc : k, panel));
        float* packed_x = own_x ? workspace(Slot::projection_packed_x, padded_rows * k) : shared_x;
        auto pack_tile = [&](i64 t) {
            const i64 i = t / run_tiles * row_run + t % run_tiles * gemm.mr;
            const i64 rows = std::min(gemm.mr, (t / run_tiles + 1) * row_run - i);
            // Pieces of row i's columns that lie in one K slice and, in the heads' layout (where
            // within a sequence a head's rows lie d floats apart), in one head.
            const i64 run = x_heads ? d : k;
            for (i64 c = 0; c < k;) {
                const i64 k0 = c / gemm.kc * gemm.kc;
                const i64 end = std::min({k, k0 + gemm.kc, (c / run + 1) * run});
                const float* src = x_heads ? x + head_major_index(sh, k / d, i, c) : x + i * k + c;
                gemm.pack_a(rows, end - c, src, run, 1.0f,
                            x_slice(packed_x, k0, t) + (c - k0) * gemm.mr);
                c = end;
            }
        };
        if (own_x) {
            for (i64 t = 0; t < runs * run_tiles; ++t) pack_tile(t);
        } else if (!x_in_place) {
#pragma omp for schedule(static)
            for (i64 t = 0; t < runs * run_tiles; ++t) pack_tile(t);
        }
        // Equal panels, dealt out statically: a thread owns the same panels (their columns of W
        // and Y) call after call, so they stay in its caches instead of moving to the other core.
#pragma omp for schedule(static) nowait
        for (i64 t = 0; t < blocks(n, panel); ++t) {
            const i64 j0 = t * panel, j1 = std::min(n, j0 + panel);
            const i64 panel_cols = blocks(j1 - j0, gemm.nr) * gemm.nr;
            for (i64 r = 0; r < runs; ++r)
                for (i64 i0 = r * row_run; i0 < (r + 1) * row_run; i0 += most) {
                    const i64 i1 = std::min((r + 1) * row_run, i0 + most);
                    for (i64 k0 = 0; k0 < k; k0 += gemm.kc) {
                        const i64 kc = std::min(gemm.kc, k - k0);
                        const float* a =
                            x_in_place ? x + i0 * k + k0
                                       : x_slice(packed_x, k0,
                                                 r * run_tiles + (i0 - r * row_run) / gemm.mr);
                        float* slice = packed + (one_block ? 0 : k0 * panel_cols);
                        for (i64 c0 = j0; c0 < j1;) {
                            const i64 c1 = std::min(j1, (c0 / col_run + 1) * col_run);
                            // The first rows pack the slice as their first tile multiplies by it,
                            // and fetch the start of the slice they pack next.
                            const bool packs = i0 == 0;
                            const float* w_slice = packs ? w + k0 * n + c0 : nullptr;
                            // (None after the last slice, where a pointer to it would lie past W.)
                            const bool next_columns = c1 < j1;
                            const i64 next_rows = !packs ? 0
                                                  : next_columns
                                                      ? kc
                                                      : std::clamp(k - k0 - kc, i64(0), gemm.kc);
                            const float* next_w = next_rows == 0 ? nullptr
                                                  : next_columns ? w + k0 * n + c1
                                                                 : w + (k0 + kc) * n + j0;
                            gemm.gemm_tiles(i1 - i0, c1 - c0, kc, a, x_in_place ? k : gemm.mr * kc,
                                            !x_in_place, w_slice, n,
                                            slice + (c0 - j0) / gemm.nr * kc * gemm.nr, out(i0, c0),
                                            ldc, k0 > 0, next_w, next_rows);
                            c0 = c1;
                        }
                    }
                }
        }
    });
}

}  // namespace attn::simd
