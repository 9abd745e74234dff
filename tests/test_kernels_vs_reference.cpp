// Every registered kernel against the double-precision reference on the shapes of tests/grid.cpp:
// common edge cases and the kernel's own tile edges. The test list is generated from the
// registry, so a kernel added later is covered with no edit here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "expected.hpp"
#include "flash/flash.hpp"
#include "grid.hpp"
#include "tiers.hpp"

namespace attn::testing {
namespace {

struct Param {
    const Kernel* kernel;
    GridCase c;
};

// Keeps gtest from dumping the parameter's bytes in failure messages.
void PrintTo(const Param& p, std::ostream* os) {
    *os << p.kernel->typed_name() << " on " << p.c.label;
}

std::vector<Param> params() {
    std::vector<Param> out;
    for (const auto& k : registry())
        for (auto& c : grid_for(k)) out.push_back({&k, c});
    return out;
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
    std::string n = info.param.kernel->typed_name() + "__" + info.param.c.label;
    for (char& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return n;
}

// Runs the case's kernel and returns how many outputs fall outside the reference's bound, with the
// first few of them written to detail.
int count_out_of_bound(const Kernel& kernel, const GridCase& c, std::ostringstream& detail) {
    Workload work(kernel.stage, c.shape, c.fill, c.misalign);
    work.run(kernel);
    const Expected want = expected_output(work);
    const float* got = work.output().data();
    EXPECT_EQ(want.value.size(), work.output().size());
    int bad = 0;
    for (std::size_t i = 0; i < want.value.size() && i < work.output().size(); ++i) {
        const double ref = want.value[i], tol = want.tolerance[i];
        if (within_bound(got[i], ref, tol)) continue;
        if (bad++ < 5)
            detail << "\n  [" << i << "] got " << got[i] << " want " << ref << " (bound " << tol
                   << ")";
    }
    return bad;
}

class KernelVsReference : public ::testing::TestWithParam<Param> {};

TEST_P(KernelVsReference, WithinErrorBound) {
    const Kernel& kernel = *GetParam().kernel;
    const GridCase& c = GetParam().c;
    ATTN_SKIP_UNLESS_RUNS_HERE(kernel.isa);
    std::ostringstream detail;
    const int bad = count_out_of_bound(kernel, c, detail);
    // ATTN_PRINT_REPRO=1 prints the line on success too, so that tests/repro_runs.sh can run it.
    if (std::getenv("ATTN_PRINT_REPRO"))
        std::printf("repro: %s\n", repro_command(kernel, c.shape).c_str());
    EXPECT_EQ(bad, 0) << kernel.typed_name() << " wrong on " << c.label
                      << (c.misalign ? " (misaligned inputs)" : "")
                      << "; benchmark it with: " << repro_command(kernel, c.shape) << detail.str();
}

// Takes every K/V cache to be larger than the last-level cache while it lives, so that a failed
// assertion cannot leave the override in place for the tests after it.
struct CacheTakenToStream {
    CacheTakenToStream() { flash::assume_last_level_cache_bytes(1); }
    ~CacheTakenToStream() { flash::assume_last_level_cache_bytes(0); }
    CacheTakenToStream(const CacheTakenToStream&) = delete;
    CacheTakenToStream& operator=(const CacheTakenToStream&) = delete;
};

// The decode shapes again as a K/V cache larger than the last-level cache runs: the decode path
// then reads K and V in the order that suits streaming from memory, which the grid's small
// caches would otherwise never take. Only kernels whose tier has such an order are listed.
class DecodeFromMemoryVsReference : public ::testing::TestWithParam<Param> {};

std::vector<Param> decode_params() {
    std::vector<Param> out;
    for (const auto& k : registry())
        if (k.stage == Stage::attention && k.tiles().decode_stream_row > 0)
            for (auto& c : grid_for(k))
                if (c.shape.n_q <= flash::kDecodeQueries) out.push_back({&k, c});
    return out;
}

TEST_P(DecodeFromMemoryVsReference, WithinErrorBound) {
    const Kernel& kernel = *GetParam().kernel;
    const GridCase& c = GetParam().c;
    ATTN_SKIP_UNLESS_RUNS_HERE(kernel.isa);
    const CacheTakenToStream streaming;
    std::ostringstream detail;
    const int bad = count_out_of_bound(kernel, c, detail);
    EXPECT_EQ(bad, 0) << kernel.typed_name() << " wrong on " << c.label
                      << " with its cache taken to stream from memory" << detail.str();
}

INSTANTIATE_TEST_SUITE_P(Registry, KernelVsReference, ::testing::ValuesIn(params()), param_name);
INSTANTIATE_TEST_SUITE_P(Registry, DecodeFromMemoryVsReference,
                         ::testing::ValuesIn(decode_params()), param_name);
// A machine whose tiers have no streaming order (AVX2, NEON) lists no case.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DecodeFromMemoryVsReference);

}  // namespace
}  // namespace attn::testing
