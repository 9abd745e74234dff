// `attnbench report`, `gate` and `compare` are Python scripts of bench/ (matplotlib draws the
// plots, scipy.stats decides the gate); this runs them.
#pragma once

#include <string>
#include <vector>

namespace attnbench {

// Runs Debian's /usr/bin/python3 (else python3 from PATH) on bench/<script> of the source tree
// with these arguments and returns its exit status; 2 with one line on stderr when it cannot run.
int run_python_script(const std::string& script, const std::vector<std::string>& args);

}  // namespace attnbench
