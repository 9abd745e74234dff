// The test program's entry: GoogleTest's, then the account of the ISA tiers this CPU could not
// test (tests/tiers.hpp), printed last and, under ctest, written where tests/run.sh adds it up.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tiers.hpp"

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    const int status = RUN_ALL_TESTS();
    if (GTEST_FLAG_GET(list_tests)) return status;  // nothing ran, nothing to account for
    attn::testing::print_tier_account(stdout);
    if (const char* path = std::getenv("ATTN_TIER_COUNTS")) attn::testing::write_tier_counts(path);
    return status;
}
