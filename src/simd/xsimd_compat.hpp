// The few xsimd 8.1 idioms the kernels use, kept in one place because 8.1 differs from later
// releases (hadd rather than reduce_add, no reduce_max, the member load_unaligned honours Arch
// where the free function does not). Included only by per-ISA translation units.
#pragma once

#include <xsimd/xsimd.hpp>

#include <cstdint>
#include <type_traits>

namespace attn::simd {
namespace {

template <class Arch> using vfloat = xsimd::batch<float, Arch>;

template <class Arch> inline vfloat<Arch> loadu(const float* p) { return vfloat<Arch>::load_unaligned(p); }
template <class Arch> inline void storeu(float* p, vfloat<Arch> v) { v.store_unaligned(p); }
template <class Arch> inline float hsum(vfloat<Arch> v) { return xsimd::hadd(v); }

// Stores v to a vector-aligned p bypassing the caches (no read-for-ownership of the line), for
// outputs too large to be read back from cache anyway. Needs an sfence before others read p.
template <class Arch> inline void stream_aligned(float* p, vfloat<Arch> v) {
    constexpr std::size_t W = vfloat<Arch>::size;
#if XSIMD_WITH_AVX512F
    if constexpr (W == 16) return _mm512_stream_ps(p, v);
#endif
#if XSIMD_WITH_AVX
    if constexpr (W == 8) return _mm256_stream_ps(p, v);
#endif
    if constexpr (W == 4) return _mm_stream_ps(p, v);
    v.store_aligned(p);
}

template <class Arch> inline float hmax(vfloat<Arch> v) {
    alignas(64) float lanes[vfloat<Arch>::size];
    v.store_aligned(lanes);
    float m = lanes[0];
    for (std::size_t i = 1; i < vfloat<Arch>::size; ++i) m = lanes[i] > m ? lanes[i] : m;
    return m;
}

// e^x for x <= 88 (the softmax only feeds x <= 0): Cody-Waite reduction x = n ln2 + r with
// |r| <= ln2/2, the Cephes minimax polynomial for e^r in Horner form, then the scaling by 2^n.
// n is rounded with the 1.5 * 2^23 trick (adding it leaves n in the low mantissa bits), which
// saves a round and a convert. x below the clamp, -inf included, gives exactly 0 through a
// select, so no result is ever subnormal: producing subnormals costs a microcode assist of ~100
// cycles per instruction on Intel cores, which masked (-inf) scores would otherwise pay.
// Max error measured by tests/test_exp.cpp: 1.2 ulp (sse2), 0.9 ulp (FMA tiers).
template <class Arch> inline vfloat<Arch> fast_exp(vfloat<Arch> x) {
    using V = vfloat<Arch>;
    // AVX-512's vscalefps multiplies by 2^n in one instruction; it needs a clamp that keeps
    // p * 2^n normal (e^-87 > FLT_MIN), where the generic path clamps at n = -126 exactly.
#if XSIMD_WITH_AVX512F
    constexpr bool kScalef = std::is_same_v<Arch, xsimd::avx512f>;
#else
    constexpr bool kScalef = false;
#endif
    const V lo(kScalef ? -87.0f : -87.3365402f), magic(12582912.0f);
    const V xc = xsimd::min(xsimd::max(x, lo), V(88.0f));
    const V t = xsimd::fma(xc, V(1.44269504088896341f), magic);
    const V n = t - magic;
    V r = xsimd::fnma(n, V(0.693359375f), xc);  // ln2 split so that n * ln2_hi is exact
    r = xsimd::fnma(n, V(-2.12194440e-4f), r);
    V p(1.9875691500e-4f);
    p = xsimd::fma(p, r, V(1.3981999507e-3f));
    p = xsimd::fma(p, r, V(8.3334519073e-3f));
    p = xsimd::fma(p, r, V(4.1665795894e-2f));
    p = xsimd::fma(p, r, V(1.6666665459e-1f));
    p = xsimd::fma(p, r, V(5.0000001201e-1f));
    p = xsimd::fma(p, r, V(1.0f));
    p = xsimd::fma(p, r, V(1.0f));
    if constexpr (kScalef) {
#if XSIMD_WITH_AVX512F
        return xsimd::select(x < lo, V(0.0f), V(_mm512_scalef_ps(p, n)));
#endif
    } else {
        using I = xsimd::batch<std::int32_t, Arch>;
        const I bits = (xsimd::bitwise_cast<I>(t) + I(127 - 0x4B400000)) << 23;
        return xsimd::select(x < lo, V(0.0f), p * xsimd::bitwise_cast<V>(bits));
    }
}

// 2^x for x <= 0, the exponential of flash attention, whose scores come pre-multiplied by log2 e
// so that no multiplication by it is left here: x = n + f with n = round(x) and |f| <= 1/2, a
// degree-6 polynomial for 2^f (coefficients fitted to the relative error on [-1/2, 1/2]), then
// the scaling by 2^n. Eleven vector operations against fast_exp's seventeen: no upper clamp, and
// no select, because x below -125 may give 2^-125 (a normal float, so no assists) instead of 0:
// the caller never passes a masked score. Max error measured by tests/test_exp.cpp.
template <class Arch> inline vfloat<Arch> fast_exp2_nonpositive(vfloat<Arch> x) {
    using V = vfloat<Arch>;
    const V magic(12582912.0f);
    const V xc = xsimd::max(x, V(-125.0f));
    const V t = xc + magic;
    const V n = t - magic;
    const V f = xc - n;
    V p(1.5353349e-4f);
    p = xsimd::fma(p, f, V(1.3398873e-3f));
    p = xsimd::fma(p, f, V(9.6184378e-3f));
    p = xsimd::fma(p, f, V(5.5503324e-2f));
    p = xsimd::fma(p, f, V(2.4022648e-1f));
    p = xsimd::fma(p, f, V(6.9314718e-1f));
    p = xsimd::fma(p, f, V(1.0f));
#if XSIMD_WITH_AVX512F
    if constexpr (std::is_same_v<Arch, xsimd::avx512f>) return V(_mm512_scalef_ps(p, n));
#endif
    using I = xsimd::batch<std::int32_t, Arch>;
    return p * xsimd::bitwise_cast<V>((xsimd::bitwise_cast<I>(t) + I(127 - 0x4B400000)) << 23);
}

}  // namespace
}  // namespace attn::simd
