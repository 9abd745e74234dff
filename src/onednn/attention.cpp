#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "attention_row.hpp"
#include "kernels.hpp"
#include "onednn/onednn.hpp"
#include "row_norms.hpp"
#include "workspace.hpp"

namespace attn::kernels {

namespace {

using dnnl::memory;

// Score matrices of one batched call stay under this many bytes: the heads go through in chunks,
// so that a long sequence with many heads does not need all of its scores at once.
constexpr std::int64_t kScoreBudgetBytes = std::int64_t(64) << 20;

// The primitives and the causal mask of one shape (the scores live in Slot::scores scratch). A
// chunk stacks `chunk` K/V heads as the batch axis of 4-D tensors [1][chunk][rows][.] (rows = the
// group's query rows, group * n_q, contiguous in Q and O); oneDNN 2.6 keeps its JIT matmul for a
// 4-D mask broadcast over the chunk, where a 3-D one sends it to the reference implementation.
// With 16-bit storage Q, K, V and the probabilities P are bf16 (the softmax writes them so, as
// PyTorch's bf16 attention does), S and O fp32.
template <class T> struct AttentionPlan {
    std::int64_t chunk = 1, rows = 0;
    memory::desc q_md, kt_md, s_md, p_md, v_md, o_md, mask_md;
    dnnl::matmul scores;            // S = scale * Q K^T (+ mask)
    onednn::softmax_forward probs;  // P = softmax(S) along keys (in place for fp32)
    dnnl::matmul weighted;          // O = P V
    std::vector<float> mask;        // the causal mask [rows][n_kv], or empty
    std::vector<T> q_unit, k_unit;  // cosine: Q and K rows divided by their norms
    float scale = 1.0f;             // the score scale (an execution argument on oneDNN 3)
};

// x_unit rows = x rows / their Euclidean norm (a zero row stays zero), x [rows][d] stored as T (a
// 16-bit unit row rounded to T, as a framework's normalisation in that type stores it).
template <class T> void unit_rows(const T* x, std::int64_t rows, std::int64_t d, T* x_unit) {
    std::vector<float> wide(std::size_t(d), 0.0f);
    for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t c = 0; c < d; ++c) wide[std::size_t(c)] = to_float(x[r * d + c]);
        float norm;
        row_norms(wide.data(), 1, d, &norm);
        for (std::int64_t c = 0; c < d; ++c)
            x_unit[r * d + c] = from_float<T>(norm != 0 ? wide[std::size_t(c)] / norm : 0.0f);
    }
}

template <class T> AttentionPlan<T> make_plan(const Shape& sh) {
    AttentionPlan<T> p;
    const std::int64_t d = sh.head_dim, nkv = sh.n_kv, heads = sh.batch * sh.kv_head_count();
    p.rows = sh.group_size() * sh.n_q;
    const std::int64_t per_head = p.rows * nkv * std::int64_t(sizeof(float));
    // The largest divisor of the head count whose scores fit the budget: one set of primitives.
    for (std::int64_t c = std::max<std::int64_t>(1, std::min(heads, kScoreBudgetBytes / per_head));
         c >= 1; --c)
        if (heads % c == 0) {
            p.chunk = c;
            break;
        }
    const std::int64_t c = p.chunk, m = p.rows;
    p.q_md = onednn::desc_of<T>({1, c, m, d}, {c * m * d, m * d, d, 1});
    p.kt_md = onednn::desc_of<T>({1, c, d, nkv}, {c * nkv * d, nkv * d, 1, d});  // K read as K^T
    p.s_md = onednn::f32_desc({1, c, m, nkv}, {c * m * nkv, m * nkv, nkv, 1});
    p.p_md = onednn::desc_of<T>({1, c, m, nkv}, {c * m * nkv, m * nkv, nkv, 1});
    p.v_md = onednn::desc_of<T>({1, c, nkv, d}, {c * nkv * d, nkv * d, d, 1});
    p.o_md = onednn::f32_desc({1, c, m, d}, {c * m * d, m * d, d, 1});

    dnnl::primitive_attr attr;
    p.scale = sh.effective_scale();
    onednn::set_scale(attr, p.scale);
    // Under the causal mask with more than one query a row misses keys: -inf added to them.
    if (sh.causal && sh.n_q > 1) {
        p.mask.resize(std::size_t(m * nkv));
        for (std::int64_t r = 0; r < m; ++r)
            for (std::int64_t j = 0; j < nkv; ++j)
                p.mask[std::size_t(r * nkv + j)] = j < sh.visible_keys(r % sh.n_q)
                                                       ? 0.0f
                                                       : -std::numeric_limits<float>::infinity();
        p.mask_md = onednn::f32_desc({1, 1, m, nkv}, {m * nkv, m * nkv, nkv, 1});
        dnnl::post_ops ops;
        ops.append_binary(dnnl::algorithm::binary_add, p.mask_md);
        attr.set_post_ops(ops);
    }
    p.scores = onednn::make_matmul(p.q_md, p.kt_md, p.s_md, attr);
    p.probs = onednn::make_softmax(p.s_md, p.p_md, 3);
    p.weighted = onednn::make_matmul(p.p_md, p.v_md, p.o_md);
    if (sh.similarity == Similarity::cosine) {
        p.q_unit.resize(sh.q_elems());
        p.k_unit.resize(sh.kv_elems());
    }
    return p;
}

