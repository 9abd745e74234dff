// The worked example of README's Correctness section ("A man has kept money in the bank"): Q = K =
// V = eight 3-dimensional word embeddings, plain dot product, scale 1. The row for "bank" must
// match the published weights and output to every printed digit, for every registered kernel;
// with the embeddings stored in bf16 or f16, to the printed digits plus what that rounding may
// move them (BankExample::output_shift: 0.0079 for bf16, 0.00099 for f16).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "attn/explain.hpp"
#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "tiers.hpp"

namespace attn {
namespace {

using explain::BankExample;
using testing::runs_here;

constexpr int kBank = BankExample::kBank;
// Printed digits: -0.1061 has four decimals, the other two five.
constexpr double kOutputHalfUlp[3] = {0.5e-4, 0.5e-5, 0.5e-5};

// The embeddings, stored in the buffer's type.
void load_embeddings(Buffer& b) {
    for (std::size_t i = 0; i < 24; ++i) b.set(i, (&BankExample::kEmbeddings[0][0])[i]);
}

double printed(const char* text) { return std::strtod(text, nullptr); }

TEST(BankExample, WeightsOfBankRowToPrintedDigits) {
    const Kernel* scores = find_kernel(Stage::scores, "naive", Isa::scalar);
    ASSERT_NE(scores, nullptr);
    Workload s(Stage::scores, BankExample::shape(DType::f32));
    load_embeddings(s.inputs()[0]);
    load_embeddings(s.inputs()[1]);
    s.run(*scores);
    int checked = 0;
    for (const auto& k : registry()) {
        if (k.stage != Stage::softmax || !runs_here(k)) continue;
        Workload p(Stage::softmax, BankExample::shape(DType::f32));
        std::copy_n(s.output().data(), 64, p.inputs()[0].data());
        p.run(k);
        for (int j = 0; j < 8; ++j)
            EXPECT_NEAR(p.output().data()[kBank * 8 + j], printed(BankExample::kPrintedWeights[j]),
                        0.5e-5)
                << k.name() << " weight " << j;
        ++checked;
    }
    EXPECT_GT(checked, 0);
}

TEST(BankExample, OutputOfBankRowToPrintedDigits) {
    int checked = 0;
    for (const auto& k : registry()) {
        if (k.stage != Stage::attention || !runs_here(k)) continue;
        Workload a(Stage::attention, BankExample::shape(k.dtype));
        for (auto& in : a.inputs()) load_embeddings(in);
        a.run(k);
        for (int c = 0; c < 3; ++c)
            EXPECT_NEAR(a.output().data()[kBank * 3 + c], printed(BankExample::kPrintedOutput[c]),
                        kOutputHalfUlp[c] + BankExample::output_shift(k.dtype))
                << k.typed_name() << " dim " << c;
        ++checked;
    }
    EXPECT_GT(checked, 0);
}

// The printed values are the notes' own: the double-precision reference rounds to them.
TEST(BankExample, ReferenceRoundsToTheNotesDigits) {
    const Kernel* naive = find_kernel(Stage::attention, "naive", Isa::scalar);
    ASSERT_NE(naive, nullptr);
    const auto t = explain::trace_bank(explain::steps_for("naive", Isa::scalar, DType::f32, true));
    char text[32];
    for (int j = 0; j < 8; ++j) {
        std::snprintf(text, sizeof text, "%.5f", t.ref_weights[kBank * 8 + j]);
        EXPECT_STREQ(text, BankExample::kPrintedWeights[j]) << "weight " << j;
    }
    const int decimals[3] = {4, 5, 5};
    for (int c = 0; c < 3; ++c) {
        std::snprintf(text, sizeof text, "%.*f", decimals[c], t.ref_output[kBank * 3 + c]);
        EXPECT_STREQ(text, BankExample::kPrintedOutput[c]) << "dim " << c;
    }
}

}  // namespace
}  // namespace attn
