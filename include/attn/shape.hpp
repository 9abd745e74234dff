// The problem descriptor shared by every stage: sizes, mask, scale, similarity and thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "attn/dtype.hpp"

namespace attn {

enum class Similarity { dot, cosine };

// Sizes are signed so that a negative value from the command line reaches validation intact
// instead of wrapping to a huge unsigned number.
struct Shape {
    std::int64_t batch = 1;
    std::int64_t heads = 1;
    // K/V heads that the query heads share (grouped-query attention): heads must be a multiple of
    // it, and query head h reads K/V head h / (heads / kv_heads). 0, the default, means heads
    // (ordinary multi-head attention); 1 is multi-query attention.
    std::int64_t kv_heads = 0;
    std::int64_t n_q = 1;
    std::int64_t n_kv = 1;
    std::int64_t head_dim = 1;
    bool causal = false;
    // 0 selects the scaled dot-product default 1/sqrt(head_dim); 1 gives the plain form.
    double scale = 0.0;
    Similarity similarity = Similarity::dot;
    // The storage type of every tensor the stage reads (outputs are fp32).
    DType dtype = DType::f32;
    // The layer stage's own fields (the other stages refuse them): the feed-forward width d_ff
    // (0, the default, means 4 * d_model), SwiGLU's three feed-forward projections instead of two
    // around GELU, rotary embeddings of Q and K instead of the sinusoidal encoding added to X,
    // RMSNorm instead of LayerNorm; and `vocab`, the rows of a token-embedding table looked up in
    // front of the layer (0, the default: the layer reads X itself), at most kMaxVocab.
    std::int64_t d_ff = 0;
    std::int64_t vocab = 0;
    bool swiglu = false;
    bool rope = false;
    bool rms = false;
    // Threads a parallel kernel may use (at most kMaxThreads); single-threaded kernels ignore it.
    int threads = 1;
    // More threads than any CPU this runs on offers: a larger count is a typo, and asking OpenMP
    // for it would start that many threads.
    static constexpr int kMaxThreads = 1024;
    // The largest vocabulary: token ids are passed as floats, exact integers up to 2^24.
    static constexpr std::int64_t kMaxVocab = std::int64_t(1) << 24;

    // Empty when the shape is usable, otherwise one sentence naming the offending field.
    std::string problem() const;
    // Throws std::invalid_argument with problem() when the shape is not usable.
    void validate() const;
    // The descriptor's one text form, which benchmark names, --shape, the repro lines and the
    // result files all use: n:128/h:8/d:64/t:2/causal, with nq:16/nkv:4096 in place of n: when
    // n_q != n_kv, b: when batch != 1, scale: when a scale is given, cosine for that similarity;
    // kv:4 after h: when kv_heads != heads; dt:bf16 or dt:f16 for 16-bit storage (dt:f32, the
    // default, is left out); then the layer's ff:N, vocab:V, swiglu, rope and rms where set; the
    // thread count only `with_threads`. parse_shape() reads it back exactly.
    std::string text(bool with_threads = true) const;

    float effective_scale() const;
    std::int64_t d_model() const { return heads * head_dim; }
    // The feed-forward width, resolving the default 0 to 4 * d_model.
    std::int64_t ff_width() const { return d_ff == 0 ? 4 * d_model() : d_ff; }
    // Whether any of the layer stage's own fields is set.
    bool has_layer_fields() const { return d_ff != 0 || vocab != 0 || swiglu || rope || rms; }
    // K/V heads, resolving the default 0 to heads.
    std::int64_t kv_head_count() const { return kv_heads == 0 ? heads : kv_heads; }
    // Query heads per K/V head.
    std::int64_t group_size() const { return heads / kv_head_count(); }
    // Width of the K and V rows of multi-head attention (the columns of Wk and Wv).
    std::int64_t kv_dim() const { return kv_head_count() * head_dim; }
    // The K/V head, counted over batch x kv_heads, that query head `bh` (counted over batch x
    // heads) reads.
    std::int64_t kv_head_of(std::int64_t bh) const {
        return (bh / heads) * kv_head_count() + (bh % heads) / group_size();
    }
    // Element counts of the tensors the stages exchange.
    std::size_t q_elems() const { return std::size_t(batch * heads * n_q * head_dim); }
    std::size_t kv_elems() const { return std::size_t(batch * kv_head_count() * n_kv * head_dim); }
    std::size_t score_elems() const { return std::size_t(batch * heads * n_q * n_kv); }
    // Key j is visible to query i when j <= i + (n_kv - n_q) (the causal diagonal aligned
    // to the end, as in KV-cache decoding); every key is visible without a mask.
    // Inline: flash asks it for every row of every KV block.
    std::int64_t visible_keys(std::int64_t i) const {
        if (!causal) return n_kv;
        const std::int64_t last = i + (n_kv - n_q);  // index of the last visible key
        return last < 0 ? 0 : (last + 1 < n_kv ? last + 1 : n_kv);
    }
};

const char* to_string(Similarity s);

// Reads the text form of Shape::text() (fields in any order; n:, or nq: with nkv:, plus h: and
// d: are required; kv: as many as h:, b:1, t:1, dt:f32, the default scale and dot otherwise).
// `threads_given` tells whether it named t:. Throws std::invalid_argument with one line naming the
// offending field.
Shape parse_shape(std::string_view text, bool* threads_given = nullptr);

}  // namespace attn
