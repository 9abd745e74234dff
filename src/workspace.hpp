// Per-thread scratch memory of the simd, omp, flash and onednn kernels.
#pragma once

#include <cstdint>

namespace attn {

// What a workspace slot holds; each thread has its own set of slots.
enum class Slot {
    keys_packed,
    values_packed,
    key_norms,
    weights_packed,
    thread_block,
    scores,   // a score matrix the onednn attention materialises
    block_q,  // the multi-head block's Q, K, V and per-head output, [B][heads][n][d]
    block_k,
    block_v,
    block_heads,
    projection_rows,      // a projection's rows before the head split, when it cannot write heads
    projection_packed_x,  // X packed in row tiles: shared by a projection's threads, or each
                          // thread's own in a call of one block of rows
    projection_parts,     // a few-rows projection's sums over parts of W's rows but the first
    widened_a,            // a stage's first, second and third 16-bit inputs widened to fp32
    widened_b,            // (Q, K, V; P, V; X, W), shared by a call's threads
    widened_c,
    layer_x0,    // the layer's input (looked-up token rows) with its positions, [B][n][d_model]
    layer_h,     // the attention block's output, then H = Norm(X0 + it)
    layer_ff,    // the feed-forward's hidden activations [B][n][d_ff]
    layer_gate,  // SwiGLU's linear half, [B][n][d_ff]
    count
};

// At least `floats` floats of 64-byte-aligned scratch for `slot` of the calling thread. The
// memory stays with the thread and only grows: repeated calls (a benchmark loop, a model's
// layers) reuse pages that are already mapped instead of faulting in fresh ones, which cost
// several percent of a flash attention call at n = 2048. Valid until the thread's next call
// with the same slot and a larger size.
float* workspace(Slot slot, std::int64_t floats);

}  // namespace attn
