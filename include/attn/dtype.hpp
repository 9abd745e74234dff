// Storage types of the tensors a stage reads: fp32, bfloat16 and IEEE half. Outputs and
// accumulation stay fp32 whatever the storage; the conversions here are the scalar definitions
// that every vectorised conversion is tested against.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace attn {

enum class DType { f32, bf16, f16 };
inline constexpr DType kAllDTypes[] = {DType::f32, DType::bf16, DType::f16};

const char* to_string(DType t);
// The DType called `name` (f32, bf16 or f16); false when there is none.
bool parse_dtype(std::string_view name, DType& out);
// Bytes of one stored element.
std::size_t element_bytes(DType t);

// bfloat16: the upper 16 bits of an IEEE binary32 (8 exponent bits, 7 mantissa bits).
struct bf16 {
    std::uint16_t bits;
};
// IEEE binary16 (5 exponent bits, 10 mantissa bits; largest finite value 65504).
struct f16 {
    std::uint16_t bits;
};

// The DType of a storage element type.
template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<bf16>() { return DType::bf16; }
template <> constexpr DType dtype_of<f16>() { return DType::f16; }

// Widening to fp32, exact for every value of either type (subnormals, infinities and NaN
// payloads included).
constexpr float to_float(float x) { return x; }
constexpr float to_float(bf16 x) { return std::bit_cast<float>(std::uint32_t(x.bits) << 16); }
constexpr float to_float(f16 x) {
    const std::uint32_t sign = std::uint32_t(x.bits & 0x8000u) << 16;
    const std::uint32_t exponent = (x.bits >> 10) & 0x1Fu, mantissa = x.bits & 0x3FFu;
    if (exponent == 0x1F)  // infinity or NaN: the payload moves to the top of fp32's mantissa
        return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
    if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in fp32
        const float magnitude = float(mantissa) * 0x1p-24f;
        return sign ? -magnitude : magnitude;
    }
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Narrowing from fp32 with round to nearest, ties to even, as the hardware's conversions do
// (vcvtps2ph, vcvtneps2bf16): a NaN stays a NaN with the quiet bit set and the payload's upper
// bits; a value past the type's largest finite one (f16: 65520 and above) becomes infinity.
template <class T> constexpr T from_float(float x);
template <> constexpr float from_float<float>(float x) { return x; }
template <> constexpr bf16 from_float<bf16>(float x) {
    const std::uint32_t b = std::bit_cast<std::uint32_t>(x);
    if ((b & 0x7FFFFFFFu) > 0x7F800000u) return {std::uint16_t((b >> 16) | 0x40u)};
    // The 16 dropped bits round half to even by adding just under a half plus the kept lsb.
    return {std::uint16_t((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16)};
}
template <> constexpr f16 from_float<f16>(float x) {
    const std::uint32_t b = std::bit_cast<std::uint32_t>(x);
    const std::uint32_t sign = (b >> 16) & 0x8000u, a = b & 0x7FFFFFFFu;
    if (a > 0x7F800000u)  // NaN
        return {std::uint16_t(sign | 0x7E00u | ((a >> 13) & 0x3FFu))};
    if (a >= 0x477FF000u)  // 65520 (halfway past 65504, which is odd) and above: infinity
        return {std::uint16_t(sign | 0x7C00u)};
    if (a < 0x38800000u) {
        // Below 2^-14, f16's subnormals are multiples of 2^-24: adding 0.5, whose ulp is 2^-24,
        // makes the FPU round to one (ties to even); the bits past 0.5's are the result, 0x400
        // (the smallest normal) when it rounds up to 2^-14.
        const float shifted = std::bit_cast<float>(a) + 0.5f;
        return {std::uint16_t(sign | (std::bit_cast<std::uint32_t>(shifted) - 0x3F000000u))};
    }
    // Normal: rebias the exponent (127 -> 15) and round the 13 dropped bits half to even; a
    // carry out of the mantissa moves into the exponent, as it should.
    const std::uint32_t rounded = a - 0x38000000u + 0xFFFu + ((a >> 13) & 1u);
    return {std::uint16_t(sign | (rounded >> 13))};
}

// x rounded to storage type T and widened back: the value a stored fp32 x becomes.
template <class T> constexpr float round_to(float x) { return to_float(from_float<T>(x)); }

}  // namespace attn
