#include "machine.hpp"

#include <sys/utsname.h>
#include <xsimd/config/xsimd_config.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "attn/isa.hpp"
#ifdef ATTN_HAVE_ONEDNN
#include "attn/onednn_info.hpp"
#endif
#ifdef ATTN_HAVE_OPENBLAS
#include "attn/openblas_info.hpp"
#endif

namespace attnbench {

// The value of the first "key : value" line of /proc/cpuinfo with this key.
std::string cpuinfo_field(const std::string& key) {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string k = line.substr(0, colon);
        k.erase(k.find_last_not_of(" \t") + 1);
        if (k == key) return line.substr(std::min(line.size(), colon + 2));
    }
    return "";
}

namespace {

std::string read_first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// Distinct (physical id, core id) pairs: cores, not logical CPUs.
int physical_cores() {
    std::ifstream in("/proc/cpuinfo");
    std::set<std::pair<std::string, std::string>> cores;
    std::string phys;
    for (std::string line; std::getline(in, line);) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string value = line.substr(std::min(line.size(), colon + 2));
        if (line.rfind("physical id", 0) == 0) phys = value;
        if (line.rfind("core id", 0) == 0) cores.emplace(phys, value);
    }
    return int(cores.size());
}

nlohmann::json caches() {
    nlohmann::json out = nlohmann::json::array();
    namespace fs = std::filesystem;
    const fs::path dir = "/sys/devices/system/cpu/cpu0/cache";
    std::error_code ec;
    std::vector<fs::path> entries;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().filename().string().rfind("index", 0) == 0) entries.push_back(e.path());
    std::sort(entries.begin(), entries.end());
    for (const auto& p : entries)
        out.push_back({{"level", read_first_line(p / "level")},
                       {"type", read_first_line(p / "type")},
                       {"size", read_first_line(p / "size")},
                       {"shared_cpu_list", read_first_line(p / "shared_cpu_list")}});
    return out;
}

double memory_gib() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    double kib = 0;
    while (in >> key >> kib) {
        if (key == "MemTotal:") return kib / (1024.0 * 1024.0);
        in.ignore(1 << 10, '\n');
    }
    return 0;
}

// Output of a shell command, trimmed; empty when it fails.
std::string command_output(const std::string& cmd) {
    std::string out;
    if (FILE* p = popen((cmd + " 2>/dev/null").c_str(), "r")) {
        char buf[256];
        while (std::fgets(buf, sizeof buf, p)) out += buf;
        if (pclose(p) != 0) return "";
    }
    while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
    return out;
}

nlohmann::json commit() {
    const std::string git = "git -C '" + std::string(ATTN_SOURCE_DIR) + "' ";
    const std::string hash = command_output(git + "rev-parse --short=12 HEAD");
    if (hash.empty()) return "unknown";
    // A dirty tree is flagged: its figures do not belong to the commit alone.
    const bool dirty = !command_output(git + "status --porcelain --untracked-files=no").empty();
    return hash + (dirty ? "-dirty" : "");
}

std::string compiler() {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "g++ " __VERSION__;
#else
    return "unknown";
#endif
}

// The system's name and release as /etc/os-release gives it ("Debian GNU/Linux 13 (trixie)").
std::string os_name() {
    std::ifstream f("/etc/os-release");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("PRETTY_NAME=", 0) == 0) {
            std::string v = line.substr(12);
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            return v;
        }
    return "unknown";
}

#if defined(__aarch64__)
// The CPU's name on aarch64, whose /proc/cpuinfo names no model: its core from the MIDR's
// implementer and part numbers, and the cloud part it is where the firmware says so (the same
// Neoverse core is AWS's Graviton or another vendor's chip).
std::string arm_cpu_model() {
    const std::string implementer = cpuinfo_field("CPU implementer"),
                      part = cpuinfo_field("CPU part");
    static const std::pair<const char*, const char*> arm_cores[] = {
        {"0xd03", "Cortex-A53"},  {"0xd07", "Cortex-A57"},  {"0xd08", "Cortex-A72"},
        {"0xd0b", "Cortex-A76"},  {"0xd0c", "Neoverse-N1"}, {"0xd40", "Neoverse-V1"},
        {"0xd49", "Neoverse-N2"}, {"0xd4f", "Neoverse-V2"}, {"0xd84", "Neoverse-V3"},
        {"0xd8e", "Neoverse-N3"}, {"0xd41", "Cortex-A78"},  {"0xd44", "Cortex-X1"}};
    std::string core;
    if (implementer == "0x41")
        for (const auto& [number, name] : arm_cores)
            if (part == number) core = std::string("Arm ") + name;
    if (implementer == "0x61") core = "Apple";
    if (implementer == "0xc0") core = "Ampere";
    if (implementer == "0x48") core = "HiSilicon";
    if (core.empty() && !implementer.empty())
        core = "Arm implementer " + implementer + " part " + part;
    if (read_first_line("/sys/devices/virtual/dmi/id/sys_vendor") == "Amazon EC2") {
        if (part == "0xd0c") return "AWS Graviton2";
        if (part == "0xd40") return "AWS Graviton3";
        if (part == "0xd4f") return "AWS Graviton4";
    }
    return core;
}
#endif

