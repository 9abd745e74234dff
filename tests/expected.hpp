// The double-precision reference output of a workload together with a per-element error bound,
// so every kernel of a stage is judged by the same rule.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "attn/workload.hpp"

namespace attn::testing {

struct Expected {
    std::vector<double> value;
    std::vector<double> tolerance;
};

Expected expected_output(const Workload& work);

// Whether a kernel's output `got` meets the reference `ref` within `tolerance`: an infinite
// reference (a masked score, an overflow the contract keeps) must be met exactly, a finite one by a
// finite output within the bound.
inline bool within_bound(float got, double ref, double tolerance) {
    return std::isinf(ref) ? got == float(ref)
                           : std::isfinite(got) && std::fabs(double(got) - ref) <= tolerance;
}

// How many outputs of `work` (already run) lie outside the bound of `want` (within_bound), or of
// expected_output(work) when not given: the reference need be computed only once for every kernel
// run on the same inputs. The first three are reported as test failures, labelled `what` and the
// shape.
int outputs_outside_bound(const Workload& work, const Expected& want, const std::string& what);
int outputs_outside_bound(const Workload& work, const std::string& what);

}  // namespace attn::testing
