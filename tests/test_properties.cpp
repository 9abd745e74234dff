// Properties every kernel of a stage must have, independent of the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "expected.hpp"
#include "tiers.hpp"

namespace attn {
namespace {

using testing::runs_here;

// Calls f on every kernel of `stage` that runs here: the fp32 ones, or with `every_type` those of
// every storage type too (f then stores its inputs in k.dtype).
template <class F> int for_each_kernel(Stage stage, F&& f, bool every_type = false) {
    int n = 0;
    for (const auto& k : registry())
        if (k.stage == stage && runs_here(k) && (every_type || k.dtype == DType::f32)) f(k), ++n;
    return n;
}

TEST(Properties, SoftmaxRowsSumToOne) {
    for (bool causal : {false, true}) {
        Shape s;
        s.heads = 3, s.n_q = 45, s.n_kv = 70, s.head_dim = 8, s.causal = causal;
        EXPECT_GT(for_each_kernel(Stage::softmax,
                                  [&](const Kernel& k) {
                                      Workload w(Stage::softmax, s, {-20.0f, 20.0f, 3});
                                      w.run(k);
                                      for (std::int64_t r = 0; r < s.heads * s.n_q; ++r) {
                                          double sum = 0;
                                          for (std::int64_t j = 0; j < s.n_kv; ++j)
                                              sum += w.output().data()[r * s.n_kv + j];
                                          EXPECT_NEAR(sum, 1.0, 1e-5)
                                              << k.name() << " row " << r << " causal " << causal;
                                      }
                                  }),
                  0);
    }
}

TEST(Properties, DotEqualsCosineOnUnitVectors) {
    Shape s;
    s.heads = 2, s.n_q = 19, s.n_kv = 23, s.head_dim = 21;
    EXPECT_GT(for_each_kernel(
                  Stage::scores,
                  [&](const Kernel& k) {
                      Workload dot(Stage::scores, s);
                      for (auto& in : dot.inputs())  // normalise every row to unit length
                          for (std::size_t row = 0; row < in.size();
                               row += std::size_t(s.head_dim)) {
                              double n = 0;
                              for (std::int64_t c = 0; c < s.head_dim; ++c)
                                  n += double(in.data()[row + c]) * in.data()[row + c];
                              for (std::int64_t c = 0; c < s.head_dim; ++c)
                                  in.data()[row + c] = float(in.data()[row + c] / std::sqrt(n));
                          }
                      Shape cs = s;
                      cs.similarity = Similarity::cosine;
                      Workload cos(Stage::scores, cs);
                      for (std::size_t i = 0; i < 2; ++i)
                          std::copy_n(dot.inputs()[i].data(), dot.inputs()[i].size(),
                                      cos.inputs()[i].data());
                      dot.run(k);
                      cos.run(k);
                      for (std::size_t i = 0; i < dot.output().size(); ++i)
                          EXPECT_NEAR(dot.output().data()[i], cos.output().data()[i], 1e-6)
                              << k.name() << " at " << i;
                  }),
              0);
}

// With n_q > n_kv and the causal mask, query i sees keys j <= i - (n_q - n_kv): the first
// n_q - n_kv rows see nothing and must come out as exact zeros, never NaN.
TEST(Properties, FullyMaskedRowsAreZero) {
    Shape s;
    s.heads = 2, s.n_q = 12, s.n_kv = 4, s.head_dim = 5, s.causal = true;
    const std::int64_t masked = s.n_q - s.n_kv;
    for (Stage stage : {Stage::softmax, Stage::attention}) {
        const std::int64_t width = stage == Stage::softmax ? s.n_kv : s.head_dim;
        EXPECT_GT(for_each_kernel(
                      stage,
                      [&](const Kernel& k) {
                          Shape sk = s;
                          sk.dtype = k.dtype;
                          Workload w(stage, sk);
                          w.run(k);
                          for (std::int64_t h = 0; h < s.heads; ++h)
                              for (std::int64_t i = 0; i < s.n_q; ++i)
                                  for (std::int64_t c = 0; c < width; ++c) {
                                      const float v =
                                          w.output().data()[(h * s.n_q + i) * width + c];
                                      if (i < masked)
                                          EXPECT_EQ(v, 0.0f)
                                              << k.typed_name() << " head " << h << " row " << i;
                                      else
                                          EXPECT_TRUE(std::isfinite(v))
                                              << k.typed_name() << " head " << h << " row " << i;
                                  }
                      },
                      true),
                  0);
    }
}

// Outputs over 32 MiB take the streaming-store path of the simd softmax, and rows over 4096
// keys its unbuffered path; misaligned rows exercise the scalar head before aligned stores.
TEST(Properties, SoftmaxOnLargeOutputsWithinErrorBound) {
    for (std::int64_t n_kv : {4001, 4099}) {
        Shape s;
        s.n_q = 2100, s.n_kv = n_kv, s.causal = true;
        for (const auto& k : registry()) {
            if (k.stage != Stage::softmax || k.variant == "naive" || !runs_here(k)) continue;
            Workload w(Stage::softmax, s, {-30.0f, 30.0f, 11}, 1);
            w.run(k);
            const testing::Expected want = testing::expected_output(w);
            std::size_t bad = 0;
            for (std::size_t i = 0; i < want.value.size(); ++i)
                bad += !(std::fabs(w.output().data()[i] - want.value[i]) <= want.tolerance[i]);
            EXPECT_EQ(bad, 0u) << k.name() << " n_kv " << n_kv;
        }
    }
}

}  // namespace
}  // namespace attn
