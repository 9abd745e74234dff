// Determinism: a kernel called twice on the same input gives identical bits, and every parallel
// kernel gives identical bits at 1 and 2 threads (each output element is computed by the same
// code in the same order whichever thread computes it; README names the exceptions), also when
// the caller runs one-thread calls from its own OpenMP threads.
#include <gtest/gtest.h>

#include <omp.h>
#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "tiers.hpp"

namespace attn {
namespace {

using testing::runs_here;

std::vector<Shape> shapes() {
    Shape s;
    s.heads = 3, s.n_q = s.n_kv = 301, s.head_dim = 40;
    Shape c = s;
    c.causal = true, c.n_q = 77;
    return {s, c};
}

std::vector<float> output_of(const Kernel& k, Shape s, int threads) {
    s.threads = threads;
    s.dtype = k.dtype;
    if (reads_rows_of_x(k.stage)) s.n_kv = s.n_q;
    Workload w(k.stage, s);
    w.run(k);
    return {w.output().data(), w.output().data() + w.output().size()};
}

TEST(Determinism, TwoCallsGiveIdenticalBits) {
    int compared = 0;
    for (const auto& k : registry()) {
        if (!runs_here(k)) continue;
        for (const Shape& s : shapes()) {
            Shape t = s;
            t.threads = k.parallel() ? 2 : 1;
            t.dtype = k.dtype;
            if (reads_rows_of_x(k.stage)) t.n_kv = t.n_q;
            Workload w(k.stage, t);
            w.run(k);
            const std::vector<float> first(w.output().data(),
                                           w.output().data() + w.output().size());
            w.run(k);
            EXPECT_EQ(std::memcmp(first.data(), w.output().data(), first.size() * sizeof(float)), 0)
                << k.typed_name() << " on " << t.text();
            ++compared;
        }
    }
    EXPECT_GT(compared, 0);
}

TEST(Determinism, OneAndTwoThreadsGiveIdenticalBits) {
    // A parallel_unordered kernel (a library splitting its sums by thread count) may differ;
    // the differences are printed, not failed.
    int compared = 0;
    for (const auto& k : registry()) {
        if (!runs_here(k) || !k.parallel()) continue;
        for (const Shape& s : shapes()) {
            const std::vector<float> one = output_of(k, s, 1), two = output_of(k, s, 2);
            double worst = 0;
            for (std::size_t i = 0; i < one.size(); ++i)
                worst = std::max(worst, std::fabs(double(one[i]) - two[i]) /
                                            std::max(1e-30, std::fabs(double(one[i]))));
            const bool same = std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0;
            if (!same)
                std::printf("%s on %s: 1 and 2 threads differ by up to %.3g relative\n",
                            k.name().c_str(), s.text(false).c_str(), worst);
            if (k.threading == Threading::parallel) {
                EXPECT_TRUE(same) << k.name() << " on " << s.text(false) << ": up to " << worst
                                  << " relative";
            }
            ++compared;
        }
    }
    EXPECT_GT(compared, 0);
}

TEST(Determinism, OneThreadCallsFromTheCallersOwnThreadsGiveIdenticalBits) {
    // Each thread of the caller's parallel region makes its own call on one thread: the kernel's
    // work-sharing loops must not bind to the caller's team and hand it half of each call.
    int compared = 0;
    for (const auto& k : registry()) {
        if (!runs_here(k) || !k.parallel()) continue;
        for (const Shape& s : shapes()) {
            const std::vector<float> alone = output_of(k, s, 1);
            std::vector<float> inside[2];
            int team = 0;
#pragma omp parallel num_threads(2)
            {
#pragma omp single
                team = omp_get_num_threads();
                const int me = omp_get_thread_num();
                inside[me] = output_of(k, s, 1);
            }
            for (int t = 0; t < team; ++t) {
                // A library may block its sums differently inside a caller's region: printed.
                if (k.threading != Threading::parallel) {
                    if (inside[t] != alone)
                        std::printf("%s on %s: differs when called from thread %d of %d\n",
                                    k.name().c_str(), s.text(false).c_str(), t, team);
                    continue;
                }
                EXPECT_TRUE(inside[t] == alone) << k.name() << " on " << s.text(false)
                                                << ", called from thread " << t << " of " << team;
                ++compared;
            }
        }
    }
    EXPECT_GT(compared, 0);
}

}  // namespace
}  // namespace attn
