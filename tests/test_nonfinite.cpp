// The non-finite contract (README, attn/stages.hpp): with one NaN, +inf, -inf or FLT_MAX placed in
// one input of a stage (stored in each storage type the stage reads, where FLT_MAX becomes +inf
// for bf16 and f16), every kernel's output has the NaN / +inf / -inf / finite pattern of the
// double-precision reference, which follows IEEE arithmetic on what the math reads: a key the
// causal mask hides contributes nothing whatever its K and V rows hold. Positions sit at tile
// edges: the first, a middle and the last element of a tensor, and for attention the keys at the
// end of flash's first 512-key block, the start of the second, and keys the mask hides from some
// rows (a 40-query block against a 600-key cache), and decode shapes (one to three queries).
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <sstream>

#include "attn/reference.hpp"
#include "attn/registry.hpp"
#include "attn/workload.hpp"
#include "expected.hpp"
#include "tiers.hpp"

namespace attn::testing {
namespace {

enum class Kind { nan, pos_inf, neg_inf, finite };

Kind kind_of(double x) {
    if (std::isnan(x)) return Kind::nan;
    if (std::isinf(x)) return x > 0 ? Kind::pos_inf : Kind::neg_inf;
    return Kind::finite;
}

const char* name_of(Kind k) {
    switch (k) {
        case Kind::nan: return "NaN";
        case Kind::pos_inf: return "+inf";
        case Kind::neg_inf: return "-inf";
        case Kind::finite: return "finite";
    }
    return "?";
}

struct Special {
    const char* name;
    float value;
};
constexpr Special kSpecials[] = {{"NaN", std::numeric_limits<float>::quiet_NaN()},
                                 {"+inf", std::numeric_limits<float>::infinity()},
                                 {"-inf", -std::numeric_limits<float>::infinity()},
                                 {"FLT_MAX", FLT_MAX}};

// A 40-query block against a 600-key cache (two of flash's KV blocks), causal: query i sees keys
// j <= 560 + i, so the last 39 keys are hidden from the first rows; multihead and projection are
// square (self-attention) at n = 40. Attention also meets the cache as decoding does: 3 queries of
// 2 heads per K/V head (query i sees keys j <= 597 + i), and one query of as many heads on one K/V
// head as the widest decode form of any kernel needs (Tiles::decode_wide_rows).
std::vector<Shape> shapes_of(Stage stage) {
    Shape s;
    s.heads = 2, s.head_dim = 16, s.causal = true, s.threads = 2;
    s.n_q = 40, s.n_kv = reads_rows_of_x(stage) ? 40 : 600;
    std::vector<Shape> out{s};
    if (stage == Stage::layer) {  // from token ids: a NaN or infinite id looks up a row of NaN
        Shape tokens = s;
        tokens.vocab = 30;
        out.push_back(tokens);
    }
    if (stage == Stage::attention) {
        Shape grouped = s;
        grouped.n_q = 3, grouped.heads = 4, grouped.kv_heads = 2;
        out.push_back(grouped);
        std::int64_t wide = 2;
        for (const auto& k : registry())
            if (k.stage == stage && k.available())
                wide = std::max(wide, k.tiles().decode_wide_rows);
        Shape multi_query = s;
        multi_query.n_q = 1, multi_query.heads = wide, multi_query.kv_heads = 1;
        out.push_back(multi_query);
    }
    return out;
}

// Element offsets of input `input` to poison: first, middle and last, plus for the K and V of
// attention the keys 511, 512 (either side of flash's block edge) and 599 (hidden from rows < 39).
std::vector<std::size_t> positions(Stage stage, std::size_t input, std::size_t size,
                                   const Shape& s) {
    if (size == 0) return {};  // an input the shape leaves unused (the layer's w3 without SwiGLU)
    std::vector<std::size_t> at{0, size / 2 + 3, size - 1};
    if ((stage == Stage::attention && input > 0) || (stage == Stage::weighted_sum && input == 1))
        for (std::int64_t key : {511, 512, 599})
            at.push_back(std::size_t(key * s.head_dim + (key % 3)));
    if (stage == Stage::softmax || (stage == Stage::weighted_sum && input == 0))
        for (std::int64_t key : {511, 512, 599})
            at.push_back(std::size_t(5 * s.n_kv + key));  // row 5
    return at;
}

std::vector<double> reference_output(const Workload& w) { return expected_output(w).value; }

TEST(NonFinite, EveryKernelFollowsTheReferencePattern) {
    int checks = 0, differ = 0;
    std::ostringstream report;
    for (Stage stage : kAllStages)
        for (Shape s : shapes_of(stage))
            for (DType dtype : kAllDTypes) {
                // The special value is stored in the storage type: FLT_MAX becomes +inf in bf16 and
                // f16, and the reference reads what was stored.
                s.dtype = dtype;
                if (!stage_problem(stage, s).empty()) continue;
                Workload probe(stage, s);
                for (std::size_t input = 0; input < probe.inputs().size(); ++input)
                    for (std::size_t at : positions(stage, input, probe.inputs()[input].size(), s))
                        for (const Special& special : kSpecials) {
                            // Multi-head attention projects FLT_MAX to q and k near 1e37, whose
                            // product overflows fp32 where the double reference does not: the fp32
                            // range decides there, not a kernel.
                            if ((stage == Stage::multihead || stage == Stage::layer) &&
                                special.value == FLT_MAX)
                                continue;
                            Workload base(stage, s);
                            base.inputs()[input].set(at, special.value);
                            const std::vector<double> want = reference_output(base);
                            for (const auto& k : registry()) {
                                if (k.stage != stage || k.dtype != dtype || !runs_here(k)) continue;
                                Workload w(stage, s);
                                w.inputs()[input].set(at, special.value);
                                w.run(k);
                                std::size_t bad = 0, first = 0;
                                for (std::size_t i = 0; i < want.size(); ++i)
                                    if (kind_of(w.output().data()[i]) != kind_of(float(want[i])) &&
                                        bad++ == 0)
                                        first = i;
                                ++checks;
                                if (bad == 0) continue;
                                ++differ;
                                report << "\n  " << k.typed_name() << ": " << special.name
                                       << " at input " << input << "[" << at << "]: " << bad
                                       << " outputs differ, first [" << first << "] "
                                       << name_of(kind_of(w.output().data()[first])) << " want "
                                       << name_of(kind_of(float(want[first]))) << " (shape "
                                       << s.text() << ")";
                            }
                        }
            }
    std::printf("non-finite contract: %d of %d (case, kernel) checks differ from the reference\n",
                differ, checks);
    EXPECT_EQ(differ, 0) << report.str();
}

}  // namespace
}  // namespace attn::testing
