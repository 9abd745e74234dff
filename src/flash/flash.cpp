#include "flash.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "attention_row.hpp"
#include "bf16_dot.hpp"
#include "kernels.hpp"
#include "parallel.hpp"
#include "simd/bodies.hpp"
#include "workspace.hpp"

namespace attn::flash {

const FlashOps& flash_ops(Isa isa) {
    return simd::for_tier(isa, []<Isa I>() -> const FlashOps& { return flash_ops_for<I>(); });
}

namespace {
std::atomic<i64> assumed_cache_bytes{0};
}  // namespace

void assume_last_level_cache_bytes(i64 bytes) { assumed_cache_bytes.store(bytes); }

i64 last_level_cache_bytes() {
    if (const i64 assumed = assumed_cache_bytes.load(std::memory_order_relaxed)) return assumed;
    static const i64 bytes = [] {
        i64 most = 0;
        for (int index = 0; index < 8; ++index) {
            std::ifstream file("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) +
                               "/size");
            std::string size;  // "32768K"
            if (!(file >> size)) continue;
            i64 value = std::atoll(size.c_str());
            if (size.back() == 'K') value <<= 10;
            else if (size.back() == 'M') value <<= 20;
            most = std::max(most, value);
        }
        return most > 0 ? most : i64(32) << 20;
    }();
    return bytes;
}

namespace {

// How many parts the key range of each K/V head is split into on the decode path: one when the
// K/V heads alone give every core of the machine two or more to do, else enough parts that they
// do (the flash-decoding split), never fewer than kSplitKeys keys per part. It depends on the
// shape and the machine, not on the thread count of the call, so that 1 and 2 threads give
// identical bits.
i64 decode_splits(i64 heads, i64 keys) {
    const i64 cores = std::max(1, omp_get_num_procs());
    if (heads >= 2 * cores) return 1;
    const i64 want = (2 * cores + heads - 1) / heads;
    return std::max<i64>(1, std::min(want, (keys + kSplitKeys - 1) / kSplitKeys));
}

// Multiply-adds of a decode call (both products) from which its parts are dealt out statically:
// between a 1K cache of Llama-3-8B (8.4M, faster dynamic) and an 8K one (67M, faster static).
constexpr i64 kStaticDecodeMacs = i64(1) << 25;

// The decode path of flash_body: per K/V head, its group's query rows (contiguous in q and o)
// against its keys, read in place, the key range split across threads when the heads are too few;
// the parts' (max, sum, output) states are merged in a final pass.
template <class T> void decode_body(const FlashOps& ops, DecodeRows<T> decode_rows, int threads,
                                    const Shape& sh, const float* q, const T* k, const T* v,
                                    float* o) {
    const i64 d = sh.head_dim, rows = sh.group_size() * sh.n_q,
              heads = sh.batch * sh.kv_head_count();
    // Under a causal mask no row sees past the last query's diagonal.
    const i64 keys = sh.visible_keys(sh.n_q - 1);
    const i64 splits = decode_splits(heads, keys);
    const i64 units = (keys + kSplitKeys - 1) / kSplitKeys;
    const i64 per_split = (units + splits - 1) / splits * kSplitKeys;
    // One state per (head, part): row maxima, row sums, unnormalised output.
    const i64 state = rows * (2 + d);
    std::vector<float> states(std::size_t(heads * splits * state));
    auto part = [&](i64 t, float* scratch) {
        const i64 g = t / splits, j0 = (t % splits) * per_split;
        float* st = states.data() + t * state;
        decode_rows(sh, q + g * rows * d, rows, k + g * sh.n_kv * d, v + g * sh.n_kv * d,
                    std::min(j0, keys), std::min(j0 + per_split, keys), st, st + rows,
                    st + 2 * rows, scratch);
    };
    // The parts are equal (but the last). In a long call they are dealt out statically, so that a
    // thread reads the same K/V heads and key ranges call after call, from its own caches where
    // they fit (paired gates, two threads: an 8K cache 0.86x the time, Falcon-7B's 0.93x); in a
    // short one dynamically, so that the thread that starts first takes up the other's delay
    // (a 1K cache took 1.06x the time dealt out statically).
    const bool long_call = 2 * rows * keys * d * heads >= kStaticDecodeMacs;
    parallel_region(threads, [&] {
        float* scratch = workspace(Slot::thread_block, ops.decode_scratch_floats(d));
        if (long_call) {
#pragma omp for schedule(static)
            for (i64 t = 0; t < heads * splits; ++t) part(t, scratch);
        } else {
#pragma omp for schedule(dynamic)
            for (i64 t = 0; t < heads * splits; ++t) part(t, scratch);
        }
        // o = sum_p 2^(m_p - m) acc_p / sum_p 2^(m_p - m) l_p with m the largest m_p: a part
        // that saw only masked or -inf scores (m_p = -inf) adds nothing but its NaN, if any.
#pragma omp for schedule(static) nowait
        for (i64 x = 0; x < heads * rows; ++x) {
            const i64 g = x / rows, r = x % rows;
            const float* first = states.data() + g * splits * state;
            float m = -std::numeric_limits<float>::infinity();
            for (i64 p = 0; p < splits; ++p) m = std::max(m, first[p * state + r]);
            float sum = 0.0f;
            float* out = o + (g * rows + r) * d;
            for (i64 c = 0; c < d; ++c) out[c] = 0.0f;
            for (i64 p = 0; p < splits; ++p) {
                const float* st = first + p * state;
                const float f =
                    st[r] == -std::numeric_limits<float>::infinity() ? 0.0f : std::exp2(st[r] - m);
                sum += st[rows + r] * f;
                const float* acc = st + 2 * rows + r * d;
                for (i64 c = 0; c < d; ++c) out[c] += acc[c] * f;
            }
            const float inv = sum != 0.0f ? 1.0f / sum : 0.0f;  // NaN stays NaN
            for (i64 c = 0; c < d; ++c) out[c] *= inv;
        }
    });
    // The P V product weighs each hidden key's V row by 0: a NaN or inf there needs the exact row.
    for (i64 h = 0; h < sh.batch * sh.heads; ++h) {
        const i64 g = sh.kv_head_of(h);
        repair_hidden_key_rows(sh, q + h * sh.n_q * d, k + g * sh.n_kv * d, v + g * sh.n_kv * d,
                               o + h * sh.n_q * d, 0, sh.n_q);
    }
}

// Query rows [i0, i0 + block_q) of query head h (of B x H, over K/V head g = kv_head_of(h)) with
// that head's packed K^T and V; q, o [B][H][n_q][d], k, v [B][kv_heads][n_kv][d].
void query_block(const FlashOps& ops, const Shape& sh, const float* q, const float* k,
                 const float* v, const float* kp, const float* vp, const float* k_norms, float* o,
                 i64 h, i64 i0, float* scratch) {
    const i64 d = sh.head_dim, g = sh.kv_head_of(h), i1 = std::min(sh.n_q, i0 + ops.block_q);
    ops.flash_rows(sh, q + h * sh.n_q * d, kp, vp, k_norms, o + h * sh.n_q * d, i0, i1, scratch);
    repair_hidden_key_rows(sh, q + h * sh.n_q * d, k + g * sh.n_kv * d, v + g * sh.n_kv * d,
                           o + h * sh.n_q * d, i0, i1);
}

// Whether flash_body runs one task per K/V head (head_body): when the heads give every thread
// two or more and a head's packed K and V (at most 512 KiB) stay in the L2 of the core that packs
// them. Short sequences spend a large share of a call in packing: packing all heads first, each
// thread then reading heads another had packed, left BERT-base at n 128 1.36x faster on two
// threads than on one.
bool head_tasks(const simd::GemmOps& gemm, int threads, const Shape& sh) {
    const i64 per_head = simd::key_head_floats(gemm, sh) + simd::value_head_floats(gemm, sh);
    return sh.batch * sh.kv_head_count() >= 2 * threads &&
           per_head * i64(sizeof(float)) <= (512 << 10);
}

// flash_body by K/V heads: each task packs one K/V head's K^T and V into its thread's buffers
// and runs every query block of the heads of its group over them; layouts as flash_body.
void head_body(const FlashOps& ops, const simd::GemmOps& gemm, Isa isa, int threads,
               const Shape& sh, const float* q, const float* k, const float* v, float* o) {
    const simd::KeyNorms kn(simd::scores_ops(isa), sh, k);
    const i64 bq = ops.block_q, nb = (sh.n_q + bq - 1) / bq;
    const i64 group = sh.group_size(), tasks = sh.batch * sh.kv_head_count();
    parallel_region(threads, [&] {
        float* scratch = workspace(Slot::thread_block, ops.scratch_floats(sh.head_dim));
        float* kp = workspace(Slot::keys_packed, simd::key_head_floats(gemm, sh));
        float* vp = workspace(Slot::values_packed, simd::value_head_floats(gemm, sh));
        // Every task is the same work, dealt out statically: a thread takes the same heads call
        // after call, whose inputs and outputs its caches still hold (dynamic: 1.5% slower).
#pragma omp for schedule(static) nowait
        for (i64 g = 0; g < tasks; ++g) {
            simd::pack_key_head(gemm, sh, k, g, kp);
            simd::pack_value_head(gemm, sh, v, g, vp);
            for (i64 h = g * group; h < (g + 1) * group; ++h)
                for (i64 block = 0; block < nb; ++block)
                    query_block(ops, sh, q, k, v, kp, vp, kn.head(g), o, h, block * bq, scratch);
        }
    });
}

// Keys per piece of the packing of one K/V head in prefill_body: a multiple of every tier's
// strip width, and small enough that a head splits into pieces for every thread.
constexpr i64 kPackKeys = 256;

// Packs piece p of one K/V head (K^T by ranges of kPackKeys keys, then V by ranges of keys within
// each strip of NR columns) into kp and vp, laid out as pack_key_head and pack_value_head lay the
// whole head; k, v [n_kv x d] are the head's rows. pack_pieces(sh, nr) counts the pieces.
i64 pack_pieces(const Shape& sh, i64 nr) {
    return simd::blocks(sh.n_kv, kPackKeys) * (1 + simd::blocks(sh.head_dim, nr));
}
void pack_piece(const simd::GemmOps& gemm, const Shape& sh, const float* k, const float* v, i64 p,
                float* kp, float* vp) {
    const i64 d = sh.head_dim, n = sh.n_kv, nr = gemm.nr, ranges = simd::blocks(n, kPackKeys);
    const i64 j0 = p % ranges * kPackKeys, keys = std::min(kPackKeys, n - j0);
    if (p < ranges) {
        gemm.pack_b(d, keys, k + j0 * d, d, true, kp + j0 * d);
        return;
    }
    const i64 c0 = (p / ranges - 1) * nr;
    gemm.pack_b(keys, std::min(nr, d - c0), v + j0 * d + c0, d, false, vp + c0 * n + j0 * nr);
}

// The prefill (query-block) path of flash_body on fp32 Q, K and V, one K/V head at a time: its
// K^T and V are packed by all threads, then its heads' query blocks are dealt out. Packing every
// head first left the packed heads and the inputs (48 MiB at n 2048, 8 heads of 128) to share the
// last-level cache: eight causal heads took 1.03x four times two heads' time.
void prefill_body(const FlashOps& ops, Isa isa, int threads, const Shape& sh, const float* q,
                  const float* k, const float* v, float* o) {
    const simd::GemmOps& gemm = simd::gemm_ops(isa);
    if (head_tasks(gemm, threads, sh)) {
        head_body(ops, gemm, isa, threads, sh, q, k, v, o);
        return;
    }
    // V is packed too, although a head_dim of whole strips could be read in place: the P V
    // micro-kernel ran 10% faster on a contiguous 32 KiB strip than on rows d floats apart,
    // whose lines fall into few L1 sets.
    const i64 k_floats = simd::blocks(simd::key_head_floats(gemm, sh), 16) * 16,
              v_floats = simd::blocks(simd::value_head_floats(gemm, sh), 16) * 16;
    // Two buffers each, alternating by head, each a whole number of 64-byte lines: a thread
    // packing the next head overwrites the head before, which every thread has left, so that the
    // query blocks need no barrier after them.
    float* const kp = workspace(Slot::keys_packed, 2 * k_floats);
    float* const vp = workspace(Slot::values_packed, 2 * v_floats);
    const simd::KeyNorms kn(simd::scores_ops(isa), sh, k);
    const i64 bq = ops.block_q, nb = (sh.n_q + bq - 1) / bq, d = sh.head_dim;
    const i64 group = sh.group_size(), groups = sh.batch * sh.kv_head_count();
    const i64 pieces = pack_pieces(sh, gemm.nr);
    parallel_region(threads, [&] {
        float* scratch = workspace(Slot::thread_block, ops.scratch_floats(d));
        for (i64 g = 0; g < groups; ++g) {
            float* const kg = kp + g % 2 * k_floats;
            float* const vg = vp + g % 2 * v_floats;
#pragma omp for schedule(dynamic)
            for (i64 p = 0; p < pieces; ++p) {
                pack_piece(gemm, sh, k + g * sh.n_kv * d, v + g * sh.n_kv * d, p, kg, vg);
            }
            // Under a causal mask a head's last query blocks carry the most keys: they go first,
            // so that the small ones even out the end of the dynamic schedule.
#pragma omp for schedule(dynamic) nowait
            for (i64 t = 0; t < group * nb; ++t) {
                const i64 block = sh.causal ? nb - 1 - t % nb : t % nb;
                query_block(ops, sh, q, k, v, kg, vg, kn.head(g), o, g * group + t / nb, block * bq,
                            scratch);
            }
        }
    });
}

}  // namespace

template <class T> void flash_body(Isa isa, int threads, const Shape& sh, const T* q, const T* k,
                                   const T* v, float* o) {
    const FlashOps& ops = flash_ops(isa);
    if (sh.n_q <= kDecodeQueries && sh.group_size() * sh.n_q <= ops.decode_max_rows) {
        // The few query rows are widened up front; K and V as the decode path reads them.
        DecodeRows<T> decode_rows = ops.decode_rows_of<T>();
        if constexpr (std::is_same_v<T, bf16>)
            if (bf16_dot_serves(isa, sh)) decode_rows = decode_rows_bf16_dot;
        decode_body(ops, decode_rows, threads, sh,
                    simd::widened(isa, 1, q, i64(sh.q_elems()), Slot::widened_a), k, v, o);
        return;
    }
    if constexpr (std::is_same_v<T, bf16>) {
        if (amx_prefill_serves(isa, sh)) {
            prefill_bf16_products(threads, sh, q, k, v, o, Bf16Products::amx_tiles);
            return;
        }
        if (bf16_dot_serves(isa, sh)) {
            prefill_bf16_products(threads, sh, q, k, v, o, Bf16Products::vector_dots);
            return;
        }
    }
    // The products run in fp32 on Q, K and V widened once: a pass over their n d elements against
    // the products' n^2 d multiply-adds.
    prefill_body(ops, isa, threads, sh,
                 simd::widened(isa, threads, q, i64(sh.q_elems()), Slot::widened_a),
                 simd::widened(isa, threads, k, i64(sh.kv_elems()), Slot::widened_b),
                 simd::widened(isa, threads, v, i64(sh.kv_elems()), Slot::widened_c), o);
}

template void flash_body(Isa, int, const Shape&, const float*, const float*, const float*, float*);
template void flash_body(Isa, int, const Shape&, const bf16*, const bf16*, const bf16*, float*);
template void flash_body(Isa, int, const Shape&, const f16*, const f16*, const f16*, float*);

}  // namespace attn::flash

namespace attn::kernels {

Tiles flash_tiles(Isa isa) {
    if (!cpu_supports(isa)) return {};
    Tiles t = simd_tiles(isa);
    t.row_block = flash::flash_ops(isa).block_q;
    t.kv_block = flash::flash_ops(isa).block_kv;
    t.decode_block = flash::flash_ops(isa).decode_block;
    t.decode_wide_rows = flash::flash_ops(isa).decode_wide_rows;
    t.decode_split = flash::kSplitKeys;
    t.decode_stream_row = flash::flash_ops(isa).decode_stream_row;
    return t;
}

}  // namespace attn::kernels
