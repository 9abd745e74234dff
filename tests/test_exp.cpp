// The vectorized exponential the softmax and flash kernels use, measured against libm in double
// precision for every ISA tier the CPU has: its maximum error is the accuracy README states.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

#include "flash/flash.hpp"
#include "simd/ops.hpp"
#include "tiers.hpp"

namespace attn {
namespace {

// Distance in units in the last place of the float nearest the exact value.
double ulp_error(float got, double exact) {
    const float nearest = float(exact);
    const float ulp = std::nextafter(nearest, std::numeric_limits<float>::infinity()) - nearest;
    return std::fabs(double(got) - exact) / double(ulp);
}

// The largest ulp_error of `fn` against `exact` over n evenly spaced points of [lo, hi], and where.
struct WorstUlp {
    double ulp = 0;
    float x = 0;
};
WorstUlp sweep(void (*fn)(const float*, float*, std::int64_t), double (*exact)(double), double lo,
               double hi, std::size_t n) {
    std::vector<float> x(n), y(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = float(lo + (hi - lo) * double(i) / double(n - 1));
    fn(x.data(), y.data(), std::int64_t(n));
    WorstUlp worst;
    for (std::size_t i = 0; i < n; ++i) {
        const double e = ulp_error(y[i], exact(double(x[i])));
        if (e > worst.ulp) worst = {e, x[i]};
    }
    return worst;
}

// The smallest float whose e^x is a normal float (ln FLT_MIN = -87.3365..., rounded up to a float).
float lowest_normal_exp_argument() {
    float x = float(std::log(double(FLT_MIN)));
    while (std::exp(double(x)) < double(FLT_MIN)) x = std::nextafter(x, 0.0f);
    return x;
}

// Every float of [lo, hi), in order.
std::vector<float> every_float(float lo, float hi) {
    std::vector<float> x;
    for (float v = lo; v < hi; v = std::nextafter(v, hi)) x.push_back(v);
    return x;
}

class VectorExp : public ::testing::TestWithParam<Isa> {};

TEST_P(VectorExp, WithinTwoUlpOverTheNormalRange) {
    ATTN_SKIP_UNLESS_RUNS_HERE(GetParam());
    // 2^21 points spread from the lowest argument whose e^x is a normal float to 88, plus an odd
    // count so the vector tail path runs too.
    const WorstUlp worst = sweep(
        simd::softmax_ops(GetParam()).exp, [](double x) { return std::exp(x); },
        lowest_normal_exp_argument(), 88.0, (std::size_t(1) << 21) + 3);
    RecordProperty("max_ulp", std::to_string(worst.ulp));
    std::printf("exp/%s: max error %.3f ulp at x = %g\n", to_string(GetParam()), worst.ulp,
                worst.x);
    EXPECT_LE(worst.ulp, 2.0) << "at x = " << worst.x;
}

// At the bottom of the range, every float: from the lowest argument with a normal e^x up to -87
// within 2 ulp (a clamp set too high returns 0 there), and below it, where e^x is subnormal,
// exactly 0 (the exponential never produces a subnormal, which costs an assist on Intel cores).
TEST_P(VectorExp, NormalDownToFltMinThenZero) {
    ATTN_SKIP_UNLESS_RUNS_HERE(GetParam());
    const float lowest = lowest_normal_exp_argument();
    const std::vector<float> normal = every_float(lowest, -87.0f);
    std::vector<float> y(normal.size());
    simd::softmax_ops(GetParam()).exp(normal.data(), y.data(), std::int64_t(normal.size()));
    int bad = 0;
    float first_bad = 0;
    for (std::size_t i = 0; i < normal.size(); ++i)
        if (!(ulp_error(y[i], std::exp(double(normal[i]))) <= 2.0) && bad++ == 0)
            first_bad = normal[i];
    EXPECT_EQ(bad, 0) << "of " << normal.size() << " arguments in [" << lowest
                      << ", -87), first at x = " << first_bad;
    std::vector<float> subnormal = every_float(-88.0f, lowest);
    for (float x : {-90.0f, -100.0f, -103.9f, -104.0f, -1000.0f}) subnormal.push_back(x);
    y.resize(subnormal.size());
    simd::softmax_ops(GetParam()).exp(subnormal.data(), y.data(), std::int64_t(subnormal.size()));
    bad = 0;
    for (std::size_t i = 0; i < subnormal.size(); ++i)
        if (!(y[i] == 0.0f) && bad++ == 0) first_bad = subnormal[i];
    EXPECT_EQ(bad, 0) << "of " << subnormal.size() << " arguments below " << lowest
                      << " are not 0, first at x = " << first_bad;
}

TEST_P(VectorExp, EdgeValues) {
    ATTN_SKIP_UNLESS_RUNS_HERE(GetParam());
    const float inf = std::numeric_limits<float>::infinity();
    const float in[] = {-inf, -1000.0f, -88.0f, 0.0f, 1.0f, -1.0f, 88.0f, 88.5f, 1000.0f, inf};
    float out[10];
    simd::softmax_ops(GetParam()).exp(in, out, 10);
    EXPECT_EQ(out[0], 0.0f);  // a masked score contributes exactly nothing
    EXPECT_EQ(out[1], 0.0f);
    EXPECT_EQ(out[2], 0.0f);  // e^-88 is subnormal: flushed to 0
    EXPECT_EQ(out[3], 1.0f);
    EXPECT_NEAR(out[4], 2.718281828f, 2e-7f);
    EXPECT_NEAR(out[5], 0.367879441f, 5e-8f);
    // The upper clamp: e^88 is the largest value, never inf, for any larger argument.
    EXPECT_LE(ulp_error(out[6], std::exp(88.0)), 2.0);
    for (int i = 7; i < 10; ++i) EXPECT_EQ(out[i], out[6]) << "e^" << in[i];
}

// The flash kernel's 2^x for x <= 0: within 2 ulp wherever 2^x is a normal float above its clamp,
// and never below 2^-125 (no subnormal, so no assists) nor above 1.
TEST_P(VectorExp, FlashExp2WithinTwoUlpForNonPositiveArguments) {
    ATTN_SKIP_UNLESS_RUNS_HERE(GetParam());
    const WorstUlp worst = sweep(
        flash::flash_ops(GetParam()).exp2, [](double x) { return std::exp2(x); }, 0.0, -125.0,
        (std::size_t(1) << 21) + 3);
    RecordProperty("max_ulp", std::to_string(worst.ulp));
    std::printf("exp2/%s: max error %.3f ulp at x = %g\n", to_string(GetParam()), worst.ulp,
                worst.x);
    EXPECT_LE(worst.ulp, 2.0) << "at x = " << worst.x;
    const float edge[] = {0.0f, -0.5f, -1000.0f, -std::numeric_limits<float>::infinity()};
    float out[4];
    flash::flash_ops(GetParam()).exp2(edge, out, 4);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_NEAR(out[1], 0.70710678f, 1e-7f);
    EXPECT_EQ(out[2], std::ldexp(1.0f, -125));  // clamped: normal, and negligible beside a row's 1
    EXPECT_EQ(out[3], std::ldexp(1.0f, -125));
    // Every float of [-127, -125): the clamp, never a subnormal or a smaller normal.
    const std::vector<float> below = every_float(-127.0f, -125.0f);
    std::vector<float> y(below.size());
    flash::flash_ops(GetParam()).exp2(below.data(), y.data(), std::int64_t(below.size()));
    int bad = 0;
    for (float v : y) bad += !(v == std::ldexp(1.0f, -125));
    EXPECT_EQ(bad, 0) << "of " << below.size() << " arguments in [-127, -125)";
}

// e^NaN and 2^NaN are NaN: the clamps must not turn a NaN score into a weight.
TEST_P(VectorExp, NaNPassesThrough) {
    ATTN_SKIP_UNLESS_RUNS_HERE(GetParam());
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float in[] = {nan, -1.0f, nan, 0.0f, nan};
    float out[5], out2[5];
    simd::softmax_ops(GetParam()).exp(in, out, 5);
    flash::flash_ops(GetParam()).exp2(in, out2, 5);
    for (int i : {0, 2, 4}) {
        EXPECT_TRUE(std::isnan(out[i])) << "exp at " << i;
        EXPECT_TRUE(std::isnan(out2[i])) << "exp2 at " << i;
    }
    EXPECT_EQ(out[3], 1.0f);
    EXPECT_EQ(out2[3], 1.0f);
}

INSTANTIATE_TEST_SUITE_P(Tiers, VectorExp,
                         ::testing::ValuesIn(isa_tiers().begin(), isa_tiers().end()),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace attn
