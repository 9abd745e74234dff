// Instruction-set tiers a kernel can be built for, and what the running CPU offers.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace attn {

// `scalar` is portable C++ (compiled for the architecture's baseline), the tiers of
// attn/isa_tiers.inc follow, narrowest first, and `best` marks an entry that picks the widest tier
// the CPU has at run time.
enum class Isa {
    scalar,
#define ATTN_ISA(name, flags, feature, feature2) name,
#include "attn/isa_tiers.inc"
#undef ATTN_ISA
    best
};

// The narrowest tier of this architecture (sse2, neon).
inline constexpr Isa kNarrowestTier = Isa(int(Isa::scalar) + 1);

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
// True when the CPU can run the avx512 tier's bf16 dot-product paths: AVX-512 with AVX512_BF16
// (vdpbf16ps; Intel since Cooper Lake, AMD since Zen 4), with AVX512BW and VL, which every such
// CPU has. Always false in the avx512-emulated build, which tests the tier's widening path.
bool cpu_has_bf16_dot();
// True when `best` multiplies bf16 pairs by vdpbf16ps: the CPU has them and its widest tier is
// avx512 (ATTNBENCH_MAX_ISA may cap it below). The machine context and the bf16 peak probe ask.
bool best_has_bf16_dot();

}  // namespace attn
