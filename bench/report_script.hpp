// `attnbench report` is bench/report.py (matplotlib draws the plots); this runs it.
#pragma once

#include <string>
#include <vector>

namespace attnbench {

// Runs Debian's /usr/bin/python3 (else python3 from PATH) on bench/report.py of the source tree
// with these arguments and returns its exit status; 2 with one line on stderr when it cannot run.
int run_report_script(const std::vector<std::string>& args);

}  // namespace attnbench
