// attnbench's command line: the subcommands and the options of `run`, parsed into what to do.
// main() and the tests of the repro lines share it, so a printed command is parsed exactly as
// the driver parses it.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "explain.hpp"
#include "run_config.hpp"

namespace attnbench {

struct Command {
    enum class Kind { list, run, report, gate, compare, explain };
    Kind kind = Kind::list;
    // run: what to measure, where the result goes, whether it is saved and reported.
    RunConfig run;
    std::string results_dir = "results";
    bool save = true;
    bool report = true;
    // explain: what to print.
    ExplainOptions explain;
    // report, gate, compare: the arguments of the Python script.
    std::vector<std::string> script_args;
};

// Parses attnbench's own arguments (argv without the program name and without Google
// Benchmark's --benchmark_* flags). Returns the command, or the exit status when there is
// nothing more to do: 0 after printing help, 2 after printing one line on stderr for a bad
// command line (an unknown command, option or name, a malformed value or shape, a shape file
// that cannot be read).
std::variant<Command, int> parse_command_line(const std::vector<std::string>& args);

// Splits argv[1..] into attnbench's arguments and Google Benchmark's --benchmark_* flags
// (which keep argv[0] in front, as benchmark::Initialize expects).
void split_arguments(int argc, char** argv, std::vector<std::string>& ours,
                     std::vector<char*>& benchmark_flags);

// A --benchmark_min_time value in the form the Google Benchmark this driver is linked with takes:
// 1.8 and later want a unit ("0.3s" seconds, "100x" iterations) and warn without one, 1.7 takes
// plain seconds and refuses a unit; either form is accepted and rewritten. std::invalid_argument
// for what the linked version cannot do (iterations before 1.8).
std::string min_time_for_benchmark(const std::string& value);

}  // namespace attnbench