// Attention as a framework composes it from oneDNN primitives, per chunk of K/V heads: S = scale *
// Q K^T by a batched matmul (the group's query heads stacked as rows, K read through a transposed
// strided descriptor, the causal mask a binary-add post-op), P = softmax(S) by the softmax
// primitive, O = P V by a batched matmul; cosine divides Q and K rows by their norms first.
// q, o [B][H][n_q][d], k, v [B][kv_heads][n_kv][d], q, k, v stored as T. Runs on Shape::threads
// OpenMP threads; rows whose output is not finite are recomputed exactly (the non-finite
// contract: a fully masked row is zeros, a hidden key adds nothing, where the softmax primitive
// gives NaN).
template <class T>
void attention_onednn(const Shape& sh, const T* q, const T* k, const T* v, float* o) {
    const onednn::ThreadScope threads(sh.threads);
    static onednn::PlanCache<AttentionPlan<T>> cache;
    AttentionPlan<T>& p = cache.get(sh.text(), [&] { return make_plan<T>(sh); });
    const std::int64_t d = sh.head_dim, nkv = sh.n_kv, m = p.rows;
    const std::int64_t heads = sh.batch * sh.kv_head_count();
    if (sh.similarity == Similarity::cosine) {
        unit_rows(q, sh.batch * sh.heads * sh.n_q, d, p.q_unit.data());
        unit_rows(k, heads * nkv, d, p.k_unit.data());
    }
    const T* qs = p.q_unit.empty() ? q : p.q_unit.data();
    const T* ks = p.k_unit.empty() ? k : p.k_unit.data();
    auto& strm = onednn::stream();
    // One chunk's scores (and, stored as T, its probabilities after them), in this thread's
    // grow-only scratch: pages a previous call mapped.
    const std::int64_t scores = p.chunk * m * nkv;
    constexpr bool in_place = std::is_same_v<T, float>;
    float* scratch = workspace(Slot::scores, in_place ? scores : scores + (scores + 1) / 2);
    auto s_mem = onednn::wrap(p.s_md, scratch);
    auto p_mem = in_place ? s_mem : onednn::wrap(p.p_md, scratch + scores);
    for (std::int64_t g = 0; g < heads; g += p.chunk) {
        std::unordered_map<int, dnnl::memory> args = {
            {DNNL_ARG_SRC, onednn::wrap(p.q_md, qs + g * m * d)},
            {DNNL_ARG_WEIGHTS, onednn::wrap(p.kt_md, ks + g * nkv * d)},
            {DNNL_ARG_DST, s_mem}};
        onednn::add_scale(args, &p.scale);
        if (!p.mask.empty())
            args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] =
                onednn::wrap(p.mask_md, p.mask.data());
        p.scores.execute(strm, args);
        p.probs.execute(strm, {{DNNL_ARG_SRC, s_mem}, {DNNL_ARG_DST, p_mem}});
        p.weighted.execute(strm, {{DNNL_ARG_SRC, p_mem},
                                  {DNNL_ARG_WEIGHTS, onednn::wrap(p.v_md, v + g * nkv * d)},
                                  {DNNL_ARG_DST, onednn::wrap(p.o_md, o + g * m * d)}});
    }
    strm.wait();
    for (std::int64_t bh = 0; bh < sh.batch * sh.heads; ++bh) {
        const std::int64_t kvh = sh.kv_head_of(bh);
        repair_nonfinite_rows(sh, q + bh * sh.n_q * d, k + kvh * nkv * d, v + kvh * nkv * d,
                              o + bh * sh.n_q * d, 0, sh.n_q);
    }
}

}  // namespace

// attention_onednn on fp32 and on bf16 storage; layouts as AttentionFn.
void attention_onednn_best(const Shape& sh, const float* q, const float* k, const float* v,
                           float* o) {
    attention_onednn(sh, q, k, v, o);
}
void attention_onednn_best(const Shape& sh, const bf16* q, const bf16* k, const bf16* v, float* o) {
    attention_onednn(sh, q, k, v, o);
}

}  // namespace attn::kernels
