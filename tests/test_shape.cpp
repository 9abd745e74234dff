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
    } fields[] = {{&Shape::batch, "batch"},
                  {&Shape::heads, "heads"},
                  {&Shape::n_q, "n_q"},
                  {&Shape::n_kv, "n_kv"},
                  {&Shape::head_dim, "head_dim"}};
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
    s.threads = Shape::kMaxThreads + 1;
    EXPECT_NE(s.problem().find("at most"), std::string::npos);
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
    EXPECT_EQ(s.problem(), "");                                                 // representable ...
    EXPECT_NE(stage_problem(Stage::scores, s).find("GiB"), std::string::npos);  // ... but too big
}

TEST(Shape, MultiheadIsSelfAttention) {
    Shape s;
    s.n_q = 4, s.n_kv = 5;
    EXPECT_NE(stage_problem(Stage::multihead, s).find("n_q"), std::string::npos);
    EXPECT_EQ(stage_problem(Stage::attention, s), "");
}

TEST(Shape, TextNamesEveryField) {
    Shape s;
    s.batch = 2, s.heads = 8, s.n_q = 128, s.n_kv = 256, s.head_dim = 64, s.causal = true;
    s.similarity = Similarity::cosine, s.threads = 2, s.scale = 0.3;
    EXPECT_EQ(s.text(), "nq:128/nkv:256/h:8/d:64/t:2/b:2/scale:0.3/causal/cosine");
    EXPECT_EQ(s.text(false), "nq:128/nkv:256/h:8/d:64/b:2/scale:0.3/causal/cosine");
    // The defaults leave their fields out, and a square shape has one length, as names always had.
    s = Shape{};
    s.n_q = s.n_kv = 512, s.heads = 12, s.head_dim = 64;
    EXPECT_EQ(s.text(), "n:512/h:12/d:64/t:1");
}

TEST(Shape, TextReadsBackExactly) {
    Shape s;
    s.batch = 3, s.heads = 5, s.n_q = 1, s.n_kv = 4099, s.head_dim = 7, s.causal = true,
    s.threads = 4;
    for (double scale : {0.0, 1.0, 0.1, 1.0 / 3.0, 1e-30})
        for (Similarity sim : {Similarity::dot, Similarity::cosine}) {
            s.scale = scale, s.similarity = sim;
            bool threads_given = false;
            const Shape back = parse_shape(s.text(), &threads_given);
            EXPECT_EQ(back.text(), s.text());
            EXPECT_EQ(back.scale, s.scale);  // bit for bit
            EXPECT_TRUE(threads_given);
            EXPECT_EQ(back.batch, 3);
            EXPECT_EQ(back.n_kv, 4099);
        }
}

TEST(Shape, LayerFieldsReadBackAndBelongToTheLayer) {
    const Shape s = parse_shape("rms/vocab:30522/n:16/h:4/kv:2/d:8/ff:96/swiglu/rope");
    EXPECT_EQ(s.vocab, 30522);
    EXPECT_EQ(s.text(false), "n:16/h:4/kv:2/d:8/ff:96/vocab:30522/swiglu/rope/rms");
    EXPECT_EQ(parse_shape(s.text()).text(), s.text());
    EXPECT_EQ(stage_problem(Stage::layer, s), "");
    EXPECT_NE(stage_problem(Stage::multihead, parse_shape("n:16/h:4/d:8/vocab:9")).find("vocab:"),
              std::string::npos);
}

TEST(Shape, ParseTakesFieldsInAnyOrderWithDefaults) {
    bool threads_given = true;
    const Shape s = parse_shape("b:1/h:32/nq:16/nkv:4096/d:128/causal", &threads_given);
    EXPECT_EQ(s.heads, 32);
    EXPECT_EQ(s.n_q, 16);
    EXPECT_EQ(s.n_kv, 4096);
    EXPECT_EQ(s.head_dim, 128);
    EXPECT_TRUE(s.causal);
    EXPECT_EQ(s.scale, 0.0);
    EXPECT_EQ(s.threads, 1);
    EXPECT_FALSE(threads_given);
    EXPECT_EQ(s.text(false), "nq:16/nkv:4096/h:32/d:128/causal");
}

TEST(Shape, ParseRefusesBadTextNamingTheField) {
    const struct {
        const char* text;
        const char* names;
    } bad[] = {{"", "not key:value"},
               {"n:8/h:2", "d: is missing"},
               {"n:8/d:2", "h: is missing"},
               {"h:2/d:4", "sequence length is missing"},
               {"nq:8/h:2/d:4", "sequence length is missing"},
               {"n:8/nq:4/nkv:4/h:2/d:4", "either n: or nq:"},
               {"n:8/h:2/d:4/n:9", "'n' is given twice"},
               {"n:8/h:2/d:4/q:1", "unknown field 'q'"},
               {"n:0/h:2/d:4", "n: '0' is not a positive integer"},
               {"n:-3/h:2/d:4", "n: '-3'"},
               {"n:8x/h:2/d:4", "n: '8x'"},
               {"n:8/h:2/d:4/t:99999999999", "t: '99999999999'"},
               {"n:8/h:2/d:4/scale:0", "scale: '0' is not a positive number"},
               {"n:8/h:2/d:4/scale:nan", "scale: 'nan'"},
               {"n:8/h:2/d:4/scale:inf", "scale: 'inf'"},
               {"n:8/h:2/d:4//causal", "'' is not key:value"},
               {"n:8/h:2/d:4/causal/causal", "'causal' is given twice"},
               {"n:1099511627776/h:2/d:4", "overflows"},
               {"n:8/h:2/d:4/vocab:0", "vocab: '0' is not a positive integer"},
               {"n:8/h:2/d:4/vocab:16777217", "vocab must be at most 16777216"},
               {"n:8/h:2/d:4/vocab:5/vocab:5", "'vocab' is given twice"}};
    for (const auto& b : bad) {
        try {
            parse_shape(b.text);
            ADD_FAILURE() << "accepted '" << b.text << "'";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(b.names), std::string::npos)
                << b.text << ": " << e.what();
            EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);  // one line
        }
    }
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
    for (Stage st : kAllStages)
        EXPECT_NE(find_kernel(st, "naive", Isa::scalar), nullptr) << to_string(st);
}

