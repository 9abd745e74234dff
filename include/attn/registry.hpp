// The single list of kernels: every (stage, variant, isa) entry that tests, benchmarks and the
// CLI enumerate. Entries come from src/kernels.inc.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "attn/isa.hpp"
#include "attn/stages.hpp"

namespace attn {

// A function pointer tagged with its stage, so stages whose signatures coincide stay distinct.
template <Stage S> struct StageFn {
    typename StageTraits<S>::Fn* call;
};
using AnyStageFn = std::variant<StageFn<Stage::scores>, StageFn<Stage::softmax>,
                                StageFn<Stage::weighted_sum>, StageFn<Stage::attention>,
                                StageFn<Stage::projection>, StageFn<Stage::multihead>>;

struct Kernel {
    Stage stage;
    std::string_view variant;
    Isa isa;
    // Whether the kernel uses Shape::threads; single-threaded kernels are benchmarked at t=1 only.
    bool parallel;
    AnyStageFn fn;

    std::string name() const;  // "stage/variant/isa"
    bool available() const { return cpu_supports(isa); }
};

std::span<const Kernel> registry();
// The entry with this stage, variant and isa, or nullptr.
const Kernel* find_kernel(Stage stage, std::string_view variant, Isa isa);

// Names known to the registry, for validating user input and for error messages.
std::string known_stages();
std::string known_variants();
std::string known_isas();
bool parse_stage(std::string_view name, Stage& out);
bool parse_isa(std::string_view name, Isa& out);
bool is_variant(std::string_view name);

}  // namespace attn
