// The driver hands --benchmark_min_time to Google Benchmark in the form the linked version takes
// (1.8 and later: a unit, "0.3s" or "100x"; 1.7: plain seconds), whichever form the user wrote.
#include <gtest/gtest.h>

#include <stdexcept>

#include "cli.hpp"

namespace attnbench {
namespace {

TEST(BenchmarkFlags, MinTimeInTheFormOfTheLinkedVersion) {
    const bool units = min_time_for_benchmark("0.3") == "0.3s";
    if (units) {
        EXPECT_EQ(min_time_for_benchmark("0.3s"), "0.3s");
        EXPECT_EQ(min_time_for_benchmark("2"), "2s");
        EXPECT_EQ(min_time_for_benchmark("100x"), "100x");
    } else {
        EXPECT_EQ(min_time_for_benchmark("0.3"), "0.3");
        EXPECT_EQ(min_time_for_benchmark("0.3s"), "0.3");
        EXPECT_EQ(min_time_for_benchmark("2s"), "2");
        EXPECT_THROW(min_time_for_benchmark("100x"), std::invalid_argument);
    }
    EXPECT_EQ(min_time_for_benchmark(""), "");
}

}  // namespace
}  // namespace attnbench
