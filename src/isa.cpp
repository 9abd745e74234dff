#include "attn/isa.hpp"

#include "simd/dot_projection.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace attn {

const char* to_string(Isa isa) {
    switch (isa) {
        case Isa::scalar: return "scalar";
#define ATTN_ISA(name, flags, feature, feature2) \
    case Isa::name:                              \
        return #name;
#include "attn/isa_tiers.inc"
#undef ATTN_ISA
        case Isa::best: return "best";
    }
    return "?";
}

bool parse_isa(std::string_view name, Isa& out) {
    for (Isa i = Isa::scalar;; i = Isa(int(i) + 1)) {
        if (name == to_string(i)) return out = i, true;
        if (i == Isa::best) return false;
    }
}

std::span<const Isa> isa_tiers() {
    static constexpr Isa tiers[] = {
#define ATTN_ISA(name, flags, feature, feature2) Isa::name,
#include "attn/isa_tiers.inc"
#undef ATTN_ISA
    };
    return tiers;
}

const char* isa_flags(Isa isa) {
    switch (isa) {
#define ATTN_ISA(name, flags, feature, feature2) \
    case Isa::name:                              \
        return flags;
#include "attn/isa_tiers.inc"
#undef ATTN_ISA
        default: return "";
    }
}

#if defined(__aarch64__)
namespace {
// Whether the CPU has the feature named as in isa_tiers_aarch64.inc, from the kernel's hardware
// capability bits (what the CPU has and the kernel enabled).
bool hwcap_has(std::string_view feature) {
    if (feature == "asimd") return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
    return false;
}
}  // namespace
#define ATTN_CPU_HAS(feature) hwcap_has(feature)
#else
// __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0), which a raw
// CPUID read does not; valgrind's emulated CPUID reports no AVX-512, so it lands on avx2.
#define ATTN_CPU_HAS(feature) __builtin_cpu_supports(feature)
#endif

bool cpu_supports(Isa isa) {
#ifdef ATTN_EMULATE_AVX512
    // The avx512-emulated test build: the tier's files are AVX2 code (SIMDe; tests/emu/).
    if (isa == Isa::avx512) return cpu_supports(Isa::avx2);
#endif
    switch (isa) {
        case Isa::scalar:
        case Isa::best: return true;
#define ATTN_ISA(name, flags, feature, feature2) \
    case Isa::name:                              \
        return ATTN_CPU_HAS(feature) && ATTN_CPU_HAS(feature2);
#include "attn/isa_tiers.inc"
#undef ATTN_ISA
    }
    return false;
}

Isa best_isa() {
    static const Isa chosen = [] {
        Isa cap = isa_tiers().back();
        if (const char* env = std::getenv("ATTNBENCH_MAX_ISA")) {
            Isa named;
            if (parse_isa(env, named) && named != Isa::best) cap = named;
        }
        for (auto it = isa_tiers().rbegin(); it != isa_tiers().rend(); ++it)
            if (int(*it) <= int(cap) && cpu_supports(*it)) return *it;
        return Isa::scalar;
    }();
    return chosen;
}

bool cpu_has_bf16_dot() {
#ifdef ATTN_EMULATE_AVX512
    // The emulated AVX-512 has no AVX512_BF16: that build tests the tier's widening path.
    return false;
#endif
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
#else
    return false;  // the bf16 products are AVX512_BF16's (vdpbf16ps)
#endif
}

PathSwitch path_switch(const char* value) {
    if (value && std::strcmp(value, "1") == 0) return PathSwitch::on;
    if (value && std::strcmp(value, "0") == 0) return PathSwitch::off;
    return PathSwitch::unset;
}

bool prefer_bf16_dot(const char* env, double rate) {
    const PathSwitch forced = path_switch(env);
    return forced == PathSwitch::unset ? rate >= kBf16DotPays : forced == PathSwitch::on;
}

bool bf16_dot_preferred() {
    static const bool preferred =
        cpu_has_bf16_dot() &&
        prefer_bf16_dot(std::getenv("ATTNBENCH_BF16_DOT"), bf16_dot_rate_over_fma());
    return preferred;
}

DecodeFetch choose_decode_fetch(const char* env, DecodeFetch cpu) {
    if (env && std::strcmp(env, "l1") == 0) return DecodeFetch::into_l1;
    if (env && std::strcmp(env, "l2") == 0) return DecodeFetch::into_l2;
    return cpu;
}

DecodeFetch cpu_decode_fetch() {
#if defined(__x86_64__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    // "AuthenticAMD": ebx holds "Auth"; family 0Fh adds the extended family of eax's bits 20-27.
    if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) && ebx == 0x68747541 &&
        __get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        const unsigned base = eax >> 8 & 0xf, family = base + (base == 0xf ? eax >> 20 & 0xff : 0);
        if (family == 0x1a) return DecodeFetch::into_l1;
    }
#endif
    return DecodeFetch::into_l2;
}

namespace {
// 0: the process's own decode fetch; else 1 + the DecodeFetch that assume_decode_fetch set.
std::atomic<int> assumed_fetch{0};
}  // namespace

DecodeFetch decode_fetch() {
    if (const int assumed = assumed_fetch.load(std::memory_order_relaxed))
        return DecodeFetch(assumed - 1);
    static const DecodeFetch own =
        choose_decode_fetch(std::getenv("ATTNBENCH_DECODE_FETCH"), cpu_decode_fetch());
    return own;
}

void assume_decode_fetch(const DecodeFetch* fetch) {
    assumed_fetch.store(fetch ? int(*fetch) + 1 : 0);
}

std::string to_string(DecodeFetch fetch) {
    return std::string(fetch == DecodeFetch::into_l1 ? "L1, " : "L2, ") +
           std::to_string(kDecodeFetchBytes >> 10) + " KiB ahead";
}

bool best_has_amx_bf16() {
#if defined(__x86_64__)
    return cpu_has_amx_bf16() && best_isa() == Isa::avx512;
#else
    return false;
#endif
}

bool best_has_bf16_dot() {
#if defined(__x86_64__)
    return cpu_has_bf16_dot() && best_isa() == Isa::avx512;
#else
    return false;
#endif
}

namespace {
std::atomic<std::int64_t> bf16_dot_counter{0};
}  // namespace

void simd::count_bf16_dot_multiply_adds(std::int64_t multiply_adds) {
    bf16_dot_counter.fetch_add(multiply_adds, std::memory_order_relaxed);
}

std::int64_t bf16_dot_multiply_adds() { return bf16_dot_counter.load(std::memory_order_relaxed); }

}  // namespace attn
