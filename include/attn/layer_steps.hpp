// Where a layer call's time goes: the layer kernels time their own steps as they run (a clock read
// between steps, about 20 ns against calls of a millisecond and more), so each step's share is
// measured inside the layer, with the caches as the previous step left them, not in a run of its
// own.
#pragma once

#include <array>
#include <cstddef>

namespace attn {

// The steps of a layer call, in the order they run. qkv holds the three input projections and the
// head split, output the head merge and the output projection; ffn_up the feed-forward's first
// product (and SwiGLU's gate product), activation GELU or the gated SiLU (zero where a variant
// fuses it into ffn_up), norm1 and norm2 the residual sums with their norms; embedding the token
// lookup under vocab:V.
enum class LayerStep {
    embedding,
    positions,
    qkv,
    rotary,
    attention,
    output,
    norm1,
    ffn_up,
    activation,
    ffn_down,
    norm2,
};
inline constexpr std::size_t kLayerSteps = 11;

// The step's name as reports print it ("qkv", "ffn_up", ...).
const char* to_string(LayerStep step);

// Seconds spent in each step by the layer calls made on this thread since the last reset.
using LayerStepSeconds = std::array<double, kLayerSteps>;
LayerStepSeconds& layer_step_seconds();

// While above 0 on this thread, a layer call runs each step once untimed, then this many times in a
// row, and charges the mean of those to the step: each step measured alone with its own data in
// the caches, as a benchmark of that step by itself would find them. Such a call's output is not
// the layer's (a step that works in place repeats on its own result); it is for timing only.
int& layer_steps_alone();

}  // namespace attn
