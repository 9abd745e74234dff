// The worked example of README's Correctness section ("A man has kept money in the bank"): Q = K =
// V = eight 3-dimensional word embeddings, plain dot product, scale 1. The row for "bank" must
// match the published weights and output to every printed digit, for every registered kernel;
// with the embeddings stored in bf16 or f16, to the printed digits plus what that rounding may
// move them (storage_shift: 0.0079 for bf16, 0.00099 for f16).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "tiers.hpp"

namespace attn {
namespace {

using testing::runs_here;

// Rows are the words A man has kept money in the bank; columns the embedding dimensions.
constexpr float kEmbeddings[8][3] = {{-0.03f, -0.78f, 0.006f},    {-0.024f, -0.259f, -0.002f},
                                     {-0.148f, -0.049f, -0.242f}, {-0.447f, -0.265f, -0.469f},
                                     {-0.207f, -0.336f, -0.411f}, {-0.133f, 0.546f, 0.076f},
                                     {-0.013f, 0.833f, -0.044f},  {0.02f, -0.286f, 0.524f}};
constexpr int kBank = 7;
constexpr double kBankWeights[8] = {0.15614, 0.13398, 0.11098, 0.10419,
                                    0.11014, 0.11062, 0.09593, 0.17802};
// Printed digits: -0.1061 has four decimals, the other two five.
constexpr double kBankOutput[3] = {-0.1061, -0.13715, -0.02285};
constexpr double kOutputHalfUlp[3] = {0.5e-4, 0.5e-5, 0.5e-5};

Shape bank_shape() {
    Shape s;
    s.n_q = s.n_kv = 8, s.head_dim = 3, s.scale = 1.0;  // plain dot product
    return s;
}

// The embeddings, stored in the buffer's type.
void load_embeddings(Buffer& b) {
    for (std::size_t i = 0; i < 24; ++i) b.set(i, (&kEmbeddings[0][0])[i]);
}

// How far storing the embeddings in `dtype` may move the bank row's output, on top of the
// printed digits: with unit roundoff u each stored value moves by u relative, so each score q.k
// by at most 2u sum_c |q_c k_c| (at most 2u times the largest such sum, D), each weight by a
// factor within e^(+-2D') of itself (D' = 2uD; for small D', 2D' relative), and the output by
// u max|v| from V's own rounding plus 2D' sum_j p_j |v_jc| <= 2D' max|v|.
double storage_shift(DType dtype) {
    const double u = dtype == DType::bf16 ? 0x1p-8 : dtype == DType::f16 ? 0x1p-11 : 0.0;
    double most = 0, vmax = 0;
    for (int j = 0; j < 8; ++j) {
        double sum = 0;
        for (int c = 0; c < 3; ++c) {
            sum += std::fabs(double(kEmbeddings[kBank][c]) * kEmbeddings[j][c]);
            vmax = std::max(vmax, std::fabs(double(kEmbeddings[j][c])));
        }
        most = std::max(most, sum);
    }
    const double score_shift = 2.0 * u * most;
    return u * vmax + 2.0 * score_shift * vmax;
}

TEST(BankExample, WeightsOfBankRowToPrintedDigits) {
    const Kernel* scores = find_kernel(Stage::scores, "naive", Isa::scalar);
    ASSERT_NE(scores, nullptr);
    Workload s(Stage::scores, bank_shape());
    load_embeddings(s.inputs()[0]);
    load_embeddings(s.inputs()[1]);
    s.run(*scores);
    int checked = 0;
    for (const auto& k : registry()) {
        if (k.stage != Stage::softmax || !runs_here(k)) continue;
        Workload p(Stage::softmax, bank_shape());
        std::copy_n(s.output().data(), 64, p.inputs()[0].data());
        p.run(k);
        for (int j = 0; j < 8; ++j)
            EXPECT_NEAR(p.output().data()[kBank * 8 + j], kBankWeights[j], 0.5e-5)
                << k.name() << " weight " << j;
        ++checked;
    }
    EXPECT_GT(checked, 0);
}

TEST(BankExample, OutputOfBankRowToPrintedDigits) {
    int checked = 0;
    for (const auto& k : registry()) {
        if (k.stage != Stage::attention || !runs_here(k)) continue;
        Shape s = bank_shape();
        s.dtype = k.dtype;
        Workload a(Stage::attention, s);
        for (auto& in : a.inputs()) load_embeddings(in);
        a.run(k);
        for (int c = 0; c < 3; ++c)
            EXPECT_NEAR(a.output().data()[kBank * 3 + c], kBankOutput[c],
                        kOutputHalfUlp[c] + storage_shift(k.dtype))
                << k.typed_name() << " dim " << c;
        ++checked;
    }
    EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace attn
