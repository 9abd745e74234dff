// The shapes every kernel is tested on: edge cases common to all kernels, plus shapes derived from
// each kernel's own tile sizes (attn::Tiles), at, below, above and at multiples of each tile along
// the dimension it tiles, so that every remainder path and every block boundary runs.
#pragma once

#include <string>
#include <vector>

#include "attn/registry.hpp"
#include "attn/workload.hpp"

namespace attn::testing {

struct GridCase {
    std::string label;  // a valid test-name fragment: letters, digits and underscores
    Shape shape;
    Fill fill{};
    std::size_t misalign = 0;
};

// The cases for `kernel` that its stage can run: the common edge cases, then its tile cases.
std::vector<GridCase> grid_for(const Kernel& kernel);

}  // namespace attn::testing
