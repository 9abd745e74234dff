#include "attn/layer_steps.hpp"

namespace attn {

const char* to_string(LayerStep step) {
    switch (step) {
        case LayerStep::embedding: return "embedding";
        case LayerStep::positions: return "positions";
        case LayerStep::qkv: return "qkv";
        case LayerStep::rotary: return "rotary";
        case LayerStep::attention: return "attention";
        case LayerStep::output: return "output";
        case LayerStep::norm1: return "norm1";
        case LayerStep::ffn_up: return "ffn_up";
        case LayerStep::activation: return "activation";
        case LayerStep::ffn_down: return "ffn_down";
        case LayerStep::norm2: return "norm2";
    }
    return "?";
}

LayerStepSeconds& layer_step_seconds() {
    thread_local LayerStepSeconds seconds{};
    return seconds;
}

int& layer_steps_alone() {
    thread_local int repeats = 0;
    return repeats;
}

}  // namespace attn
