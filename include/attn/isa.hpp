// Instruction-set tiers a kernel can be built for, and what the running CPU offers.
#pragma once

#include <cstdint>
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
// True when `best` can multiply bf16 pairs by vdpbf16ps: the CPU has them and its widest tier is
// avx512 (ATTNBENCH_MAX_ISA may cap it below). The machine context and the bf16 peak probe ask.
bool best_has_bf16_dot();
// True when the CPU has AMX-BF16 and the OS granted this process its tile state (asked once):
// the avx512 tier's bf16 projection and flash's bf16 prefill then multiply on tiles
// (src/simd/amx.hpp, src/flash/flash_amx.cpp). Always false in the avx512-emulated build and off
// x86-64.
bool cpu_has_amx_bf16();
// True when `best` multiplies bf16 on AMX tiles: the CPU and OS give them and the widest tier is
// avx512 (ATTNBENCH_MAX_ISA may cap it below). The machine context asks.
bool best_has_amx_bf16();
// Loads the calling thread's AMX tile configuration: eight tiles of 16 rows of 64 bytes, C tiles
// 0-3, A tiles 4-5, B tiles 6-7, as every AMX product here and the AMX peak probe use them. Only
// where cpu_has_amx_bf16(); the caller releases the tiles (amx_release_tiles) when it is done.
void amx_configure_tiles();
// Returns the tiles to their initial state, so the OS need not save them across switches.
void amx_release_tiles();
// The bf16 multiply-adds this process's AMX paths have been called for so far, each call's
// nominal count (the multiply-adds of attn::flops for its stage and shape): the change across a
// benchmark's loop over the multiply-adds the loop counted is the share of its work done on tiles.
std::int64_t amx_multiply_adds();
// The same count for the paths whose products all run on vdpbf16ps (the bf16 projection and
// flash's bf16 prefill by vector dot products; not decoding, whose P V widens): the report reads a
// kernel that did most of its work there against the bf16 dot-product probe.
std::int64_t bf16_dot_multiply_adds();
// vdpbf16ps's multiply-adds per second over the avx512 FMA's on this CPU, measured once on the
// calling thread in about a millisecond (0 where the CPU lacks AVX512_BF16): 2.0 on the AMD Zen 5
// measured here, which issues both at the same rate, but 0.5 on the Intel Xeon measured here,
// whose vdpbf16ps issues once every two cycles against two FMAs a cycle.
double bf16_dot_rate_over_fma();
// The rate at or above which bf16 products pay: below it, widening bf16 to fp32 for FMAs is faster
// (measured at a rate of 0.52: widening 1.4-1.7x faster; at 2.0: vdpbf16ps 1.1-1.4x faster).
inline constexpr double kBf16DotPays = 1.5;
// The setting of a path switch held in an environment variable (ATTNBENCH_BF16_DOT,
// ATTNBENCH_AMX) whose value is `value`: "1" forces the path on, "0" off; unset (null) or anything
// else leaves the choice to the code.
enum class PathSwitch { unset, on, off };
PathSwitch path_switch(const char* value);
// Whether flash's avx512 bf16 kernels take bf16 products, given the ATTNBENCH_BF16_DOT variable's
// value `env` ("0" never, "1" always, unset or anything else: where `rate` reaches kBf16DotPays).
bool prefer_bf16_dot(const char* env, double rate);
// prefer_bf16_dot for this process's environment and CPU (false where the CPU lacks them).
bool bf16_dot_preferred();

// How flash's decode path fetches the K and V rows it reads, kDecodeFetchBytes ahead of its loads,
// one line per line read: into L2, with an fp32 cache larger than the last-level cache read row
// after row on AVX-512 (the Zen 4 guest's fastest); or into L1, in the order a cache in L3 is read
// (the Zen 5 guest's fastest). Each is compiled into the decode loops apart.
enum class DecodeFetch { into_l2, into_l1 };
inline constexpr std::int64_t kDecodeFetchBytes = 8192;
// The decode fetch for ATTNBENCH_DECODE_FETCH's value `env` ("l1" or "l2"; unset or anything else
// leaves it to the CPU) on a CPU whose own is `cpu`.
DecodeFetch choose_decode_fetch(const char* env, DecodeFetch cpu);
// The CPU's own decode fetch: into_l1 on an AMD CPU of family 1Ah (Zen 5), into_l2 on every other
// (the Zen 4 guest's best; the Intel Xeon and Arm CPUs take it unmeasured).
DecodeFetch cpu_decode_fetch();
// This process's decode fetch: choose_decode_fetch of its environment and CPU, or what
// assume_decode_fetch set.
DecodeFetch decode_fetch();
// Makes decode_fetch return *fetch (the tests run both); null goes back to the process's own.
void assume_decode_fetch(const DecodeFetch* fetch);
// What a result's context says of a fetch: "L1, 8 KiB ahead" or "L2, 8 KiB ahead".
std::string to_string(DecodeFetch fetch);
}  // namespace attn
