#include "grid.hpp"

#include <algorithm>
#include <map>

namespace attn::testing {

namespace {

Shape make(std::int64_t n_q, std::int64_t n_kv, std::int64_t d, bool causal = false,
           Similarity sim = Similarity::dot, std::int64_t heads = 2, std::int64_t batch = 1,
           std::int64_t kv_heads = 0) {
    Shape s;
    s.batch = batch, s.heads = heads, s.kv_heads = kv_heads, s.n_q = n_q, s.n_kv = n_kv,
    s.head_dim = d;
    s.causal = causal, s.similarity = sim;
    return s;
}

Shape with_threads(Shape s, int threads) {
    s.threads = threads;
    return s;
}

// Lengths and head sizes 1..33 cover every remainder around SIMD widths up to 16 floats
// (2 x 16 + 1); larger and rectangular shapes, large logits and misaligned pointers follow.
std::vector<GridCase> edge_cases() {
    std::vector<GridCase> g;
    const std::int64_t dims[] = {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64};
    // The labels start as a std::string: GCC 12 reports "n" + a string as an overlapping copy.
    for (std::int64_t n = 1; n <= 33; ++n) {
        Shape s =
            make(n, n, dims[n % 14], n % 2 == 1, n % 3 == 0 ? Similarity::cosine : Similarity::dot);
        g.push_back({std::string("n") + std::to_string(n),
                     with_threads(s, 1 + int(n % 2)),
                     {},
                     std::size_t(n % 4 == 1)});
    }
    for (std::int64_t d = 1; d <= 33; ++d) {
        Shape s = make(9 + d % 5, 9 + d % 5, d, d % 2 == 0,
                       d % 4 == 3 ? Similarity::cosine : Similarity::dot);
        g.push_back({std::string("d") + std::to_string(d),
                     with_threads(s, 1 + int(d % 2)),
                     {},
                     std::size_t(d % 3 == 0)});
    }
    g.push_back({"n64_d64", make(64, 64, 64)});
    g.push_back({"n100_d80_causal", make(100, 100, 80, true)});
    g.push_back({"n129_d128_t2", with_threads(make(129, 129, 128), 2)});
    g.push_back({"n257_d32_causal_b2_t2",
                 with_threads(make(257, 257, 32, true, Similarity::dot, 2, 2), 2)});
    g.push_back({"q5_kv37", make(5, 37, 16)});
    // n_q > n_kv with the causal mask: the first 32 query rows see no key at all.
    g.push_back({"q37_kv5_causal_masked_rows", make(37, 5, 16, true)});
    g.push_back({"q1_kv300_causal_decode", make(1, 300, 64, true)});
    g.push_back({"q64_kv129_causal_cosine", make(64, 129, 48, true, Similarity::cosine)});
    g.push_back({"q129_kv64_t2", with_threads(make(129, 64, 24), 2)});
    g.push_back({"b3_h3_n20_d12", make(20, 20, 12, false, Similarity::dot, 3, 3), {}, 1});
    // More rows than the projections' few-rows path takes, in two sequences whose rows are not
    // whole micro-tiles: d_model 512 (heads of 128), and 240 with heads of 80, not a whole number
    // of AVX-512's 16-column packing transposes (which cut a K slice of 192 inside a head).
    g.push_back(
        {"b2_h4_n37_d128_t2", with_threads(make(37, 37, 128, false, Similarity::dot, 4, 2), 2)});
    g.push_back(
        {"b2_h3_n29_d80_t2", with_threads(make(29, 29, 80, false, Similarity::dot, 3, 2), 2)});
    g.push_back({"n12_d10_plain_scale1", [] {
                     auto s = make(12, 12, 10);
                     s.scale = 1.0;
                     return s;
                 }()});
    // Inputs in [90, 100]: exp(s) overflows fp32 unless the row maximum is subtracted first.
    // Grouped-query heads: multi-query (one K/V head), a divisor, and kv_heads = heads spelled out.
    g.push_back({"h4_kv1_n19_d12_causal_t2",
                 with_threads(make(19, 19, 12, true, Similarity::dot, 4, 1, 1), 2)});
    g.push_back({"h6_kv2_n23_d9_cosine", make(23, 23, 9, false, Similarity::cosine, 6, 1, 2)});
    g.push_back({"h3_kv3_n10_d8", make(10, 10, 8, false, Similarity::dot, 3, 1, 3)});
    g.push_back({"b2_h4_kv2_n33_d16_causal_t2",
                 with_threads(make(33, 33, 16, true, Similarity::dot, 4, 2, 2), 2)});
    g.push_back(
        {"h6_kv3_q5_kv41_d7_causal", make(5, 41, 7, true, Similarity::dot, 6, 1, 3), {}, 1});
    // The layer stage's forms (the other stages refuse its fields): rotary embeddings with
    // RMSNorm and SwiGLU over grouped heads and the causal mask; an odd d_model (the sinusoidal
    // encoding's last column has no pair) and an odd feed-forward width; two sequences.
    auto layer = [](Shape s, std::int64_t ff, bool swiglu, bool rope, bool rms) {
        s.d_ff = ff, s.swiglu = swiglu, s.rope = rope, s.rms = rms;
        return s;
    };
    g.push_back(
        {"layer_rope_rms_swiglu_h4_kv2_n19_d8_causal_t2",
         with_threads(layer(make(19, 19, 8, true, Similarity::dot, 4, 1, 2), 50, true, true, true),
                      2)});
    g.push_back({"layer_ff37_h3_n9_d5",
                 layer(make(9, 9, 5, false, Similarity::dot, 3), 37, false, false, false)});
    g.push_back(
        {"layer_rope_b2_h2_n33_d16_t2",
         with_threads(layer(make(33, 33, 16, false, Similarity::dot, 2, 2), 0, false, true, false),
                      2)});
    // Small enough (d_model 4) that the whole-layer bound stays tight: a rotation left out
    // moves the output by more than it allows.
    g.push_back(
        {"layer_rope_h2_n6_d2_t2",
         with_threads(layer(make(6, 6, 2, false, Similarity::dot, 2), 0, false, true, false), 2)});
    g.push_back({"layer_rope_rms_h2_kv1_n7_d2_causal",
                 layer(make(7, 7, 2, true, Similarity::dot, 2, 1, 1), 0, false, true, true)});
    g.push_back({"layer_swiglu_rms_h2_n17_d12_causal",
                 layer(make(17, 17, 12, true), 0, true, false, true)});
    // The token lookup in front: more ids than table rows (repeats), with the sinusoidal
    // encoding then added in place over two sequences, and under rope with nothing added.
    auto vocab = [](Shape s, std::int64_t v) {
        s.vocab = v;
        return s;
    };
    g.push_back({"layer_vocab7_b2_h3_n9_d5_t2",
                 with_threads(vocab(make(9, 9, 5, false, Similarity::dot, 3, 2), 7), 2)});
    g.push_back(
        {"layer_vocab50_rope_rms_swiglu_h4_kv2_n19_d8_causal",
         vocab(layer(make(19, 19, 8, true, Similarity::dot, 4, 1, 2), 0, true, true, true), 50)});
    const Fill large{90.0f, 100.0f, 7};
    g.push_back({"large_n17_d8", make(17, 17, 8), large});
    g.push_back({"large_n64_d16_causal", make(64, 64, 16, true), large, 1});
    g.push_back({"large_q33_kv70_d5_cosine", make(33, 70, 5, false, Similarity::cosine), large});
    g.push_back({"large_layer_rope_rms_swiglu_n12_d8",
                 [&] {
                     Shape s = make(12, 12, 8);
                     s.rope = s.rms = s.swiglu = true;
                     return s;
                 }(),
                 large});
    return g;
}

// The sizes to try around one tile T: just below, at, just above, and past a multiple.
std::vector<std::pair<std::string, std::int64_t>> around(std::int64_t tile) {
    std::vector<std::pair<std::string, std::int64_t>> out;
    if (tile > 1) out.push_back({"below", tile - 1});
    out.push_back({"at", tile});
    out.push_back({"above", tile + 1});
    out.push_back({"twice_plus1", 2 * tile + 1});
    return out;
}

// Which dimension of a stage's problem a tile runs along: the rows of the product's output
// (query rows), its columns, or its depth (the summed dimension).
enum class Axis { n_q, n_kv, head_dim, d_model };

// The axes of `stage` that a tile of each kind runs along.
std::vector<Axis> axes_of(Stage stage, const char* tile) {
    const std::string t = tile;
    switch (stage) {
        case Stage::scores:  // S [n_q x n_kv] = Q [n_q x d] K^T: depth d
            if (t == "vector") return {Axis::head_dim, Axis::n_kv};
            if (t == "rows" || t == "row_block") return {Axis::n_q};
            if (t == "cols") return {Axis::n_kv};
            if (t == "depth") return {Axis::head_dim};
            return {};
        case Stage::softmax:
            if (t == "vector" || t == "cols") return {Axis::n_kv};
            if (t == "rows" || t == "row_block") return {Axis::n_q};
            return {};
        case Stage::weighted_sum:  // O [n_q x d] = P [n_q x n_kv] V: depth n_kv
            if (t == "vector" || t == "cols") return {Axis::head_dim};
            if (t == "rows" || t == "row_block") return {Axis::n_q};
            if (t == "depth") return {Axis::n_kv};
            return {};
        case Stage::attention:  // scores (depth d), then P V (depth n_kv, columns d)
            if (t == "vector") return {Axis::head_dim, Axis::n_kv};
            if (t == "rows" || t == "row_block") return {Axis::n_q};
            if (t == "cols") return {Axis::n_kv, Axis::head_dim};
            if (t == "depth") return {Axis::head_dim, Axis::n_kv};
            if (t == "kv_block" || t == "decode_block" || t == "decode_split") return {Axis::n_kv};
            return {};
        case Stage::projection:  // Y [b n x d_model] = X W: columns and depth d_model
        case Stage::multihead:
        case Stage::layer:
            if (t == "vector" || t == "cols" || t == "depth") return {Axis::d_model};
            if (t == "rows" || t == "row_block" || t == "projection_block" ||
                t == "projection_direct")
                return {Axis::n_q};
            if (t == "kv_block") return {Axis::n_q};
            return {};
    }
    return {};
}

// A small shape of `stage` whose `axis` is `size`, the other dimensions small and odd so that
// they stay off every tile edge; for attention also a causal form with n_q != n_kv and grouped
// heads, and, off the n_q axis, a grouped form with more query rows than a row block
// (`row_block`), so that fused attention's prefill path meets the edge as well as its decode path;
// for the projections' depth, a form with more rows than their few-rows path takes and, past one
// K slice, one with more rows than a block of their packed product.
std::vector<Shape> shapes_with(Stage stage, Axis axis, std::int64_t size, const Tiles& t) {
    const std::int64_t row_block = t.row_block;
    Shape s = make(7, 11, 5, false, Similarity::dot, 1);
    switch (axis) {
        case Axis::n_q: s.n_q = size; break;
        case Axis::n_kv: s.n_kv = size; break;
        case Axis::head_dim: s.head_dim = size; break;
        case Axis::d_model: s.head_dim = size; break;
    }
    if (reads_rows_of_x(stage)) s.n_kv = s.n_q;  // self-attention
    std::vector<Shape> out{s};
    if ((stage == Stage::projection || stage == Stage::multihead) && axis == Axis::d_model &&
        t.projection_direct > 0) {
        // Past the few-rows path, in two sequences: the packed product meets the K slice's edge
        // inside the (one) head of X or Y in the heads' layout.
        Shape p = s;
        p.batch = 2, p.threads = 2, p.n_q = p.n_kv = t.projection_direct / 2 + 3;
        out.push_back(p);
        if (t.projection_block > 0 && size == t.depth + 1) {
            // More rows than a block of the packed product and just past one K slice: the blocks
            // after the first read the W slices the first one packed. (Once is enough: the
            // reference's cost grows with the depth, and a deeper twin caught nothing more.)
            Shape b = s;
            b.threads = 2, b.n_q = b.n_kv = t.projection_block + 1;
            out.push_back(b);
        }
    }
    if (stage == Stage::attention) {
        Shape c = s;
        c.causal = true, c.heads = 4, c.kv_heads = 2, c.threads = 2;
        if (axis == Axis::n_q) c.n_kv = size + 3;
        else c.n_q = std::min<std::int64_t>(c.n_kv, 13);
        out.push_back(c);
        if (axis != Axis::n_q && row_block > 0) {
            Shape p = s;
            p.heads = 2, p.kv_heads = 1, p.threads = 2, p.n_q = row_block + 1;
            out.push_back(p);
        }
    }
    return out;
}

const char* axis_name(Axis a) {
    switch (a) {
        case Axis::n_q: return "nq";
        case Axis::n_kv: return "nkv";
        case Axis::head_dim: return "d";
        case Axis::d_model: return "dmodel";
    }
    return "?";
}

std::vector<GridCase> tile_cases(const Kernel& k) {
    const Tiles t = k.tiles();
    const std::pair<const char*, std::int64_t> tiles[] = {
        {"vector", t.vector},
        {"rows", t.rows},
        {"cols", t.cols},
        {"depth", t.depth},
        {"row_block", t.row_block},
        {"kv_block", t.kv_block},
        {"decode_block", t.decode_block},
        {"decode_split", t.decode_split},
        {"projection_block", t.projection_block},
        {"projection_direct", t.projection_direct}};
    // One case per distinct shape; where tiles coincide (flash's KV block and the K slice are both
    // 512 keys on AVX2), the label names every tile whose edge the shape sits on.
    std::vector<GridCase> out;
    std::vector<std::string> edges, suffixes;
    std::map<std::string, std::size_t> index;
    for (const auto& [tile, size] : tiles) {
        if (size <= 0) continue;
        for (Axis axis : axes_of(k.stage, tile))
            for (const auto& [where, value] : around(size))
                for (const Shape& s : shapes_with(k.stage, axis, value, t)) {
                    const std::string edge = std::string(tile) + std::to_string(size) + "_" + where;
                    const auto [it, fresh] = index.emplace(s.text(), out.size());
                    if (fresh) {
                        out.push_back({"", s, {}, 0});
                        edges.push_back(edge);
                        suffixes.push_back(
                            std::string(axis_name(axis)) + std::to_string(value) +
                            (s.kv_head_count() != s.heads ? "_h" + std::to_string(s.heads) + "_kv" +
                                                                std::to_string(s.kv_heads)
                                                          : "") +
                            (s.n_q > 13 && axis != Axis::n_q ? "_nq" + std::to_string(s.n_q) : "") +
                            (s.batch > 1
                                 ? "_b" + std::to_string(s.batch) + "_nq" + std::to_string(s.n_q)
                                 : "") +
                            (s.causal ? "_causal" : ""));
                    } else {
                        edges[it->second] += "_and_" + edge;
                    }
                }
    }
    for (std::size_t i = 0; i < out.size(); ++i) out[i].label = edges[i] + "_" + suffixes[i];
    // The projections' product reads X in place below the depth from which it packs X: at that
    // depth (one head of it), with more rows than its few-rows path takes, packed into each
    // thread's own copy on two threads and into the shared one on one.
    if ((k.stage == Stage::projection || k.stage == Stage::multihead) &&
        t.projection_packed_x > 0 && t.projection_direct > 0) {
        const std::int64_t depth = t.projection_packed_x, n = t.projection_direct + 3;
        for (int threads : {1, 2})
            out.push_back({"projection_packed_x" + std::to_string(depth) + "_h1_nq" +
                               std::to_string(n) + "_t" + std::to_string(threads),
                           with_threads(make(n, n, depth, false, Similarity::dot, 1), threads)});
    }
    // Decode: a few queries against more keys than any of the kernel's tiles spans, grouped.
    if (k.stage == Stage::scores || k.stage == Stage::weighted_sum || k.stage == Stage::attention) {
        const std::int64_t n_kv = 2 * std::max({t.vector, t.cols, t.depth, t.kv_block,
                                                t.decode_block, std::int64_t(16)}) +
                                  1;
        const std::string keys = "_nkv" + std::to_string(n_kv);
        // Scores of standard deviation 3 at every head size (uniform inputs in [-3, 3]): with
        // [-1, 1] they spread by 1/3, the softmax over a thousand keys is nearly flat, and a
        // wrong score moves the output by less than the bound (a decode path that multiplied
        // each query by the wrong key columns passed every one of these shapes).
        const Fill peaked{-3.0f, 3.0f, 11};
        out.push_back({"decode_q1_h4_kv1" + keys + "_t2",
                       with_threads(make(1, n_kv, 24, false, Similarity::dot, 4, 1, 1), 2),
                       peaked});
        out.push_back({"decode_q4_h4_kv2" + keys + "_causal_t2",
                       with_threads(make(4, n_kv, 17, true, Similarity::dot, 4, 1, 2), 2), peaked});
        out.push_back({"decode_q16_h8_kv2" + keys + "_causal_cosine_t2",
                       with_threads(make(16, n_kv, 8, true, Similarity::cosine, 8, 1, 2), 2),
                       peaked});
        out.push_back({"decode_q3_b2_h2" + keys + "_causal",
                       make(3, n_kv, 9, true, Similarity::dot, 2, 2), peaked, 1});
        // A head size of whole runs of two vectors, which the narrow form reads two vectors at a
        // time on a bf16 cache, past one register tile of columns; 7 rows per K/V head take row
        // tiles of 4, 2 and 1.
        if (t.vector > 0) {
            const std::int64_t d = 6 * t.vector;
            out.push_back({"decode_q7_h2_kv2" + keys + "_d" + std::to_string(d) + "_causal_t2",
                           with_threads(make(7, n_kv, d, true, Similarity::dot, 2, 1, 2), 2),
                           peaked});
        }
        // Head sizes at and past the one from which the decode path reads a streamed cache's
        // rows whole (DecodeFromMemoryVsReference takes every cache to stream), the second with
        // an odd count of vectors and a tail; 7 rows per K/V head take row tiles of 4, 2 and 1.
        if (const std::int64_t d = t.decode_stream_row; d > 0)
            for (const std::int64_t head : {d, d + t.vector + 1})
                out.push_back(
                    {"decode_q7_h2_kv2" + keys + "_d" + std::to_string(head) + "_causal_t2",
                     with_threads(make(7, n_kv, head, true, Similarity::dot, 2, 1, 2), 2), peaked});
        // Query rows per K/V head on both sides of the decode path's switch to its wide form.
        if (const std::int64_t wide = t.decode_wide_rows; wide > 1) {
            for (const std::int64_t heads : {wide - 1, wide})
                out.push_back(
                    {"decode_q1_h" + std::to_string(heads) + "_kv1" + keys + "_t2",
                     with_threads(make(1, n_kv, 19, false, Similarity::dot, heads, 1, 1), 2),
                     peaked});
            const std::int64_t group = (wide + 2) / 3;  // 3 queries x group >= wide rows
            out.push_back(
                {"decode_q3_h" + std::to_string(2 * group) + "_kv2" + keys + "_causal_cosine_t2",
                 with_threads(make(3, n_kv, 33, true, Similarity::cosine, 2 * group, 1, 2), 2),
                 peaked});
        }
    }
    return out;
}

}  // namespace

std::vector<GridCase> grid_for(const Kernel& kernel) {
    std::vector<GridCase> out;
    auto add = [&](GridCase c) {
        c.shape.dtype = kernel.dtype;  // the storage type the kernel reads
        // A layer of d_model 256 and more keeps its feed-forward at d_model instead of 4 d_model:
        // with the default width, the double reference and bound of the two widest common cases
        // (d_model 256 and 512) took 85% of the layer's test time, minutes under ASan and qemu;
        // the products' tile edges along d_model are then d_ff's as well.
        if (kernel.stage == Stage::layer && c.shape.d_model() >= 256 && c.shape.d_ff == 0)
            c.shape.d_ff = c.shape.d_model();
        if (stage_problem(kernel.stage, c.shape).empty()) out.push_back(std::move(c));
    };
    for (auto& c : edge_cases()) add(c);
    for (auto& c : tile_cases(kernel)) add(c);
    return out;
}

}  // namespace attn::testing
