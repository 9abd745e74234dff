// Which ISA tiers this run of the tests executes, and an account of the cases it skipped because
// the CPU lacks a tier: code of a tier the machine cannot run is never tested here, and the run
// says so at its end (tests/main.cpp) instead of passing in silence.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "attn/isa.hpp"
#include "attn/registry.hpp"

namespace attn::testing {

// Whether this CPU runs code of `isa` (scalar and best always run). When it does not, one skipped
// case is counted against the tier: every test that leaves out a tier asks this first.
bool runs_here(Isa isa);
inline bool runs_here(const Kernel& kernel) { return runs_here(kernel.isa); }

// The message of a case skipped for `isa`: "this CPU lacks <tier>".
std::string lacks(Isa isa);

// Cases skipped so far for `isa`.
std::int64_t skipped_cases(Isa isa);

// Writes the account: "not tested on this CPU: avx512 — 1,412 cases skipped" per tier the CPU
// lacks, or that every tier ran.
void print_tier_account(std::FILE* out);

// Writes one line "<tier> <native|emulated|no> <skipped cases>" per tier to `path` (how the tier
// ran, emulated in the avx512-emulated build), for tests/run.sh to add up the shards of a run.
void write_tier_counts(const char* path);

}  // namespace attn::testing

// Skips the current test, counted against `isa`'s tier, unless this CPU runs that tier.
#define ATTN_SKIP_UNLESS_RUNS_HERE(isa) \
    if (!::attn::testing::runs_here(isa)) GTEST_SKIP() << ::attn::testing::lacks(isa)