TEST(Registry, ReproCommandNamesTheKernelAndItsShape) {
    const Kernel* flash = find_kernel(Stage::attention, "flash", Isa::best);
    const Kernel* naive = find_kernel(Stage::attention, "naive", Isa::scalar);
    ASSERT_NE(flash, nullptr);
    ASSERT_NE(naive, nullptr);
    Shape s;
    s.n_q = 16, s.n_kv = 4096, s.heads = 32, s.head_dim = 128, s.causal = true, s.threads = 2;
    EXPECT_EQ(repro_command(*flash, s),
              "attnbench run --stage attention --variant flash --isa best --shape "
              "nq:16/nkv:4096/h:32/d:128/t:2/causal");
    // A single-threaded kernel is benchmarked at t:1 only.
    EXPECT_EQ(repro_command(*naive, s),
              "attnbench run --stage attention --variant naive --isa scalar --shape "
              "nq:16/nkv:4096/h:32/d:128/t:1/causal");
}

TEST(Registry, NamesAreUnique) {
    std::set<std::string> seen;
    for (const auto& k : registry())
        EXPECT_TRUE(seen.insert(k.typed_name()).second) << k.typed_name();
}

TEST(Flops, FollowThePublishedConvention) {
    Shape s;
    s.heads = 8, s.n_q = s.n_kv = 2048, s.head_dim = 128;
    EXPECT_DOUBLE_EQ(flops(Stage::attention, s), 4.0 * 8 * 2048 * 2048 * 128);
    s.causal = true;
    EXPECT_DOUBLE_EQ(flops(Stage::attention, s), 2.0 * 8 * 2048 * 2048 * 128);
    EXPECT_DOUBLE_EQ(flops(Stage::projection, s), 2.0 * 2048 * 1024 * 1024);
}

TEST(Shape, GroupedQueryHeads) {
    Shape s = parse_shape("nq:1/nkv:8192/h:32/kv:8/d:128/t:2/causal");
    EXPECT_EQ(s.kv_heads, 8);
    EXPECT_EQ(s.group_size(), 4);
    EXPECT_EQ(s.text(), "nq:1/nkv:8192/h:32/kv:8/d:128/t:2/causal");
    EXPECT_EQ(s.kv_elems(), std::size_t(8) * 8192 * 128);
    // Query heads 0-3 read K/V head 0, 28-31 head 7; the next batch starts at K/V head 8.
    s.batch = 2;
    EXPECT_EQ(s.kv_head_of(3), 0);
    EXPECT_EQ(s.kv_head_of(4), 1);
    EXPECT_EQ(s.kv_head_of(31), 7);
    EXPECT_EQ(s.kv_head_of(32), 8);
    // kv_heads equal to heads is the plain case and is not printed; 0 means the same.
    EXPECT_EQ(parse_shape("n:8/h:4/kv:4/d:2").text(false), "n:8/h:4/d:2");
    Shape plain = parse_shape("n:8/h:4/d:2");
    EXPECT_EQ(plain.kv_head_count(), 4);
    EXPECT_EQ(plain.kv_head_of(3), 3);
    EXPECT_THROW(parse_shape("n:8/h:32/kv:5/d:4"), std::invalid_argument);
    EXPECT_THROW(parse_shape("n:8/h:4/kv:8/d:4"), std::invalid_argument);
    EXPECT_THROW(parse_shape("n:8/h:4/kv:0/d:4"), std::invalid_argument);
    s.kv_heads = -1;
    EXPECT_NE(s.problem().find("kv_heads"), std::string::npos);
}

TEST(Flops, GroupingShrinksKAndVButNotTheAttentionWork) {
    Shape s = parse_shape("n:512/h:32/kv:8/d:128"), plain = parse_shape("n:512/h:32/d:128");
    EXPECT_DOUBLE_EQ(flops(Stage::attention, s), flops(Stage::attention, plain));
    // Q and O at 32 heads, K and V at 8.
    EXPECT_DOUBLE_EQ(min_bytes(Stage::attention, s), 4.0 * (2 * 32 + 2 * 8) * 512 * 128);
    // Wq and Wo 4096 x 4096, Wk and Wv 4096 x 1024.
    EXPECT_DOUBLE_EQ(flops(Stage::multihead, s) - flops(Stage::attention, s),
                     2.0 * 512 * 4096 * (2 * 4096 + 2 * 1024));
}

}  // namespace
}  // namespace attn
