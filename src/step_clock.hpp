// How the layer chains run their steps so that each is timed (attn/layer_steps.hpp).
#pragma once

#include <chrono>

#include "attn/layer_steps.hpp"

namespace attn {

// Runs run() as step `step` and charges its time to the step in this thread's
// layer_step_seconds(): that of the one run, or under layer_steps_alone() the mean of that many
// runs after it, the step by itself.
template <class Run> void run_step(LayerStep step, Run&& run) {
    using clock = std::chrono::steady_clock;
    const int repeats = layer_steps_alone();
    auto start = clock::now();
    run();
    if (repeats > 0) {
        start = clock::now();
        for (int r = 0; r < repeats; ++r) run();
    }
    layer_step_seconds()[std::size_t(step)] +=
        std::chrono::duration<double>(clock::now() - start).count() / (repeats > 0 ? repeats : 1);
}

}  // namespace attn
