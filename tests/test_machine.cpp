// The result folder's name: machines that differ get different folders, whatever their CPU's name
// leaves out.
#include <gtest/gtest.h>

#include "machine.hpp"

namespace attnbench {
namespace {

nlohmann::json machine(const std::string& model, const std::string& family_model_stepping,
                       const std::string& isa) {
    return {{"cpu_model", model},
            {"cpu_family_model_stepping", family_model_stepping},
            {"isa_dispatched", isa},
            {"logical_cpus", 2}};
}

TEST(Fingerprint, BrandOnlyNamesCarryTheFamilyAndModel) {
    EXPECT_EQ(fingerprint(machine("AMD EPYC", "25/17/1", "avx512")), "amd-epyc-f25m17-avx512-2c");
    EXPECT_EQ(fingerprint(machine("AMD EPYC", "26/2/1", "avx512")), "amd-epyc-f26m2-avx512-2c");
    EXPECT_EQ(fingerprint(machine("Intel(R) Xeon(R) Processor", "6/167/1", "avx512")),
              "intel-xeon-f6m167-avx512-2c");
}

TEST(Fingerprint, NumberedNamesStayAsTheyAre) {
    EXPECT_EQ(fingerprint(machine("AMD EPYC 9B45 96-Core Processor", "26/2/1", "avx512")),
              "amd-epyc-9b45-avx512-2c");
    EXPECT_EQ(fingerprint(machine("Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz", "6/158/12", "avx2")),
              "intel-core-i7-9700k-avx2-2c");
}

TEST(Fingerprint, NoFamilyNoSuffix) {
    EXPECT_EQ(fingerprint(machine("Neoverse", "//", "neon")), "neoverse-neon-2c");
    EXPECT_EQ(fingerprint(machine("", "", "sse2")), "unknown-cpu-sse2-2c");
}

}  // namespace
}  // namespace attnbench
