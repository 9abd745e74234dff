// Shape files: the keys of rectangular (nq=, nkv=), scaled (scale=), 16-bit (dt=) and layer (ff=,
// swiglu, rope, rms) shapes, read into the same descriptors --shape gives, the settings lines, and
// malformed lines refused naming file and line.
#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>
#include <string>

#include "shape_file.hpp"

namespace attnbench {
namespace {

const std::string kData = std::string(ATTN_TEST_DATA_DIR) + "/";

TEST(ShapeFile, CrossesQueryAndCacheLengthsAndKeepsTheScale) {
    const ShapeFile f = load_shape_file(kData + "decode_shapes.txt");
    std::vector<std::string> texts;
    for (const auto& s : f.shapes) texts.push_back(s.text(false));
    EXPECT_EQ(texts, (std::vector<std::string>{
                         "nq:1/nkv:512/h:4/d:64/causal", "nq:1/nkv:4096/h:4/d:64/causal",
                         "nq:16/nkv:512/h:4/d:64/causal", "nq:16/nkv:4096/h:4/d:64/causal",
                         "n:32/h:2/d:16/scale:0.5/cosine"}));
    ASSERT_EQ(f.models.size(), 5u);
    EXPECT_EQ(f.models[0], "decoding: 1 or 16 new tokens against a cache");
    EXPECT_EQ(f.shapes[4].scale, 0.5);
}

TEST(ShapeFile, CrossesStorageTypesAndRefusesAnUnknownOne) {
    std::istringstream good("n=64 h=2 d=16 dt=f32,bf16,f16 causal  # three types\n");
    const ShapeFile f = parse_shape_file(good, "inline", "inline.txt");
    std::vector<std::string> texts;
    for (const auto& s : f.shapes) texts.push_back(s.text(false));
    EXPECT_EQ(texts,
              (std::vector<std::string>{"n:64/h:2/d:16/causal", "n:64/h:2/d:16/causal/dt:bf16",
                                        "n:64/h:2/d:16/causal/dt:f16"}));
    std::istringstream bad("n=64 h=2 d=16\nn=64 h=2 d=16 dt=bf16,fp8\n");
    try {
        parse_shape_file(bad, "inline", "inline.txt");
        ADD_FAILURE() << "accepted dt=fp8";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("inline.txt:2: dt: 'fp8' is not a storage type"),
                  std::string::npos)
            << e.what();
    }
}

TEST(ShapeFile, ReadsTheLayerFieldsAndTheStagesAndVariantsToRun) {
    std::istringstream good(
        "stage=peak,layer\nvariant=flash,onednn\n"
        "n=64 h=4 kv=2 d=16 ff=96,128 swiglu rope rms causal  # llama-like\n"
        "n=32 h=2 d=8 vocab=30522  # bert-like\n");
    const ShapeFile f = parse_shape_file(good, "inline", "inline.txt");
    std::vector<std::string> texts;
    for (const auto& s : f.shapes) texts.push_back(s.text(false));
    EXPECT_EQ(texts, (std::vector<std::string>{"n:64/h:4/kv:2/d:16/causal/ff:96/swiglu/rope/rms",
                                               "n:64/h:4/kv:2/d:16/causal/ff:128/swiglu/rope/rms",
                                               "n:32/h:2/d:8/vocab:30522"}));
    EXPECT_EQ(f.stages, (std::vector<std::string>{"peak", "layer"}));
    EXPECT_EQ(f.variants, (std::vector<std::string>{"flash", "onednn"}));
    std::istringstream two_vocabs("n=64 h=2 d=16 vocab=5,6\n");
    EXPECT_THROW(parse_shape_file(two_vocabs, "inline", "inline.txt"), std::invalid_argument);
    std::istringstream bad("n=64 h=2 d=16 ff=0\n");
    try {
        parse_shape_file(bad, "inline", "inline.txt");
        ADD_FAILURE() << "accepted ff=0";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("inline.txt:1: ff: '0' is not a comma-separated list"),
                  std::string::npos)
            << e.what();
    }
}

TEST(ShapeFile, RefusesNWithNqNamingTheLine) {
    try {
        load_shape_file(kData + "bad_rect.txt");
        ADD_FAILURE() << "accepted n= with nq=";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(
            std::string(e.what()).find("bad_rect.txt:1: give either n= or nq= with nkv=, not both"),
            std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace attnbench
