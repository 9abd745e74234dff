// Instruction-set tiers a kernel can be built for, and what the running CPU offers.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace attn {

// `scalar` is portable C++ (compiled for baseline x86-64), the tiers of attn/isa_tiers.inc
// follow, narrowest first, and `best` marks an entry that picks the widest tier the CPU has at
// run time.
enum class Isa {
    scalar,
#define ATTN_ISA(name, flags, feature, feature2) name,
#include "attn/isa_tiers.inc"
#undef ATTN_ISA
    best
};

const char* to_string(Isa isa);
// The Isa called `name` (scalar, a tier or best); false when there is none.
bool parse_isa(std::string_view name, Isa& out);
// The tiers of attn/isa_tiers.inc, narrowest first (neither scalar nor best).
std::span<const Isa> isa_tiers();
// The compile flags of a tier's files, as attn/isa_tiers.inc gives them ("" for scalar and best).
const char* isa_flags(Isa isa);
// True when the CPU and OS can execute code built for this tier.
bool cpu_supports(Isa isa);
// The widest tier available, optionally capped by the ATTNBENCH_MAX_ISA environment variable
// (e.g. ATTNBENCH_MAX_ISA=avx2) to compare tiers through the dispatcher.
Isa best_isa();

}  // namespace attn