// How this process's instructions run when not natively: an aarch64 build that reads an x86-64
// /proc/cpuinfo (a vendor_id and x86 flags) runs under a user-mode emulator such as
// qemu-aarch64-static, whose times measure the emulator, not the code.
std::string emulation() {
#if defined(__aarch64__)
    if (!cpuinfo_field("vendor_id").empty())
        return "aarch64 emulated on x86-64 (" + cpuinfo_field("model name") + ")";
#endif
    return "";
}

}  // namespace

nlohmann::json machine_info() {
    nlohmann::json m;
    utsname u{};
    const bool named = uname(&u) == 0;
    m["architecture"] = named ? u.machine : "unknown";
    const std::string emulated = emulation();
#if defined(__aarch64__)
    // Emulated, the CPU named is the emulator's host; natively, the Arm core.
    m["cpu_model"] = emulated.empty() ? arm_cpu_model() : "qemu aarch64";
#else
    m["cpu_model"] = cpuinfo_field("model name");
#endif
    if (!emulated.empty()) m["emulated"] = emulated;
    m["cpu_vendor"] = cpuinfo_field("vendor_id");
    m["cpu_family_model_stepping"] = cpuinfo_field("cpu family") + "/" + cpuinfo_field("model") +
                                     "/" + cpuinfo_field("stepping");
    const std::string flags = " " + cpuinfo_field("flags") + " ";
    m["virtualized"] = flags.find(" hypervisor ") != std::string::npos;
    m["isa_dispatched"] = attn::to_string(attn::best_isa());
    nlohmann::json tiers = nlohmann::json::array();
    for (attn::Isa isa : attn::isa_tiers())
        if (attn::cpu_supports(isa)) tiers.push_back(attn::to_string(isa));
    m["isa_available"] = tiers;
    // Which products the avx512 tier's bf16 kernels ran, and why: flash's path differs by CPU.
    const attn::PathSwitch forced = attn::path_switch(std::getenv("ATTNBENCH_BF16_DOT"));
    const bool forced_on = forced == attn::PathSwitch::on,
               forced_off = forced == attn::PathSwitch::off;
    const double rate = attn::bf16_dot_rate_over_fma();
    char measured[96];
    std::snprintf(measured, sizeof measured, "vdpbf16ps measured at %.2fx the FMA's multiply-adds",
                  rate);
    std::string products;
    if (attn::best_has_bf16_dot() && attn::bf16_dot_preferred())
        products = std::string("vdpbf16ps (AVX512_BF16; ") +
                   (forced_on ? "ATTNBENCH_BF16_DOT=1, " : "") + measured + ")";
    else if (attn::best_has_bf16_dot())
        products = std::string("fp32 FMAs on widened inputs (") +
                   (forced_off ? "ATTNBENCH_BF16_DOT=0, " : "") + measured + ")";
    else products = "fp32 FMAs on widened inputs";
    m["bf16_products"] = products;
    m["bf16_dot_rate_over_fma"] = rate;
    // The bf16 projection's products (past decoding's few rows): AMX tiles where the CPU and OS
    // give them, else flash's choice.
    const bool amx_off = attn::path_switch(std::getenv("ATTNBENCH_AMX")) == attn::PathSwitch::off;
    m["bf16_projection_products"] = attn::best_has_amx_bf16() && !amx_off ? "AMX tiles (tdpbf16ps)"
                                    : amx_off && attn::best_has_amx_bf16()
                                        ? products + " (ATTNBENCH_AMX=0)"
                                        : products;
    // Flash's bf16 prefill takes the tiles where the head size is whole tile rows.
    m["bf16_prefill_products"] =
        attn::best_has_amx_bf16() && !amx_off
            ? "AMX tiles (tdpbf16ps) at head sizes that are multiples of 32, else " + products
            : products;
    // How flash's decode path fetched K and V ahead: its speed from memory turns on it.
    m["decode_fetch"] =
        "into " + attn::to_string(attn::decode_fetch()) +
        (attn::decode_fetch() != attn::cpu_decode_fetch() ? " (ATTNBENCH_DECODE_FETCH)" : "");
#ifdef ATTN_EMULATE_AVX512
    // A test build whose avx512 tier is AVX2 code: its timings say nothing of AVX-512.
    m["isa_emulated"] = "avx512 (SIMDe on AVX2)";
#endif
    m["logical_cpus"] = int(std::thread::hardware_concurrency());
    m["physical_cores"] = physical_cores();
    m["caches"] = caches();
    m["memory_gib"] = std::round(memory_gib() * 10) / 10;
    m["transparent_hugepages"] = read_first_line("/sys/kernel/mm/transparent_hugepage/enabled");
    m["kernel"] = named ? std::string(u.sysname) + " " + u.release : "unknown";
    m["os"] = os_name();
    m["compiler"] = compiler();
    m["build_type"] = ATTN_BUILD_TYPE;
#ifdef ATTN_INJECT_KERNEL
    // A gate proof build: never to be mistaken for a normal one.
    m["injected_slowdown"] = {{"kernel", ATTN_INJECT_KERNEL}, {"fraction", ATTN_INJECT_FRACTION}};
#endif
    m["cxx_flags"] = ATTN_CXX_FLAGS;
    nlohmann::json file_flags = nlohmann::json::object();
    for (attn::Isa isa : attn::isa_tiers()) {
        std::string f = attn::isa_flags(isa);
        std::replace(f.begin(), f.end(), ';', ' ');  // CMake's list separator
        file_flags[attn::to_string(isa)] = f;
    }
    m["isa_file_flags"] = file_flags;
    m["xsimd"] = std::to_string(XSIMD_VERSION_MAJOR) + "." + std::to_string(XSIMD_VERSION_MINOR) +
                 "." + std::to_string(XSIMD_VERSION_PATCH);
    m["google_benchmark"] = ATTN_BENCHMARK_VERSION;
    m["openmp"] = std::to_string(_OPENMP);
#ifdef ATTN_HAVE_OPENBLAS
    const auto blas = attn::openblas_info();
    m["openblas_core"] = blas.core;
    m["openblas_config"] = blas.config;
#else
    m["openblas_core"] = "not built";
#endif
#ifdef ATTN_HAVE_ONEDNN
    const auto dnn = attn::onednn_info();
    m["onednn_version"] = dnn.version;
    m["onednn_runtime"] = dnn.runtime;
    m["onednn_isa"] = dnn.isa;
#else
    m["onednn_version"] = "not built";
#endif
    m["commit"] = commit();
    m["date"] = utc_time("%Y-%m-%dT%H:%M:%SZ");
    return m;
}

