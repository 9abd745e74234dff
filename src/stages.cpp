#include <cstdio>
#include <fstream>
#include <string>

#include "attn/stages.hpp"

namespace attn {

const char* to_string(Stage s) {
    switch (s) {
        case Stage::scores: return "scores";
        case Stage::softmax: return "softmax";
        case Stage::weighted_sum: return "weighted_sum";
        case Stage::attention: return "attention";
        case Stage::projection: return "projection";
        case Stage::multihead: return "multihead";
        case Stage::layer: return "layer";
    }
    return "?";
}

namespace {

// Query-key pairs a head computes: all of them, or by convention half for a square causal mask;
// a rectangular causal mask counts its visible pairs exactly.
double pairs(const Shape& s) {
    if (!s.causal) return double(s.n_q) * double(s.n_kv);
    if (s.n_q == s.n_kv) return 0.5 * double(s.n_q) * double(s.n_kv);
    double n = 0;
    for (std::int64_t i = 0; i < s.n_q; ++i) n += double(s.visible_keys(i));
    return n;
}

double bh(const Shape& s) { return double(s.batch) * double(s.heads); }
double rows(const Shape& s) { return double(s.batch) * double(s.n_q); }
double dm(const Shape& s) { return double(s.d_model()); }
double dkv(const Shape& s) { return double(s.kv_dim()); }
double ff(const Shape& s) { return double(s.ff_width()); }

}  // namespace

double flops(Stage stage, const Shape& s) {
    const double d = double(s.head_dim);
    switch (stage) {
        case Stage::scores: return 2.0 * bh(s) * pairs(s) * d;
        // max, subtract, exp, sum and scale: counted as 5 per visible score.
        case Stage::softmax: return 5.0 * bh(s) * pairs(s);
        case Stage::weighted_sum: return 2.0 * bh(s) * pairs(s) * d;
        case Stage::attention: return 4.0 * bh(s) * pairs(s) * d;
        case Stage::projection: return 2.0 * rows(s) * dm(s) * dm(s);
        // Wq and Wo are d_model x d_model; Wk and Wv d_model x kv_dim, smaller under grouping.
        case Stage::multihead:
            return 4.0 * rows(s) * dm(s) * (dm(s) + dkv(s)) + 4.0 * bh(s) * pairs(s) * d;
        // The block, then the feed-forward's two (SwiGLU: three) products of d_model x d_ff;
        // positions, norms and activations, O(n d_model), are not counted.
        case Stage::layer:
            return flops(Stage::multihead, s) +
                   (s.swiglu ? 3.0 : 2.0) * 2.0 * rows(s) * dm(s) * double(s.ff_width());
    }
    return 0;
}

double min_bytes(Stage stage, const Shape& s) {
    const double q = double(s.q_elems()), kv = double(s.kv_elems()), sc = double(s.score_elems());
    const double w = dm(s) * dm(s), w_kv = dm(s) * dkv(s), x = rows(s) * dm(s);
    // Inputs in the storage type, outputs in fp32.
    const double in = double(element_bytes(s.dtype)), out = 4.0;
    switch (stage) {
        case Stage::scores: return in * (q + kv) + out * sc;
        case Stage::softmax: return 4.0 * (2 * sc);
        case Stage::weighted_sum: return in * (sc + kv) + out * q;
        case Stage::attention: return in * (q + 2 * kv) + out * q;
        case Stage::projection: return in * (x + w) + out * x;
        case Stage::multihead: return in * (x + 2 * w + 2 * w_kv) + out * x;
        // Under vocab, the token ids and the table rows they pick in place of X.
        case Stage::layer:
            return 4.0 * (x + (s.vocab ? rows(s) : 0.0) + 2 * w + 2 * w_kv +
                          (s.swiglu ? 3.0 : 2.0) * dm(s) * ff(s) + 4 * dm(s)) +
                   out * x;
    }
    return 0;
}

double footprint_bytes(Stage stage, const Shape& s) {
    const double sc = double(s.score_elems()) * 4.0;
    switch (stage) {
        case Stage::scores:
        case Stage::softmax:
        case Stage::weighted_sum: return min_bytes(stage, s) + sc;
        // Unfused kernels hold the whole score matrix; inputs and outputs come on top.
        case Stage::attention: return min_bytes(stage, s) + sc;
        case Stage::projection: return min_bytes(stage, s);
        // Q, K, V and the per-head output of the block's scratch, and K and V packed.
        case Stage::multihead:
            return min_bytes(stage, s) +
                   (2.0 * double(s.q_elems()) + 4.0 * double(s.kv_elems())) * 4.0 + sc;
        // The block's, plus the layer's activations: X0, the block's output and H (n x d_model),
        // the feed-forward's one or two n x d_ff; and the whole token-embedding table.
        case Stage::layer:
            return footprint_bytes(Stage::multihead, s) - min_bytes(Stage::multihead, s) +
                   min_bytes(stage, s) +
                   4.0 * rows(s) * (3.0 * dm(s) + (s.swiglu ? 2.0 : 1.0) * ff(s)) +
                   4.0 * double(s.vocab) * dm(s);
    }
    return 0;
}

namespace {

// MemAvailable from /proc/meminfo in bytes, or 0 when it cannot be read (then no check is made).
double available_memory() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    double kib = 0;
    std::string unit;
    while (in >> key >> kib >> unit)
        if (key == "MemAvailable:") return kib * 1024.0;
    return 0;
}

}  // namespace

std::string stage_problem(Stage stage, const Shape& shape) {
    if (auto p = shape.problem(); !p.empty()) return p;
    if (stage == Stage::softmax && shape.dtype != DType::f32)
        return std::string("softmax reads the scores stage's fp32 output: dt:") +
               to_string(shape.dtype) + " does not apply to it";
    if ((stage == Stage::multihead || stage == Stage::layer) && shape.n_q != shape.n_kv)
        return std::string(to_string(stage)) + " is self-attention: n_q (" +
               std::to_string(shape.n_q) + ") must equal n_kv (" + std::to_string(shape.n_kv) + ")";
    if (stage != Stage::layer && shape.has_layer_fields())
        return "ff:, vocab:, swiglu, rope and rms describe the layer stage, not " +
               std::string(to_string(stage));
    if (stage == Stage::layer && shape.dtype != DType::f32)
        return std::string("the layer stage runs in f32: dt:") + to_string(shape.dtype) +
               " does not apply to it";
    if (stage == Stage::layer && shape.similarity == Similarity::cosine)
        return "the layer stage uses scaled dot-product attention: cosine does not apply to it";
    if (stage == Stage::layer && shape.rope && shape.head_dim % 2 != 0)
        return "rope rotates pairs of a head's dimensions: head_dim (" +
               std::to_string(shape.head_dim) + ") must be even";
    const double need = footprint_bytes(stage, shape);
    const double have = available_memory();
    if (have > 0 && need > 0.9 * have) {
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "needs %.2f GiB of buffers but only %.2f GiB of memory is available",
                      need / (1 << 30), have / (1 << 30));
        return std::string(to_string(stage)) + " at " + "n_q=" + std::to_string(shape.n_q) +
               " n_kv=" + std::to_string(shape.n_kv) + " " + buf;
    }
    return {};
}

}  // namespace attn
