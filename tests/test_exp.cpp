// The vectorized exponential the softmax and flash kernels use, measured against libm in double
// precision for every ISA tier the CPU has: its maximum error is the accuracy README states.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

#include "flash/flash.hpp"
#include "simd/ops.hpp"

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

class VectorExp : public ::testing::TestWithParam<Isa> {};

TEST_P(VectorExp, WithinTwoUlpOverTheNormalRange) {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "this CPU lacks " << to_string(GetParam());
    // 2^21 points spread over [-87, 88], where e^x is a normal float, plus an odd count so the
    // vector tail path runs too.
    const WorstUlp worst = sweep(
        simd::softmax_ops(GetParam()).exp, [](double x) { return std::exp(x); }, -87.0, 88.0,
        (std::size_t(1) << 21) + 3);
    RecordProperty("max_ulp", std::to_string(worst.ulp));
    std::printf("exp/%s: max error %.3f ulp at x = %g\n", to_string(GetParam()), worst.ulp,
                worst.x);
    EXPECT_LE(worst.ulp, 2.0) << "at x = " << worst.x;
}

TEST_P(VectorExp, EdgeValues) {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "this CPU lacks " << to_string(GetParam());
    const float in[] = {
        -std::numeric_limits<float>::infinity(), -1000.0f, -88.0f, 0.0f, 1.0f, -1.0f};
    float out[6];
    simd::softmax_ops(GetParam()).exp(in, out, 6);
    EXPECT_EQ(out[0], 0.0f);  // a masked score contributes exactly nothing
    EXPECT_EQ(out[1], 0.0f);
    EXPECT_GE(out[2], 0.0f);  // e^-88 is subnormal: 0 or a subnormal, never more
    EXPECT_LT(out[2], FLT_MIN);
    EXPECT_EQ(out[3], 1.0f);
    EXPECT_NEAR(out[4], 2.718281828f, 2e-7f);
    EXPECT_NEAR(out[5], 0.367879441f, 5e-8f);
}

// The flash kernel's 2^x for x <= 0: within 2 ulp wherever 2^x is a normal float above its clamp,
// and never below 2^-125 (no subnormal, so no assists) nor above 1.
TEST_P(VectorExp, FlashExp2WithinTwoUlpForNonPositiveArguments) {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "this CPU lacks " << to_string(GetParam());
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
}

// e^NaN and 2^NaN are NaN: the clamps must not turn a NaN score into a weight.
TEST_P(VectorExp, NaNPassesThrough) {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "this CPU lacks " << to_string(GetParam());
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
