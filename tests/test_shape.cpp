// The shape descriptor refuses what cannot run, naming the field, and reproduces itself.
#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <stdexcept>

#include "attn/registry.hpp"
#include "attn/stages.hpp"

namespace attn {
namespace {

TEST(Shape, DefaultIsValid) { EXPECT_EQ(Shape{}.problem(), ""); }

TEST(Shape, RefusesNonPositiveSizesNamingTheField) {
    const struct {
        std::int64_t Shape::*field;
        const char* name;
    } fields[] = {{&Shape::batch, "batch"}, {&Shape::heads, "heads"}, {&Shape::n_q, "n_q"},
                  {&Shape::n_kv, "n_kv"},   {&Shape::head_dim, "head_dim"}};
    for (const auto& f : fields)
        for (std::int64_t bad : {0, -5}) {
            Shape s;
            s.*f.field = bad;
            EXPECT_EQ(s.problem().rfind(f.name, 0), 0u) << s.problem();
            EXPECT_THROW(s.validate(), std::invalid_argument);
        }
    Shape s;
    s.threads = 0;
    EXPECT_NE(s.problem().find("threads"), std::string::npos);
    s = Shape{};
    s.scale = std::numeric_limits<double>::quiet_NaN();
    EXPECT_NE(s.problem().find("scale"), std::string::npos);
}

TEST(Shape, RefusesSizesWhoseBuffersOverflow) {
    Shape s;
    s.n_q = s.n_kv = std::int64_t(1) << 40;
    EXPECT_NE(s.problem().find("overflows"), std::string::npos) << s.problem();
    s = Shape{};
    s.heads = s.head_dim = std::int64_t(1) << 20;  // d_model^2 = 2^80
    EXPECT_NE(s.problem(), "");
}

TEST(Shape, RefusesWhatDoesNotFitInMemory) {
    Shape s;
    s.heads = 64, s.n_q = s.n_kv = 4'000'000, s.head_dim = 64;
    EXPECT_EQ(s.problem(), "");  // representable ...
    EXPECT_NE(stage_problem(Stage::scores, s).find("GiB"), std::string::npos);  // ... but too big
}

TEST(Shape, MultiheadIsSelfAttention) {
    Shape s;
    s.n_q = 4, s.n_kv = 5;
    EXPECT_NE(stage_problem(Stage::multihead, s).find("n_q"), std::string::npos);
    EXPECT_EQ(stage_problem(Stage::attention, s), "");
}

TEST(Shape, ReproNamesEveryField) {
    Shape s;
    s.batch = 2, s.heads = 8, s.n_q = 128, s.n_kv = 256, s.head_dim = 64, s.causal = true;
    s.similarity = Similarity::cosine, s.threads = 2;
    EXPECT_EQ(s.repro(), "--batch 2 --heads 8 --seq-q 128 --seq-kv 256 --dim 64 --causal --sim cosine "
                         "--scale 0.125 --threads 2");
}

TEST(Shape, CausalMaskAlignsTheDiagonalToTheEnd) {
    Shape s;
    s.n_q = 3, s.n_kv = 5, s.causal = true;
    EXPECT_EQ(s.visible_keys(0), 3);
    EXPECT_EQ(s.visible_keys(2), 5);
    s.n_q = 5, s.n_kv = 3;
    EXPECT_EQ(s.visible_keys(0), 0);
    EXPECT_EQ(s.visible_keys(1), 0);
    EXPECT_EQ(s.visible_keys(4), 3);
    s.causal = false;
    EXPECT_EQ(s.visible_keys(0), 3);
}

TEST(Registry, EveryStageHasANaiveKernel) {
    for (Stage st : kAllStages) EXPECT_NE(find_kernel(st, "naive", Isa::scalar), nullptr) << to_string(st);
}

TEST(Registry, NamesAreUnique) {
    std::set<std::string> seen;
    for (const auto& k : registry()) EXPECT_TRUE(seen.insert(k.name()).second) << k.name();
}

TEST(Flops, FollowThePublishedConvention) {
    Shape s;
    s.heads = 8, s.n_q = s.n_kv = 2048, s.head_dim = 128;
    EXPECT_DOUBLE_EQ(flops(Stage::attention, s), 4.0 * 8 * 2048 * 2048 * 128);
    s.causal = true;
    EXPECT_DOUBLE_EQ(flops(Stage::attention, s), 2.0 * 8 * 2048 * 2048 * 128);
    EXPECT_DOUBLE_EQ(flops(Stage::projection, s), 2.0 * 2048 * 1024 * 1024);
}

}  // namespace
}  // namespace attn
