// One function-pointer signature per attention stage and storage type. Every variant of a stage
// has exactly this signature for each storage type T it reads (float, bf16 or f16: Shape::dtype).
// Tensors are dense row-major: activations [batch][heads][seq][head_dim], scores and
// probabilities [batch][heads][n_q][n_kv]; inputs stored as T, outputs fp32; no alignment is
// assumed.
#pragma once

#include "attn/dtype.hpp"
#include "attn/shape.hpp"

namespace attn {

enum class Stage { scores, softmax, weighted_sum, attention, projection, multihead, layer };
inline constexpr Stage kAllStages[] = {Stage::scores,    Stage::softmax,    Stage::weighted_sum,
                                       Stage::attention, Stage::projection, Stage::multihead,
                                       Stage::layer};

// The four projection matrices of multi-head attention, each row-major [d_in][d_out] so that
// Y = X * W: wq and wo are [d_model][d_model], wk and wv [d_model][kv_dim] with kv_dim =
// kv_heads * head_dim (d_model without grouping); stored as T.
template <class T> struct MhaWeightsOf {
    const T* wq;
    const T* wk;
    const T* wv;
    const T* wo;
};
using MhaWeights = MhaWeightsOf<float>;

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
template <class T> using ScoresFnOf = void(const Shape&, const T* q, const T* k, float* s);
// P = row-wise softmax(S); s, p [B][H][n_q][n_kv]; may run in place (p == s); rows that are
// entirely -inf give zeros. fp32 only: its input is the scores stage's fp32 output.
using SoftmaxFn = void(const Shape&, const float* s, float* p);
// O = P * V; p [B][H][n_q][n_kv], v [B][kv_heads][n_kv][d] -> o [B][H][n_q][d].
template <class T> using WeightedSumFnOf = void(const Shape&, const T* p, const T* v, float* o);
// O = softmax(sim(Q, K) * scale + mask) * V for every head; q, o [B][H][n_q][d],
// k, v [B][kv_heads][n_kv][d].
template <class T>
using AttentionFnOf = void(const Shape&, const T* q, const T* k, const T* v, float* o);
// Y = X * W; x [B * n_q][d_model], w [d_model][d_model] -> y [B * n_q][d_model],
// d_model = heads * head_dim.
template <class T> using ProjectionFnOf = void(const Shape&, const T* x, const T* w, float* y);
// Self-attention block: Q, K, V = X Wq, X Wk, X Wv; split into heads (kv_heads for K and V);
// attention per head; concatenate; Y = concat * Wo. x, y [B][n][d_model] with n = n_q = n_kv.
// With 16-bit storage the intermediate Q, K, V and concatenated heads are stored as T too, as
// frameworks keep them.
template <class T>
using MultiheadFnOf = void(const Shape&, const T* x, const MhaWeightsOf<T>& w, float* y);

// The weights of one transformer layer: the attention block's four; the feed-forward's w1
// [d_model][d_ff] and w2 [d_ff][d_model], and with SwiGLU w3 [d_model][d_ff], the linear half
// that the SiLU of X w1 gates (else unused); `norms` [4][d_model]: the gain and bias of the
// normalisation after attention, then of the one after the feed-forward (RMSNorm reads only the
// gains); under vocab:V the token-embedding table [V][d_model] (else unused). fp32.
struct LayerWeights {
    MhaWeights attention;
    const float* w1;
    const float* w2;
    const float* w3;
    const float* norms;
    const float* embedding;
};
// One post-norm transformer layer (attn/README "Stages"): X0 = X + sinusoidal positions (unless
// rope); H = Norm(X0 + MultiHead(X0)) with rotary embeddings on Q and K under rope; Y = Norm(H +
// FFN(H)), FFN(H) = GELU(H w1) w2 or (SiLU(H w1) * (H w3)) w2 under swiglu; Norm LayerNorm or,
// under rms, RMSNorm. x, y [B][n][d_model], n = n_q = n_kv; fp32 only. Under vocab:V, x holds
// token ids [B][n] instead, whole numbers below V as floats, and X is their rows of the embedding
// table; an id that is not one (NaN, a fraction, out of range) looks up a row of NaN.
using LayerFn = void(const Shape&, const float* x, const LayerWeights& w, float* y);

using ScoresFn = ScoresFnOf<float>;
using WeightedSumFn = WeightedSumFnOf<float>;
using AttentionFn = AttentionFnOf<float>;
using ProjectionFn = ProjectionFnOf<float>;
using MultiheadFn = MultiheadFnOf<float>;

// The C++ element type of each storage type.
template <DType D> struct StorageOf;
template <> struct StorageOf<DType::f32> { using type = float; };
template <> struct StorageOf<DType::bf16> { using type = bf16; };
template <> struct StorageOf<DType::f16> { using type = f16; };
template <DType D> using storage_t = typename StorageOf<D>::type;

template <Stage S, class T> struct StageTraits;
template <class T> struct StageTraits<Stage::scores, T> { using Fn = ScoresFnOf<T>; };
template <> struct StageTraits<Stage::softmax, float> { using Fn = SoftmaxFn; };
template <class T> struct StageTraits<Stage::weighted_sum, T> { using Fn = WeightedSumFnOf<T>; };
template <class T> struct StageTraits<Stage::attention, T> { using Fn = AttentionFnOf<T>; };
template <class T> struct StageTraits<Stage::projection, T> { using Fn = ProjectionFnOf<T>; };
template <class T> struct StageTraits<Stage::multihead, T> { using Fn = MultiheadFnOf<T>; };
template <> struct StageTraits<Stage::layer, float> { using Fn = LayerFn; };

const char* to_string(Stage s);

// Whether the stage works on rows of X [B * n][d_model] (projection, multihead, layer), whose
// shapes are self-attention's: n_q = n_kv.
constexpr bool reads_rows_of_x(Stage s) {
    return s == Stage::projection || s == Stage::multihead || s == Stage::layer;
}

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
