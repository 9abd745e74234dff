#include "attn/registry.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include "kernels.hpp"

namespace attn {

namespace {

// Whether `fn` is "<stage>_<variant>_<isa>", the one name a registry line's function may have, so
// that the name found in a benchmark or test greps to its definition.
constexpr bool named_after(std::string_view fn, std::string_view stage, std::string_view variant,
                           std::string_view isa) {
    return fn.size() == stage.size() + variant.size() + isa.size() + 2 && fn.starts_with(stage) &&
           fn[stage.size()] == '_' && fn.substr(stage.size() + 1).starts_with(variant) &&
           fn[stage.size() + 1 + variant.size()] == '_' && fn.ends_with(isa);
}
#define ATTN_KERNEL(stage, variant, isa, dtype, threading, fn, tiles) \
    static_assert(named_after(#fn, #stage, #variant, #isa), #fn       \
                  " is not "                                          \
                  "<stage>_<variant>_<isa>");
#include "kernels.inc"
#undef ATTN_KERNEL

const std::vector<Kernel>& all_kernels() {
    static const std::vector<Kernel> list = {
#define ATTN_KERNEL(stage, variant, isa, dtype, threading, fn, tiles)    \
    Kernel{Stage::stage,                                                 \
           #variant,                                                     \
           Isa::isa,                                                     \
           DType::dtype,                                                 \
           Threading::threading,                                         \
           StageFn<Stage::stage, storage_t<DType::dtype>>{&kernels::fn}, \
           &kernels::tiles},
#include "kernels.inc"
#undef ATTN_KERNEL
    };
    return list;
}

std::string join_unique(std::vector<std::string> names) {
    std::vector<std::string> seen;
    for (auto& n : names)
        if (std::find(seen.begin(), seen.end(), n) == seen.end()) seen.push_back(n);
    std::string out;
    for (const auto& n : seen) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

namespace kernels {
Tiles no_tiles(Isa) { return {}; }
}  // namespace kernels

std::span<const Kernel> registry() { return all_kernels(); }

const Kernel* find_kernel(Stage stage, std::string_view variant, Isa isa, DType dtype) {
    for (const auto& k : registry())
        if (k.stage == stage && k.variant == variant && k.isa == isa && k.dtype == dtype) return &k;
    return nullptr;
}

std::string repro_command(const Kernel& kernel, const Shape& shape) {
    Shape s = shape;
    if (!kernel.parallel()) s.threads = 1;
    s.dtype = kernel.dtype;
    return "attnbench run --stage " + std::string(to_string(kernel.stage)) + " --variant " +
           std::string(kernel.variant) + " --isa " + to_string(kernel.isa) + " --shape " + s.text();
}

std::string Kernel::name() const {
    return std::string(to_string(stage)) + "/" + std::string(variant) + "/" + to_string(isa);
}

std::string Kernel::typed_name() const {
    return dtype == DType::f32 ? name() : name() + "/dt:" + to_string(dtype);
}

std::string known_stages() {
    std::vector<std::string> n;
    for (Stage s : kAllStages) n.emplace_back(to_string(s));
    return join_unique(n);
}

std::string known_variants() {
    std::vector<std::string> n;
    for (const auto& k : registry()) n.emplace_back(k.variant);
    return join_unique(n);
}

std::string known_isas() {
    std::vector<std::string> n;
    for (const auto& k : registry()) n.emplace_back(to_string(k.isa));
    return join_unique(n);
}

bool parse_stage(std::string_view name, Stage& out) {
    for (Stage s : kAllStages)
        if (name == to_string(s)) return out = s, true;
    return false;
}

bool is_variant(std::string_view name) {
    return std::any_of(registry().begin(), registry().end(),
                       [&](const Kernel& k) { return k.variant == name; });
}

}  // namespace attn
