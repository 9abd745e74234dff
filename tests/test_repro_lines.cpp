// Every repro line the kernel tests can print, parsed by the driver's own command-line code and
// expanded into its sweep, selects exactly the kernel and shape of the test that printed it
// (tests/repro_runs.sh then runs some of them for real).
#include <gtest/gtest.h>

#include <sstream>
#include <variant>

#include "attn/registry.hpp"
#include "cli.hpp"
#include "grid.hpp"

namespace attn::testing {
namespace {

TEST(ReproLines, EveryPrintedLineSelectsExactlyItsCase) {
    int lines = 0;
    for (const auto& k : registry())
        for (const auto& c : grid_for(k)) {
            const std::string line = repro_command(k, c.shape);
            std::istringstream words(line);
            std::vector<std::string> args;
            for (std::string w; words >> w;) args.push_back(w);
            ASSERT_EQ(args.front(), "attnbench") << line;
            args.erase(args.begin());
            const auto parsed = attnbench::parse_command_line(args);
            ASSERT_TRUE(std::holds_alternative<attnbench::Command>(parsed)) << line;
            const auto& cmd = std::get<attnbench::Command>(parsed);
            ASSERT_EQ(cmd.kind, attnbench::Command::Kind::run) << line;
            const std::vector<attnbench::Case> cases = attnbench::expand(cmd.run);
            ASSERT_EQ(cases.size(), 1u) << line;
            EXPECT_EQ(cases[0].kernel, &k) << line;
            Shape want = c.shape;
            if (!k.parallel()) want.threads = 1;
            EXPECT_EQ(cases[0].shape.text(), want.text()) << line;
            EXPECT_EQ(cases[0].shape.scale, want.scale) << line;
            EXPECT_EQ(cases[0].name, k.name() + "/" + want.text()) << line;
            ++lines;
        }
    EXPECT_GT(lines, int(registry().size()));
}

}  // namespace
}  // namespace attn::testing
