// The double-precision reference output of a workload together with a per-element error bound,
// so every kernel of a stage is judged by the same rule.
#pragma once

#include <string>
#include <vector>

#include "attn/workload.hpp"

namespace attn::testing {

struct Expected {
    std::vector<double> value;
    std::vector<double> tolerance;
};

Expected expected_output(const Workload& work);

// How many outputs of `work` (already run) lie outside expected_output's bound; the first three
// are reported as test failures, labelled `what` and the shape.
int outputs_outside_bound(const Workload& work, const std::string& what);

}  // namespace attn::testing
