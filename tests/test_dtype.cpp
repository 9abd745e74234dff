// The storage types' scalar conversions (attn/dtype.hpp) against definitions of their own: every
// bf16 and f16 bit pattern widened equals its value computed from sign, exponent and mantissa in
// double, and narrowing picks the nearest representable value (ties to the even mantissa) among
// the neighbours found in double, on every value, every midpoint and the floats either side of
// each midpoint, plus overflow, NaN and the descriptor's dt: field.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "attn/dtype.hpp"
#include "attn/shape.hpp"

namespace attn {
namespace {

// The value of f16 bits h from the IEEE binary16 definition.
double f16_value(std::uint16_t h) {
    const int sign = h >> 15, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    double v;
    if (exponent == 0x1F) v = mantissa ? std::numeric_limits<double>::quiet_NaN() : INFINITY;
    else if (exponent == 0) v = std::ldexp(double(mantissa), -24);
    else v = std::ldexp(1.0 + mantissa / 1024.0, exponent - 15);
    return sign ? -v : v;
}

// The value of bf16 bits b: sign, 8 exponent bits with fp32's bias, 7 mantissa bits.
double bf16_value(std::uint16_t b) {
    const int sign = b >> 15, exponent = (b >> 7) & 0xFF, mantissa = b & 0x7F;
    double v;
    if (exponent == 0xFF) v = mantissa ? std::numeric_limits<double>::quiet_NaN() : INFINITY;
    else if (exponent == 0) v = std::ldexp(double(mantissa), -133);
    else v = std::ldexp(1.0 + mantissa / 128.0, exponent - 127);
    return sign ? -v : v;
}

template <class T> std::uint16_t bits_of(T t) { return t.bits; }

TEST(DType, WideningIsExactForEveryPattern) {
    int checked = 0;
    for (std::uint32_t b = 0; b < 0x10000; ++b) {
        const auto h = std::uint16_t(b);
        const double want_f16 = f16_value(h), want_bf16 = bf16_value(h);
        const float got_f16 = to_float(f16{h}), got_bf16 = to_float(bf16{h});
        if (std::isnan(want_f16)) EXPECT_TRUE(std::isnan(got_f16)) << std::hex << b;
        else EXPECT_EQ(double(got_f16), want_f16) << std::hex << b;
        if (std::isnan(want_bf16)) EXPECT_TRUE(std::isnan(got_bf16)) << std::hex << b;
        else EXPECT_EQ(double(got_bf16), want_bf16) << std::hex << b;
        EXPECT_EQ(std::signbit(got_f16), bool(h >> 15)) << std::hex << b;
        ++checked;
    }
    EXPECT_EQ(checked, 65536);
}

// The narrowing of x to a type with value function `value` by the definition: the representable
// neighbours below and above x (found by scanning the sorted finite values), the nearer one, on a
// tie the one with the even mantissa; past the largest finite value by at least half its last
// step, infinity.
struct Nearest {
    std::vector<std::pair<double, std::uint16_t>> finite;  // positive finite values, ascending
    double overflow;                                       // |x| >= this rounds to infinity
    std::uint16_t infinity_bits;

