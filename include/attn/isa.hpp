// Instruction-set tiers a kernel can be built for, and what the running CPU offers.
#pragma once

#include <string>

namespace attn {

// `scalar` is portable C++ (compiled for baseline x86-64), `best` marks an entry that picks the
// widest tier the CPU has at run time.
enum class Isa { scalar, sse2, avx2, avx512, best };

const char* to_string(Isa isa);
// True when the CPU and OS can execute code built for this tier.
bool cpu_supports(Isa isa);
// The widest of sse2 / avx2 / avx512 available, optionally capped by the ATTNBENCH_MAX_ISA
// environment variable (e.g. ATTNBENCH_MAX_ISA=avx2) to compare tiers through the dispatcher.
Isa best_isa();

}  // namespace attn
