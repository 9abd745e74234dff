// The double-precision reference output of a workload together with a per-element error bound,
// so every kernel of a stage is judged by the same rule.
#pragma once

#include <vector>

#include "attn/workload.hpp"

namespace attn::testing {

struct Expected {
    std::vector<double> value;
    std::vector<double> tolerance;
};

Expected expected_output(const Workload& work);

}  // namespace attn::testing
