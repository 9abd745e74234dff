// `attnbench explain`: the worked example's table prints the notes' digits in every kernel
// column, for every variant and tier that runs here, and a small shape's head is traced through
// the kernels as the reference computes it; bad options are refused with one sentence.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "attn/explain.hpp"
#include "explain.hpp"
#include "tiers.hpp"

namespace attn {
namespace {

using explain::BankExample;

std::vector<std::string> words_of(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

// The line of `text` whose first word is `first` (and, for "dim", whose second is `second`).
std::vector<std::string> row(const std::string& text, const std::string& first,
                             const std::string& second = "") {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        const auto w = words_of(line);
        if (!w.empty() && w[0] == first && (second.empty() || (w.size() > 1 && w[1] == second)))
            return w;
    }
    return {};
}

// Every attention kernel that runs here, as the steps explain takes for its variant and tier.
std::vector<explain::Steps> every_steps() {
    std::vector<explain::Steps> out;
    for (const auto& k : registry())
        if (k.stage == Stage::attention && testing::runs_here(k))
            out.push_back(explain::steps_for(k.variant, k.isa, k.dtype, true));
    return out;
}

TEST(Explain, BankTablePrintsTheNotesDigitsForEveryKernel) {
    int checked = 0;
    for (const auto& steps : every_steps()) {
        const auto trace = explain::trace_bank(steps);
        const std::string text = attnbench::render_bank(steps, trace);
        const DType dt = steps.attention->dtype;
        SCOPED_TRACE(steps.attention->typed_name());
        EXPECT_NE(text.find(steps.scores->typed_name()), std::string::npos);
        EXPECT_NE(text.find(steps.attention->typed_name()), std::string::npos);
        for (int j = 0; j < BankExample::kWords; ++j) {
            // word, 3 embedding values, score and e^score (kernel, reference), weight (kernel,
            // reference), notes, difference.
            const auto w = row(text, BankExample::kWordNames[j]);
            ASSERT_EQ(w.size(), 12u) << BankExample::kWordNames[j];
            EXPECT_EQ(w[10], BankExample::kPrintedWeights[j]);
            if (dt == DType::f32) EXPECT_EQ(w[8], BankExample::kPrintedWeights[j]);
            else
                EXPECT_NEAR(std::strtod(w[8].c_str(), nullptr),
                            std::strtod(BankExample::kPrintedWeights[j], nullptr),
                            0.5e-5 + BankExample::weight_shift(dt));
            // The exponential column is e^score of the kernel's own score.
            EXPECT_NEAR(std::strtod(w[6].c_str(), nullptr),
                        std::exp(std::strtod(w[4].c_str(), nullptr)), 2e-5);
        }
        for (int c = 0; c < BankExample::kDims; ++c) {
            const auto w = row(text, "dim", std::to_string(c));
            ASSERT_EQ(w.size(), 6u) << "dim " << c;
            EXPECT_EQ(w[4], BankExample::kPrintedOutput[c]);
            if (dt == DType::f32) EXPECT_EQ(w[2], BankExample::kPrintedOutput[c]);
            else
                EXPECT_NEAR(std::strtod(w[2].c_str(), nullptr),
                            std::strtod(BankExample::kPrintedOutput[c], nullptr),
                            0.5e-4 + BankExample::output_shift(dt));
        }
        ++checked;
    }
    EXPECT_GT(checked, 0);
}

// Relative error of a against b, with an absolute floor for values near zero.
void expect_close(const std::vector<float>& k, const std::vector<double>& r, double tol,
                  const char* what) {
    ASSERT_EQ(k.size(), r.size()) << what;
    for (std::size_t i = 0; i < k.size(); ++i) {
        if (std::isinf(r[i])) EXPECT_EQ(double(k[i]), r[i]) << what << " " << i;
        else EXPECT_NEAR(k[i], r[i], tol * std::max(1.0, std::fabs(r[i]))) << what << " " << i;
    }
}

TEST(Explain, HeadTraceFollowsTheReference) {
    // Grouped heads, a causal mask, a rectangular decode-like call and cosine similarity, up to
    // the largest size explain prints.
    const char* shapes[] = {"n:5/h:4/kv:2/d:3/causal", "nq:2/nkv:16/h:2/d:16/causal",
                            "n:7/h:1/d:5/cosine", "n:16/h:2/d:16"};
    for (const auto& steps : every_steps()) {
        for (const char* text : shapes) {
            Shape sh = parse_shape(text);
            sh.dtype = steps.attention->dtype;
            SCOPED_TRACE(steps.attention->typed_name() + " " + sh.text());
            const std::int64_t head = sh.heads - 1;
            const auto t = explain::trace_head(steps, sh, Fill{}, head);
            EXPECT_EQ(t.q.size(), std::size_t(sh.n_q * sh.head_dim));
            EXPECT_EQ(t.k.size(), std::size_t(sh.n_kv * sh.head_dim));
            // Scores and weights are computed from the stored values in fp32, the output may
            // round P to 16 bits (bf16 products) before P V.
            const double out_tol = sh.dtype == DType::bf16  ? 1e-2
                                   : sh.dtype == DType::f16 ? 2e-3
                                                            : 1e-5;
            expect_close(t.scores, t.ref_scores, 1e-5, "scores");
            expect_close(t.weights, t.ref_weights, 1e-5, "weights");
            expect_close(t.output, t.ref_output, out_tol, "output");
            for (std::size_t i = 0; i < t.exps.size(); ++i)
                EXPECT_NEAR(t.exps[i], std::exp(double(t.scores[i])),
                            2e-6 * std::exp(double(t.scores[i])));
            const std::string out = attnbench::render_head(steps, t, Fill{});
            EXPECT_NE(out.find("largest |kernel - reference|"), std::string::npos);
        }
    }
}

TEST(Explain, RefusesWhatItCannotPrint) {
    auto refuses = [](attnbench::ExplainOptions o, const std::string& says) {
        try {
            attnbench::explain(o);
            ADD_FAILURE() << "accepted; expected: " << says;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
        }
    };
    attnbench::ExplainOptions o;
    o.shape = "n:" + std::to_string(attnbench::kExplainMaxSize + 1) + "/h:1/d:4";
    refuses(o, "explain prints whole tensors");
    o = {};
    o.variant = "nosuch";
    refuses(o, "unknown variant 'nosuch'");
    o = {};
    o.shape = "n:4/h:2/d:3";
    o.head = 2;
    refuses(o, "head 2 is not one of the shape's 2 heads");
    o = {};
    o.head = 1;
    refuses(o, "--head needs --shape");
    o = {};
    o.isa = "scalar";
    refuses(o, "variant flash has no attention kernel at isa scalar");
}

}  // namespace
}  // namespace attn