std::string utc_time(const char* format) {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

std::string fingerprint(const nlohmann::json& machine) {
    std::string model = machine.value("cpu_model", "");
    // Marketing noise that says nothing about the machine: trademarks, "CPU", "Processor", the
    // nominal clock, core counts in the name and integrated graphics.
    static const std::regex noise(
        R"(\((R|TM|tm|r)\)|\bCPU\b|\bProcessor\b|@.*$|\b\d+-Core\b|\bwith .*$)");
    model = std::regex_replace(model, noise, " ");
    std::string slug;
    for (char c : model) {
        if (std::isalnum(static_cast<unsigned char>(c)))
            slug += char(std::tolower(static_cast<unsigned char>(c)));
        else if (!slug.empty() && slug.back() != '-') slug += '-';
    }
    while (!slug.empty() && slug.back() == '-') slug.pop_back();
    if (slug.empty()) slug = "unknown-cpu";
    // A virtual machine often names only the brand ("AMD EPYC", "Intel Xeon"), which Zen 3, 4 and
    // 5, or two Xeon generations, share although their peaks differ twofold: without a model
    // number in the name, the CPU family and model tell them apart (f25m17 for a Zen 4 EPYC).
    const std::string fms = machine.value("cpu_family_model_stepping", "");
    const auto first = fms.find('/'), second = fms.find('/', first + 1);
    const bool numbered = std::any_of(slug.begin(), slug.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
    if (!numbered && first != std::string::npos && second != std::string::npos && first > 0 &&
        second > first + 1)
        slug += "-f" + fms.substr(0, first) + "m" + fms.substr(first + 1, second - first - 1);
    return slug + "-" + machine.value("isa_dispatched", "scalar") + "-" +
           std::to_string(machine.value("logical_cpus", 0)) + "c";
}

}  // namespace attnbench
