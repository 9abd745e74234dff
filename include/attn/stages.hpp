// One function-pointer signature per attention stage. Every variant of a stage has exactly this
// signature. Tensors are dense row-major fp32: activations [batch][heads][seq][head_dim],
// scores and probabilities [batch][heads][n_q][n_kv]; no alignment is assumed.
#pragma once

#include "attn/shape.hpp"

namespace attn {

enum class Stage { scores, softmax, weighted_sum, attention, projection, multihead };
inline constexpr Stage kAllStages[] = {Stage::scores,    Stage::softmax,    Stage::weighted_sum,
                                       Stage::attention, Stage::projection, Stage::multihead};

// The four projection matrices of multi-head attention, each row-major [d_in][d_out] so that
// Y = X * W: wq and wo are [d_model][d_model], wk and wv [d_model][kv_dim] with kv_dim =
// kv_heads * head_dim (d_model without grouping).
struct MhaWeights {
    const float* wq;
    const float* wk;
    const float* wv;
    const float* wo;
};

// Non-finite inputs follow IEEE arithmetic on what each stage's math reads, as PyTorch's and
// NumPy's float arithmetic does: a NaN in an input makes NaN every output that depends on it and no
// other; inf - inf and 0 * inf are NaN, so a +inf score makes its softmax row NaN; a score of -inf
// weighs nothing, and a row whose scores are all -inf (fully masked) is exact zeros; in attention
// and multihead a key the causal mask hides from a row contributes nothing to it, whatever its K
// and V rows hold (weighted_sum has no mask: it reads all of P and V). tests/test_nonfinite.cpp
// checks every kernel of every tier against the reference.
//
// Grouped-query attention: K and V hold kv_heads heads, [B][kv_heads][n_kv][d], and query head h
// reads K/V head h / (heads / kv_heads) (Shape::kv_head_of); kv_heads = heads is the plain case.
//
// S = sim(Q, K) * scale; q [B][H][n_q][d], k [B][kv_heads][n_kv][d] -> s [B][H][n_q][n_kv];
// masked entries are -inf.
using ScoresFn = void(const Shape&, const float* q, const float* k, float* s);
// P = row-wise softmax(S); s, p [B][H][n_q][n_kv]; may run in place (p == s); rows that are
// entirely -inf give zeros.
using SoftmaxFn = void(const Shape&, const float* s, float* p);
// O = P * V; p [B][H][n_q][n_kv], v [B][kv_heads][n_kv][d] -> o [B][H][n_q][d].
using WeightedSumFn = void(const Shape&, const float* p, const float* v, float* o);
// O = softmax(sim(Q, K) * scale + mask) * V for every head; q, o [B][H][n_q][d],
// k, v [B][kv_heads][n_kv][d].
using AttentionFn = void(const Shape&, const float* q, const float* k, const float* v, float* o);
// Y = X * W; x [B * n_q][d_model], w [d_model][d_model] -> y [B * n_q][d_model],
// d_model = heads * head_dim.
using ProjectionFn = void(const Shape&, const float* x, const float* w, float* y);
// Self-attention block: Q, K, V = X Wq, X Wk, X Wv; split into heads (kv_heads for K and V);
// attention per head; concatenate; Y = concat * Wo. x, y [B][n][d_model] with n = n_q = n_kv.
using MultiheadFn = void(const Shape&, const float* x, const MhaWeights& w, float* y);

template <Stage S> struct StageTraits;
template <> struct StageTraits<Stage::scores> { using Fn = ScoresFn; };
template <> struct StageTraits<Stage::softmax> { using Fn = SoftmaxFn; };
template <> struct StageTraits<Stage::weighted_sum> { using Fn = WeightedSumFn; };
template <> struct StageTraits<Stage::attention> { using Fn = AttentionFn; };
template <> struct StageTraits<Stage::projection> { using Fn = ProjectionFn; };
template <> struct StageTraits<Stage::multihead> { using Fn = MultiheadFn; };

const char* to_string(Stage s);

// Floating-point operations of one call, by the published convention: 4 n_q n_kv d per head for
// the attention core (halved by a square causal mask), 2 m k n for a matrix product.
double flops(Stage stage, const Shape& shape);
// Bytes a call must at least read and write once (inputs and outputs), for a GB/s rate.
double min_bytes(Stage stage, const Shape& shape);
// Bytes of the buffers a workload of this stage allocates (inputs, outputs, scratch).
double footprint_bytes(Stage stage, const Shape& shape);

}  // namespace attn

namespace attn {
// Empty when `stage` can run `shape` here, else one sentence naming the field: the shape's own
// checks, stage-specific ones (multihead is self-attention: n_q == n_kv) and whether the
// buffers fit in the memory available now.
std::string stage_problem(Stage stage, const Shape& shape);
}  // namespace attn
