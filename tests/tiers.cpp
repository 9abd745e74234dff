#include "tiers.hpp"

#include <map>
#include <string>

namespace attn::testing {
namespace {

std::map<Isa, std::int64_t>& skipped() {
    static std::map<Isa, std::int64_t> counts;
    return counts;
}

// Whether this is the avx512-emulated test build (CMake ATTN_EMULATE_AVX512).
constexpr bool emulated() {
#ifdef ATTN_EMULATE_AVX512
    return true;
#else
    return false;
#endif
}

// 1412 -> "1,412".
std::string with_commas(std::int64_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

}  // namespace

bool runs_here(Isa isa) {
    if (cpu_supports(isa)) return true;
    ++skipped()[isa];
    return false;
}

std::string lacks(Isa isa) { return std::string("this CPU lacks ") + to_string(isa); }

std::int64_t skipped_cases(Isa isa) {
    const auto it = skipped().find(isa);
    return it == skipped().end() ? 0 : it->second;
}

void print_tier_account(std::FILE* out) {
    std::string ran, missing;
    for (Isa tier : isa_tiers()) {
        if (cpu_supports(tier)) {
            ran += (ran.empty() ? "" : ", ") + std::string(to_string(tier));
            continue;
        }
        std::fprintf(out, "not tested on this CPU: %s \u2014 %s cases skipped\n", to_string(tier),
                     with_commas(skipped_cases(tier)).c_str());
        missing += (missing.empty() ? "" : ", ") + std::string(to_string(tier));
    }
    if (missing.empty()) std::fprintf(out, "every ISA tier ran on this CPU: %s\n", ran.c_str());
    if (emulated()) std::fprintf(out, "(avx512 emulated on AVX2 by SIMDe: correctness only)\n");
        // The avx512 tier's bf16 products (vdpbf16ps) run only where the CPU has AVX512_BF16; the
        // tier's bf16 kernels take the widening path elsewhere.
#if defined(__x86_64__)
    std::fprintf(out, cpu_has_bf16_dot()
                          ? "bf16 dot products (AVX512_BF16) ran on this CPU\n"
                          : "not tested on this CPU: bf16 dot products (AVX512_BF16); the avx512 "
                            "tier's bf16 kernels ran their widening path\n");
    std::fprintf(out, cpu_has_amx_bf16() ? "AMX tiles (AMX-BF16) ran on this CPU\n"
                      : cpu_has_bf16_dot()
                          ? "not tested on this CPU: AMX tiles (AMX-BF16); the avx512 tier's "
                            "bf16 projection ran its bf16 dot products\n"
                          : "not tested on this CPU: AMX tiles (AMX-BF16); the avx512 tier's "
                            "bf16 projection ran its widening path\n");
#endif
}

void write_tier_counts(const char* path) {
    std::FILE* f = std::fopen(path, "w");
    if (!f) {
        std::fprintf(stderr, "attn_tests: cannot write the tier counts to %s\n", path);
        return;
    }
    for (Isa tier : isa_tiers())
        std::fprintf(f, "%s %s %lld\n", to_string(tier),
                     !cpu_supports(tier)                        ? "no"
                     : emulated() && tier == isa_tiers().back() ? "emulated"
                                                                : "native",
                     static_cast<long long>(skipped_cases(tier)));
    std::fclose(f);
}

}  // namespace attn::testing
