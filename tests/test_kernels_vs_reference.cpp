// Every registered kernel against the double-precision reference on one shape grid. The test
// list is generated from the registry, so a kernel added later is covered with no edit here.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "expected.hpp"

namespace attn::testing {
namespace {

struct GridCase {
    std::string label;
    Shape shape;
    Fill fill{};
    std::size_t misalign = 0;
};

Shape make(std::int64_t n_q, std::int64_t n_kv, std::int64_t d, bool causal = false,
           Similarity sim = Similarity::dot, std::int64_t heads = 2, std::int64_t batch = 1) {
    Shape s;
    s.batch = batch, s.heads = heads, s.n_q = n_q, s.n_kv = n_kv, s.head_dim = d;
    s.causal = causal, s.similarity = sim;
    return s;
}

// Lengths and head sizes 1..33 cover every remainder around SIMD widths up to 16 floats
// (2 x 16 + 1); larger and rectangular shapes, large logits and misaligned pointers follow.
std::vector<GridCase> grid() {
    std::vector<GridCase> g;
    const std::int64_t dims[] = {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64};
    for (std::int64_t n = 1; n <= 33; ++n) {
        Shape s = make(n, n, dims[n % 14], n % 2 == 1, n % 3 == 0 ? Similarity::cosine : Similarity::dot);
        s.threads = 1 + int(n % 2);
        g.push_back({"n" + std::to_string(n), s, {}, std::size_t(n % 4 == 1)});
    }
    for (std::int64_t d = 1; d <= 33; ++d) {
        Shape s = make(9 + d % 5, 9 + d % 5, d, d % 2 == 0, d % 4 == 3 ? Similarity::cosine : Similarity::dot);
        s.threads = 1 + int(d % 2);
        g.push_back({"d" + std::to_string(d), s, {}, std::size_t(d % 3 == 0)});
    }
    g.push_back({"n64_d64", make(64, 64, 64)});
    g.push_back({"n100_d80_causal", make(100, 100, 80, true)});
    g.push_back({"n129_d128_t2", [] { auto s = make(129, 129, 128); s.threads = 2; return s; }()});
    g.push_back({"n257_d32_causal_b2_t2", [] { auto s = make(257, 257, 32, true, Similarity::dot, 2, 2); s.threads = 2; return s; }()});
    g.push_back({"q5_kv37", make(5, 37, 16)});
    // n_q > n_kv with the causal mask: the first 32 query rows see no key at all.
    g.push_back({"q37_kv5_causal_masked_rows", make(37, 5, 16, true)});
    g.push_back({"q1_kv300_causal_decode", make(1, 300, 64, true)});
    g.push_back({"q64_kv129_causal_cosine", make(64, 129, 48, true, Similarity::cosine)});
    g.push_back({"q129_kv64_t2", [] { auto s = make(129, 64, 24); s.threads = 2; return s; }()});
    g.push_back({"b3_h3_n20_d12", make(20, 20, 12, false, Similarity::dot, 3, 3), {}, 1});
    g.push_back({"n12_d10_plain_scale1", [] { auto s = make(12, 12, 10); s.scale = 1.0; return s; }()});
    // Inputs in [90, 100]: exp(s) overflows fp32 unless the row maximum is subtracted first.
    const Fill large{90.0f, 100.0f, 7};
    g.push_back({"large_n17_d8", make(17, 17, 8), large});
    g.push_back({"large_n64_d16_causal", make(64, 64, 16, true), large, 1});
    g.push_back({"large_q33_kv70_d5_cosine", make(33, 70, 5, false, Similarity::cosine), large});
    return g;
}

struct Param {
    const Kernel* kernel;
    GridCase c;
};

// Keeps gtest from dumping the parameter's bytes in failure messages.
void PrintTo(const Param& p, std::ostream* os) { *os << p.kernel->name() << " on " << p.c.label; }

std::vector<Param> params() {
    std::vector<Param> out;
    for (const auto& k : registry())
        for (auto& c : grid())
            if (stage_problem(k.stage, c.shape).empty()) out.push_back({&k, c});
    return out;
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
    std::string n = info.param.kernel->name() + "__" + info.param.c.label;
    for (char& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return n;
}

class KernelVsReference : public ::testing::TestWithParam<Param> {};

TEST_P(KernelVsReference, WithinErrorBound) {
    const Kernel& kernel = *GetParam().kernel;
    const GridCase& c = GetParam().c;
    if (!kernel.available()) GTEST_SKIP() << "this CPU lacks " << to_string(kernel.isa);
    Workload work(kernel.stage, c.shape, c.fill, c.misalign);
    work.run(kernel);
    const Expected want = expected_output(work);
    const float* got = work.output().data();
    ASSERT_EQ(want.value.size(), work.output().size());
    int reported = 0, bad = 0;
    std::ostringstream detail;
    for (std::size_t i = 0; i < want.value.size(); ++i) {
        const double ref = want.value[i], tol = want.tolerance[i];
        const bool ok = std::isinf(ref) ? got[i] == float(ref)
                                        : std::isfinite(got[i]) && std::fabs(double(got[i]) - ref) <= tol;
        if (ok) continue;
        ++bad;
        if (reported++ < 5)
            detail << "\n  [" << i << "] got " << got[i] << " want " << ref << " (bound " << tol << ")";
    }
    EXPECT_EQ(bad, 0) << kernel.name() << " " << to_string(kernel.stage) << " " << c.shape.repro()
                      << (c.misalign ? " misaligned" : "") << detail.str();
}

INSTANTIATE_TEST_SUITE_P(Registry, KernelVsReference, ::testing::ValuesIn(params()), param_name);

}  // namespace
}  // namespace attn::testing
