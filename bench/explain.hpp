// `attnbench explain`: the notes' worked example, or one head of a small shape, printed step by
// step as chosen kernels compute it beside the double-precision reference.
#pragma once

#include <cstdint>
#include <string>

#include "attn/explain.hpp"

namespace attnbench {

struct ExplainOptions {
    std::string variant = "flash";
    std::string isa;  // empty: best (or the variant's only tier)
    std::string dtype = "f32";
    std::string shape;  // empty: the worked example
    std::int64_t head = 0;
    std::uint64_t seed = 42;
};

// The largest n_q, n_kv and head size whose tensors explain prints whole.
inline constexpr std::int64_t kExplainMaxSize = 16;

// The worked example's table, the bank row through the steps beside the reference and the notes.
std::string render_bank(const attn::explain::Steps& steps, const attn::explain::HeadTrace& t);
// One head's Q, K, V, scores, weights and output, kernel and reference.
std::string render_head(const attn::explain::Steps& steps, const attn::explain::HeadTrace& t,
                        const attn::Fill& fill);
// The whole command: checks the options (std::invalid_argument with one sentence) and returns
// the text to print.
std::string explain(const ExplainOptions& o);

}  // namespace attnbench
