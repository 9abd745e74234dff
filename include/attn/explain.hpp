// The numbers behind one head of attention, step by step, as `attnbench explain` prints them: the
// scores, their exponentials, the normalised weights and the output that chosen kernels compute,
// beside the double-precision reference of the same stored inputs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attn/registry.hpp"
#include "attn/workload.hpp"

namespace attn::explain {

// The kernel that computes each step for one variant at one tier and storage type: the
// variant's own kernel of the stage where it has one; otherwise (a fused or library variant has
// no scores or softmax stage of its own) the simd kernel of the same tier, or naive's for scalar.
// Softmax reads fp32 scores whatever the storage type.
struct Steps {
    const Kernel* scores;
    const Kernel* softmax;
    const Kernel* attention;
};

// The steps of `variant` at `isa` (Isa::best unless the variant has only another tier, as naive
// has scalar) reading `dtype`; std::invalid_argument with one sentence when the variant is
// unknown, has no attention kernel there, or a step's tier is missing from this CPU.
Steps steps_for(std::string_view variant, Isa isa, DType dtype, bool isa_given);

// y = e^x elementwise with the exponential the softmax kernels of tier `isa` use (std::exp in
// float for scalar).
void exponentials(Isa isa, const float* x, float* y, std::int64_t n);

// One head (batch 0, head `head`) of an attention call through the steps: row-major
// [n_q x d] queries, [n_kv x d] keys and values as stored (widened to fp32), and for the kernels
// and the reference the scores and e^score [n_q x n_kv] (-inf and 0 where the mask hides a key),
// the weights [n_q x n_kv] and the output [n_q x d].
struct HeadTrace {
    Shape shape;
    std::int64_t head = 0;
    std::vector<float> q, k, v;
    std::vector<float> scores, exps, weights, output;
    std::vector<double> ref_scores, ref_exps, ref_weights, ref_output;
};

// The trace of one head of `shape` with inputs drawn as Workload draws them from `fill`.
HeadTrace trace_head(const Steps& steps, const Shape& shape, const Fill& fill, std::int64_t head);

// The notes' worked example, "A man has kept money in the bank": eight words of three-dimensional
// embeddings, Q = K = V = the embeddings stored in `dtype`, plain dot product (scale 1); the row of
// "bank" (the last) is the one the notes tabulate.
struct BankExample {
    static constexpr int kWords = 8, kDims = 3, kBank = 7;
    static const char* const kWordNames[kWords];
    static const float kEmbeddings[kWords][kDims];
    // The notes' printed weights of the bank row and its output, as text (their digits are the
    // claim) and as numbers.
    static const char* const kPrintedWeights[kWords];
    static const char* const kPrintedOutput[kDims];
    static Shape shape(DType dtype);
    // How far storing the embeddings in `dtype` may move the bank row's weights and output beyond
    // the printed digits (0 for f32). With unit roundoff u each stored value moves by u relative,
    // so each score by at most 2u D (D the largest sum_c |q_c k_c| of the row) and each weight by a
    // factor within e^(+-2D'), D' = 2u D: a weight by at most (e^(2D') - 1), the output by u max|v|
    // from V's own rounding plus 2D' max|v|.
    static double weight_shift(DType dtype);
    static double output_shift(DType dtype);
};

// The trace of the worked example through the steps.
HeadTrace trace_bank(const Steps& steps);

}  // namespace attn::explain
