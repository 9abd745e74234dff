// The clock the layer chains read between steps (attn/layer_steps.hpp).
#pragma once

#include <chrono>

#include "attn/layer_steps.hpp"

namespace attn {

// Started at construction; each lap(step) charges the time since the previous lap (or the start)
// to `step` in this thread's layer_step_seconds().
class StepClock {
public:
    StepClock() : last_(std::chrono::steady_clock::now()) {}
    void lap(LayerStep step) {
        const auto now = std::chrono::steady_clock::now();
        layer_step_seconds()[std::size_t(step)] +=
            std::chrono::duration<double>(now - last_).count();
        last_ = now;
    }

private:
    std::chrono::steady_clock::time_point last_;
};

}  // namespace attn
