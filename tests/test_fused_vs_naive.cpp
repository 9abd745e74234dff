// Fused and multithreaded kernels against the chain of naive stages: every attention and
// multihead kernel must agree with the naive kernel of its stage within the sum of both error
// bounds (each is within its bound of the reference).
#include <gtest/gtest.h>

#include <cmath>

#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "expected.hpp"
#include "tiers.hpp"

namespace attn::testing {
namespace {

TEST(FusedVsNaive, AttentionAndMultiheadAgreeWithNaiveChain) {
    Shape shapes[3];
    shapes[0].heads = 3, shapes[0].n_q = shapes[0].n_kv = 301, shapes[0].head_dim = 40,
    shapes[0].threads = 2;
    shapes[1] = shapes[0], shapes[1].causal = true;
    shapes[2] = shapes[1], shapes[2].batch = 2, shapes[2].n_kv = 301, shapes[2].head_dim = 64,
    shapes[2].n_q = 301, shapes[2].similarity = Similarity::cosine;
    int compared = 0;
    for (Stage stage : {Stage::attention, Stage::multihead})
        for (DType dtype : kAllDTypes) {
            const Kernel* naive = find_kernel(stage, "naive", Isa::scalar, dtype);
            ASSERT_NE(naive, nullptr) << to_string(dtype);
            for (Shape s : shapes) {
                s.dtype = dtype;
                Workload base(stage, s);
                base.run(*naive);
                const Expected bound = expected_output(base);
                for (const auto& k : registry()) {
                    if (k.stage != stage || k.dtype != dtype || &k == naive || !runs_here(k))
                        continue;
                    Workload w(stage, s);
                    w.run(k);
                    int bad = 0;
                    for (std::size_t i = 0; i < w.output().size(); ++i)
                        if (!(std::fabs(w.output().data()[i] - base.output().data()[i]) <=
                              2 * bound.tolerance[i]))
                            ++bad;
                    EXPECT_EQ(bad, 0) << k.typed_name()
                                      << " vs naive; benchmark it with: " << repro_command(k, s);
                    ++compared;
                }
            }
        }
    EXPECT_GT(compared, 0);
}

}  // namespace
}  // namespace attn::testing
