// Shape files: the keys of rectangular (nq=, nkv=), scaled (scale=) and 16-bit (dt=) shapes, read
// into the same descriptors --shape gives, and their malformed lines refused naming file and line.
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
