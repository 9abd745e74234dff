// Numerical edge cases, for every kernel of the stages they concern, against the reference within
// the error bounds of tests/expected.cpp: logits far beyond +-88 (where e^x overflows fp32 unless
// the row maximum is subtracted), rows of equal entries, one dominant entry, subnormal inputs
// (computed as IEEE says, with the floating-point control register left as found), and cosine
// similarity with zero vectors. n_kv = 1 and head_dim = 1 are in the grid of every kernel.
#include <gtest/gtest.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>

#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "expected.hpp"
#include "tiers.hpp"

namespace attn::testing {
namespace {

// The floating-point control bits a kernel must leave alone: MXCSR's (FTZ, DAZ, rounding, exception
// masks; not the sticky status flags of bits 0-5, which any arithmetic may raise) on x86-64,
// FPCR's (flush-to-zero, rounding, trap enables; the status is FPSR's) on aarch64.
unsigned fp_controls() {
#if defined(__x86_64__)
    return _mm_getcsr() & ~0x3Fu;
#else
    std::uint64_t fpcr;
    asm volatile("mrs %0, fpcr" : "=r"(fpcr));
    return unsigned(fpcr);
#endif
}

// Runs every available kernel of `stage` on the workload `setup` prepares and compares it with the
// reference; also checks that no kernel changes the floating-point controls (fp_controls).
int check_all(Stage stage, const Shape& s, const Fill& fill,
              const std::function<void(Workload&)>& setup, const char* what) {
    int checked = 0;
    for (const auto& k : registry()) {
        Shape sk = s;
        sk.dtype = k.dtype;  // each kernel on inputs stored in its type
        if (k.stage != stage || !runs_here(k) || !stage_problem(stage, sk).empty()) continue;
        Workload w(stage, sk, fill);
        setup(w);
        const unsigned controls = fp_controls();
        w.run(k);
        EXPECT_EQ(fp_controls(), controls)
            << k.name() << " changed the floating-point controls on " << what;
        const Expected want = expected_output(w);
        std::size_t bad = 0;
        std::ostringstream first;
        for (std::size_t i = 0; i < want.value.size(); ++i) {
            const double got = w.output().data()[i], ref = want.value[i];
            const bool ok =
                std::isinf(ref) ? got == ref : std::fabs(got - ref) <= want.tolerance[i];
            if (!ok && bad++ == 0) first << " first [" << i << "] got " << got << " want " << ref;
        }
        EXPECT_EQ(bad, 0u) << k.typed_name() << " on " << what << ": " << repro_command(k, sk)
                           << first.str();
        ++checked;
    }
    return checked;
}

Shape small(bool causal = false) {
    Shape s;
    s.heads = 2, s.n_q = 37, s.n_kv = 45, s.head_dim = 16, s.causal = causal, s.threads = 2;
    return s;
}

const auto nothing = [](Workload&) {};

TEST(Numerics, LogitsFarBeyond88) {
    // q, k in [-10, 10] at d = 16: scores up to about +-400 after the 1/4 scale.
    for (Stage stage : {Stage::scores, Stage::attention})
        EXPECT_GT(check_all(stage, small(true), {-10.0f, 10.0f, 3}, nothing, "logits beyond 88"),
                  0);
    EXPECT_GT(
        check_all(Stage::softmax, small(true), {-300.0f, 300.0f, 3}, nothing, "softmax of +-300"),
        0);
}

TEST(Numerics, RowsOfEqualEntries) {
    for (Stage stage : kAllStages) {
        Shape s = small(false);
        if (reads_rows_of_x(stage)) s.n_kv = s.n_q;
        EXPECT_GT(check_all(stage, s, {0.5f, 0.5f, 1}, nothing, "equal entries"), 0);
    }
}

TEST(Numerics, OneDominantEntry) {
    // Softmax: entry 3 of every row 60 above the rest (e^-60 of weight left for the others).
    EXPECT_GT(check_all(
                  Stage::softmax, small(false), {-1.0f, 1.0f, 5},
                  [](Workload& w) {
                      const Shape& s = w.shape();
                      for (std::int64_t r = 0; r < s.heads * s.n_q; ++r)
                          w.inputs()[0].set(r * s.n_kv + 3, 61.0f);
                  },
                  "one dominant entry"),
              0);
    // Attention: positive queries and key 3 of every head all 5, so it outscores the rest by about
    // e^12.
    EXPECT_GT(check_all(
                  Stage::attention, small(false), {0.5f, 1.0f, 5},
                  [](Workload& w) {
                      const Shape& s = w.shape();
                      for (std::int64_t h = 0; h < s.heads; ++h)
                          for (std::int64_t c = 0; c < s.head_dim; ++c)
                              w.inputs()[1].set((h * s.n_kv + 3) * s.head_dim + c, 5.0f);
                  },
                  "one dominant key"),
              0);
}

TEST(Numerics, SubnormalInputsLeaveTheControlRegisterAlone) {
    // Every input subnormal (below FLT_MIN = 1.18e-38): results are tiny or zero, within the
    // bounds' absolute FLT_MIN; the kernels set no FTZ/DAZ mode and leave MXCSR as they found it.
    for (Stage stage : kAllStages) {
        Shape s = small(true);
        if (reads_rows_of_x(stage)) s.n_kv = s.n_q;
        EXPECT_GT(check_all(stage, s, {1e-40f, 1e-39f, 9}, nothing, "subnormal inputs"), 0);
    }
}

TEST(Numerics, CosineWithZeroVectors) {
    // Query row 0 and key row 2 of every head all zeros: their cosine is 0 by definition.
    for (Stage stage : {Stage::scores, Stage::attention}) {
        Shape s = small(true);
        s.similarity = Similarity::cosine;
        EXPECT_GT(check_all(
                      stage, s, {-1.0f, 1.0f, 4},
                      [](Workload& w) {
                          const Shape& sh = w.shape();
                          for (std::int64_t h = 0; h < sh.heads; ++h)
                              for (std::int64_t c = 0; c < sh.head_dim; ++c) {
                                  w.inputs()[0].set((h * sh.n_q + 0) * sh.head_dim + c, 0.0f);
                                  w.inputs()[1].set((h * sh.n_kv + 2) * sh.head_dim + c, 0.0f);
                              }
                      },
                      "cosine with zero vectors"),
                  0);
    }
}

}  // namespace
}  // namespace attn::testing
