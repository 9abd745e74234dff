// Every registered kernel against the double-precision reference on the shapes of tests/grid.cpp:
// common edge cases and the kernel's own tile edges. The test list is generated from the
// registry, so a kernel added later is covered with no edit here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "expected.hpp"
#include "flash/flash.hpp"
#include "grid.hpp"
#include "machine.hpp"
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

// Fetches a decode path's K and V ahead as `fetch` says while it lives (see CacheTakenToStream).
struct FetchTaken {
    explicit FetchTaken(DecodeFetch fetch) { assume_decode_fetch(&fetch); }
    ~FetchTaken() { assume_decode_fetch(nullptr); }
    FetchTaken(const FetchTaken&) = delete;
    FetchTaken& operator=(const FetchTaken&) = delete;
};

// The decode shapes again as a K/V cache larger than the last-level cache runs, under each
// DecodeFetch: the decode path then reads K and V in the order that suits streaming from memory
// with that fetch (rows one after another, fetched into L2, or the in-cache order, into L1), which
// the grid's small caches, and a CPU's own fetch, would otherwise never take. Every kernel with a
// decode path is listed: each tier compiles its loops once per fetch.
class DecodeFromMemoryVsReference : public ::testing::TestWithParam<Param> {};

std::vector<Param> decode_params() {
    std::vector<Param> out;
    for (const auto& k : registry())
        if (k.stage == Stage::attention && k.tiles().decode_block > 0)
            for (auto& c : grid_for(k))
                if (c.shape.n_q <= flash::kDecodeQueries) out.push_back({&k, c});
    return out;
}

TEST_P(DecodeFromMemoryVsReference, WithinErrorBound) {
    const Kernel& kernel = *GetParam().kernel;
    const GridCase& c = GetParam().c;
    ATTN_SKIP_UNLESS_RUNS_HERE(kernel.isa);
    const CacheTakenToStream streaming;
    for (const auto fetch : {DecodeFetch::into_l2, DecodeFetch::into_l1}) {
        const FetchTaken taken(fetch);
        std::ostringstream detail;
        const int bad = count_out_of_bound(kernel, c, detail);
        EXPECT_EQ(bad, 0) << kernel.typed_name() << " wrong on " << c.label
                          << " with its cache taken to stream from memory, fetched into "
                          << (fetch == DecodeFetch::into_l1 ? "L1" : "L2") << detail.str();
    }
}

// ATTNBENCH_DECODE_FETCH's l1 and l2 force the decode fetch; anything else leaves the CPU's.
TEST(DecodeFetch, ChoiceFollowsTheVariableThenTheCpu) {
    for (const auto cpu : {DecodeFetch::into_l1, DecodeFetch::into_l2}) {
        EXPECT_EQ(choose_decode_fetch("l1", cpu), DecodeFetch::into_l1);
        EXPECT_EQ(choose_decode_fetch("l2", cpu), DecodeFetch::into_l2);
        for (const char* other : {static_cast<const char*>(nullptr), "", "L1", "l3", "1"})
            EXPECT_EQ(choose_decode_fetch(other, cpu), cpu);
    }
    EXPECT_EQ(to_string(DecodeFetch::into_l1), "L1, 8 KiB ahead");
    EXPECT_EQ(to_string(DecodeFetch::into_l2), "L2, 8 KiB ahead");
}

// The CPU's own fetch by /proc/cpuinfo's words rather than cpuid: into L1 on AMD's family 26
// (Zen 5) alone. Off x86-64 it is into L2 whatever /proc/cpuinfo says (under qemu, the host's).
TEST(DecodeFetch, CpuChoiceMatchesProcCpuinfo) {
#if defined(__x86_64__)
    const std::string vendor = attnbench::cpuinfo_field("vendor_id"),
                      family = attnbench::cpuinfo_field("cpu family");
    if (vendor.empty() || family.empty())
        GTEST_SKIP() << "no x86 vendor and family in /proc/cpuinfo";
    const bool zen5 = vendor == "AuthenticAMD" && family == "26";
    EXPECT_EQ(cpu_decode_fetch(), zen5 ? DecodeFetch::into_l1 : DecodeFetch::into_l2)
        << vendor << " family " << family;
#else
    EXPECT_EQ(cpu_decode_fetch(), DecodeFetch::into_l2);
#endif
}

INSTANTIATE_TEST_SUITE_P(Registry, KernelVsReference, ::testing::ValuesIn(params()), param_name);
INSTANTIATE_TEST_SUITE_P(Registry, DecodeFromMemoryVsReference,
                         ::testing::ValuesIn(decode_params()), param_name);

}  // namespace
}  // namespace attn::testing