    explicit Nearest(double (*value)(std::uint16_t)) {
        for (std::uint32_t b = 0; b < 0x8000; ++b) {
            const double v = value(std::uint16_t(b));
            if (std::isfinite(v)) finite.push_back({v, std::uint16_t(b)});
            else if (std::isinf(v)) infinity_bits = std::uint16_t(b);
        }
        std::sort(finite.begin(), finite.end());
        const double top = finite.back().first, below = finite[finite.size() - 2].first;
        overflow = top + (top - below) / 2;
    }
    std::uint16_t operator()(float x) const {
        const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
        const double a = std::fabs(double(x));
        if (a >= overflow) return sign | infinity_bits;
        auto hi =
            std::lower_bound(finite.begin(), finite.end(), std::make_pair(a, std::uint16_t(0)));
        if (hi == finite.end()) return sign | finite.back().second;  // below overflow: the top
        if (hi->first == a) return sign | hi->second;
        auto lo = hi - 1;
        const double dl = a - lo->first, dh = hi->first - a;
        if (dl < dh) return sign | lo->second;
        if (dh < dl) return sign | hi->second;
        return sign | ((lo->second & 1) ? hi->second : lo->second);
    }
};

// Every finite value of the type, the midpoints between neighbours and the fp32 values either
// side of each midpoint, both signs, plus random fp32 values across the whole range.
std::vector<float> probes(const Nearest& n) {
    std::vector<float> out;
    for (std::size_t i = 0; i < n.finite.size(); ++i) {
        const double v = n.finite[i].first;
        out.push_back(float(v));
        const double next = i + 1 < n.finite.size() ? n.finite[i + 1].first : n.overflow;
        const float mid = float((v + next) / 2);  // exact: one more bit than the type
        out.push_back(mid);
        out.push_back(std::nextafter(mid, 0.0f));
        out.push_back(std::nextafter(mid, INFINITY));
    }
    std::mt19937 rng(7);
    for (int i = 0; i < 200000; ++i) {
        float x = std::bit_cast<float>(std::uint32_t(rng()));
        if (std::isfinite(x)) out.push_back(x);
    }
    const std::size_t positive = out.size();
    for (std::size_t i = 0; i < positive; ++i) out.push_back(-out[i]);
    return out;
}

template <class T> void check_narrowing(double (*value)(std::uint16_t), const char* name) {
    const Nearest nearest(value);
    std::size_t bad = 0, checked = 0;
    for (float x : probes(nearest)) {
        const std::uint16_t got = bits_of(from_float<T>(x)), want = nearest(x);
        if (got != want && bad++ < 5)
            ADD_FAILURE() << name << "(" << x << " = 0x" << std::hex
                          << std::bit_cast<std::uint32_t>(x) << ") gave 0x" << got
                          << ", nearest is 0x" << want;
        ++checked;
    }
    EXPECT_EQ(bad, 0u) << name;
    EXPECT_GT(checked, 100000u);
}

TEST(DType, F16NarrowingRoundsToNearestEven) { check_narrowing<f16>(f16_value, "f16"); }
TEST(DType, Bf16NarrowingRoundsToNearestEven) { check_narrowing<bf16>(bf16_value, "bf16"); }

TEST(DType, OverflowInfinityAndNaN) {
    EXPECT_EQ(from_float<f16>(65504.0f).bits, 0x7BFF);
    EXPECT_EQ(from_float<f16>(std::nextafter(65520.0f, 0.0f)).bits, 0x7BFF);
    EXPECT_EQ(from_float<f16>(65520.0f).bits, 0x7C00);
    EXPECT_EQ(from_float<f16>(-1e10f).bits, 0xFC00);
    EXPECT_EQ(from_float<bf16>(std::numeric_limits<float>::max()).bits, 0x7F80);
    EXPECT_EQ(from_float<bf16>(-INFINITY).bits, 0xFF80);
    // A NaN stays a NaN, quiet, whatever its payload (a signalling one with only low bits set
    // included), and keeps its sign.
    for (std::uint32_t payload : {0x1u, 0x1000u, 0x400000u, 0x3FFFFFu}) {
        const float nan = std::bit_cast<float>(0x7F800000u | payload);
        const float neg = std::bit_cast<float>(0xFF800000u | payload);
        EXPECT_TRUE(std::isnan(to_float(from_float<f16>(nan)))) << payload;
        EXPECT_TRUE(std::isnan(to_float(from_float<bf16>(nan)))) << payload;
        EXPECT_EQ(from_float<f16>(nan).bits & 0x0200, 0x0200) << payload;
        EXPECT_EQ(from_float<bf16>(nan).bits & 0x0040, 0x0040) << payload;
        EXPECT_TRUE(std::signbit(to_float(from_float<f16>(neg)))) << payload;
        EXPECT_TRUE(std::signbit(to_float(from_float<bf16>(neg)))) << payload;
    }
    EXPECT_EQ(round_to<f16>(1e-8f), 0.0f);  // below half the smallest subnormal, 2^-25
    EXPECT_EQ(round_to<float>(0.1f), 0.1f);
}

TEST(DType, DescriptorFieldRoundTrips) {
    for (DType t : kAllDTypes) {
        Shape s = parse_shape(std::string("n:64/h:2/d:16/dt:") + to_string(t));
        EXPECT_EQ(s.dtype, t);
        EXPECT_EQ(parse_shape(s.text()).dtype, t);
        EXPECT_EQ(s.text().find("dt:") != std::string::npos, t != DType::f32) << s.text();
    }
    EXPECT_THROW(parse_shape("n:64/h:2/d:16/dt:fp8"), std::invalid_argument);
    EXPECT_THROW(parse_shape("n:64/h:2/d:16/dt:bf16/dt:f16"), std::invalid_argument);
    EXPECT_EQ(element_bytes(DType::f32), 4u);
    EXPECT_EQ(element_bytes(DType::bf16), 2u);
    EXPECT_EQ(element_bytes(DType::f16), 2u);
}

}  // namespace
}  // namespace attn
