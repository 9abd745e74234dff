// The xsimd idioms the kernels use, kept in one place because releases differ: 8.x (Debian 12)
// has hadd and a bitwise_cast to a batch type, 9 and later (Ubuntu 24.04's 12, Debian 13's 13)
// reduce_add and a bitwise_cast to an element type; the member load_unaligned honours Arch in
// all of them, where 8.1's free function does not. Included only by per-ISA translation units.
#pragma once

#include <xsimd/xsimd.hpp>

#include <cstdint>
#include <type_traits>

#include "attn/dtype.hpp"

namespace attn::simd {
namespace {

template <class Arch> using vfloat = xsimd::batch<float, Arch>;

template <class Arch> inline vfloat<Arch> loadu(const float* p) {
    return vfloat<Arch>::load_unaligned(p);
}
template <class Arch> inline void storeu(float* p, vfloat<Arch> v) { v.store_unaligned(p); }
// The sum of v's lanes.
template <class Arch> inline float hsum(vfloat<Arch> v) {
#if XSIMD_VERSION_MAJOR >= 9
    return xsimd::reduce_add(v);
#else
    return xsimd::hadd(v);
#endif
}

// v's bits as a batch of To (float <-> int32 in the exponentials).
template <class To, class From, class Arch>
inline xsimd::batch<To, Arch> bits_as(xsimd::batch<From, Arch> v) {
#if XSIMD_VERSION_MAJOR >= 9
    return xsimd::bitwise_cast<To>(v);
#else
    return xsimd::bitwise_cast<xsimd::batch<To, Arch> >(v);
#endif
}

#if XSIMD_WITH_AVX512F
// Lane indices for _mm512_permutex2var_ps (0-15 read x, 16-31 read y): within each block of 2K
// lanes, K lanes of x then the same K lanes of y, the first K of each (High false) or the last K.
template <int K, bool High> struct FoldIndex {
    alignas(64) std::int32_t lane[16];
    constexpr FoldIndex() : lane{} {
        for (int i = 0; i < 16; ++i) {
            const int block = i / (2 * K) * (2 * K), at = i % (2 * K);
            lane[i] = (at < K ? 0 : 16 - K) + block + at + (High ? K : 0);
        }
    }
};

// One level of lane_sums on AVX-512: the sum of the first and the last K lanes of each 2K-lane
// block of x and of y, x's in the block's first K lanes and y's in its last K.
template <int K> inline __m512 fold_pairs_avx512(__m512 x, __m512 y) {
    static constexpr FoldIndex<K, false> lo;
    static constexpr FoldIndex<K, true> hi;
    const __m512i ilo = _mm512_load_si512(lo.lane), ihi = _mm512_load_si512(hi.lane);
    return _mm512_add_ps(_mm512_permutex2var_ps(x, ilo, y), _mm512_permutex2var_ps(x, ihi, y));
}
#endif

// Lane i of the result is the sum of the lanes of v[i], for the vector width's count of vectors
// v. xsimd's haddp does this, but xsimd 8.1's AVX-512 haddp returns the sums in lane order
// 0,1,4,5,2,3,6,7,8,9,12,13,10,11,14,15, so AVX-512 folds them itself: four levels of
// fold_pairs_avx512, each halving the vectors and the lanes each sum still spans, which leaves
// row i in lane i (the first level puts rows 8-15 in the upper half, the next rows 4-7 and
// 12-15 in the upper quarter of each half, and so on).
template <class Arch> inline vfloat<Arch> lane_sums(const vfloat<Arch>* v) {
#if XSIMD_WITH_AVX512F
    if constexpr (std::is_same_v<Arch, xsimd::avx512f>) {
        __m512 a[8], b[4], c[2];
        for (int i = 0; i < 8; ++i) a[i] = fold_pairs_avx512<8>(v[i], v[i + 8]);
        for (int i = 0; i < 4; ++i) b[i] = fold_pairs_avx512<4>(a[i], a[i + 4]);
        for (int i = 0; i < 2; ++i) c[i] = fold_pairs_avx512<2>(b[i], b[i + 2]);
        return fold_pairs_avx512<1>(c[0], c[1]);
    }
#endif
#if XSIMD_WITH_NEON64
    // Two levels of pairwise adds (faddp) on whole registers, where 8.1's haddp splits halves.
    if constexpr (std::is_same_v<Arch, xsimd::neon64>)
        return vpaddq_f32(vpaddq_f32(v[0], v[1]), vpaddq_f32(v[2], v[3]));
#endif
    return xsimd::haddp(v);
}

// Stores v to a vector-aligned p bypassing the caches (no read-for-ownership of the line), for
// outputs too large to be read back from cache anyway. Needs an sfence before others read p.
template <class Arch> inline void stream_aligned(float* p, vfloat<Arch> v) {
    [[maybe_unused]] constexpr std::size_t W = vfloat<Arch>::size;  // no streaming store on neon
#if XSIMD_WITH_AVX512F
    if constexpr (W == 16) return _mm512_stream_ps(p, v);
#endif
#if XSIMD_WITH_AVX
    if constexpr (W == 8) return _mm256_stream_ps(p, v);
#endif
#if defined(__SSE2__)
    if constexpr (W == 4) return _mm_stream_ps(p, v);
#endif
    v.store_aligned(p);
}

// v with the lanes of each pair swapped: lane 2i + 1's value in lane 2i and lane 2i's in 2i + 1,
// which rotary embeddings read to turn each (a, b) pair by one multiply-add.
template <class Arch> inline vfloat<Arch> swap_pairs(vfloat<Arch> v) {
    [[maybe_unused]] constexpr std::size_t W = vfloat<Arch>::size;
#if XSIMD_WITH_AVX512F
    if constexpr (W == 16) return _mm512_shuffle_ps(v, v, 0xB1);
#endif
#if XSIMD_WITH_AVX
    if constexpr (W == 8) return _mm256_permute_ps(v, 0xB1);
#endif
#if defined(__SSE2__)
    if constexpr (W == 4) return _mm_shuffle_ps(v, v, 0xB1);
#endif
#if XSIMD_WITH_NEON64
    if constexpr (std::is_same_v<Arch, xsimd::neon64>) return vrev64q_f32(v);
#endif
    alignas(64) float lanes[W], swapped[W];
    v.store_aligned(lanes);
    for (std::size_t i = 0; i < W; ++i) swapped[i] = lanes[i ^ 1];
    return vfloat<Arch>::load_aligned(swapped);
}

// Orders stream_aligned's stores before the stores that follow (sfence); on aarch64, which takes
// plain stores there, nothing.
inline void store_fence() {
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

// The largest of v's lanes, by halving the vector until one lane is left (a NaN lane may be passed
// over or returned, as max_n allows). Through a store and a scalar loop, flash attention's
// online-softmax update of 96 rows of 128 keys took 3.6 us instead of 3.1 (AVX-512).
template <class Arch> inline float hmax(vfloat<Arch> v) {
    constexpr std::size_t W = vfloat<Arch>::size;
#if defined(__SSE2__)
    if constexpr (W == 4 || W == 8 || W == 16) {
        __m128 m;
#if XSIMD_WITH_AVX512F
        if constexpr (W == 16) {
            const __m512d x = _mm512_castps_pd(v);
            const __m256 h = _mm256_max_ps(_mm256_castpd_ps(_mm512_castpd512_pd256(x)),
                                           _mm256_castpd_ps(_mm512_extractf64x4_pd(x, 1)));
            m = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        }
#endif
#if XSIMD_WITH_AVX
        if constexpr (W == 8)
            m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
#endif
        if constexpr (W == 4) m = v;
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
        return _mm_cvtss_f32(m);
    }
#endif
#if XSIMD_WITH_NEON64
    // One across-lanes maximum (fmaxv), which returns a NaN if any lane holds one.
    if constexpr (std::is_same_v<Arch, xsimd::neon64>) return vmaxvq_f32(v);
#endif
    alignas(64) float lanes[W];
    v.store_aligned(lanes);
    float m = lanes[0];
    for (std::size_t i = 1; i < W; ++i) m = lanes[i] > m ? lanes[i] : m;
    return m;
}

// W 16-bit values at p zero-extended into the 32-bit lanes of an integer vector.
template <class Arch> inline xsimd::batch<std::int32_t, Arch> load_u16(const std::uint16_t* p) {
    using I = xsimd::batch<std::int32_t, Arch>;
    constexpr std::size_t W = I::size;
#if XSIMD_WITH_AVX512F
    if constexpr (W == 16)
        return I(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
#endif
#if XSIMD_WITH_AVX2
    if constexpr (W == 8)
        return I(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
#endif
#if defined(__SSE2__)
    if constexpr (W == 4)
        return I(_mm_unpacklo_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)),
                                    _mm_setzero_si128()));
#elif XSIMD_WITH_NEON64
    if constexpr (W == 4) return I(vreinterpretq_s32_u32(vmovl_u16(vld1_u16(p))));
#endif
}

// The f16 values whose bits are in the 32-bit lanes of h, widened exactly (load_widened's
// integer form).
template <class Arch> inline vfloat<Arch> f16_from_bits(xsimd::batch<std::int32_t, Arch> h) {
    using I = xsimd::batch<std::int32_t, Arch>;
    const I sign = (h & I(0x8000)) << 16, shifted = (h & I(0x7FFF)) << 13;
    const vfloat<Arch> finite = bits_as<float>(shifted) * vfloat<Arch>(0x1p112f);
    const I bits = xsimd::select(shifted > I(0x7BFF << 13), shifted | I(0x7F800000),
                                 bits_as<std::int32_t>(finite));
    return bits_as<float>(bits | sign);
}

// W elements of storage type T at p widened to fp32, exactly as attn::to_float does each (a NaN
// stays a NaN). bf16 is the upper half of an fp32: its bits move up. f16 on AVX-512 and AVX2 by
// the conversion instruction (vcvtph2ps, F16C on AVX2); on the sse2 tier, which has no F16C: sign
// apart, the exponent and mantissa shifted into fp32's places read as a float times 2^112 rebias
// the exponent exactly, subnormals included (they become fp32 subnormals first, which the
// multiplication normalises; a caller running with DAZ would read them as zero); an all-ones
// exponent (inf, NaN) gets fp32's instead.
template <class Arch, class T> inline vfloat<Arch> load_widened(const T* p) {
    if constexpr (std::is_same_v<T, float>) {
        return loadu<Arch>(p);
    } else {
        using I = xsimd::batch<std::int32_t, Arch>;
        const I h = load_u16<Arch>(reinterpret_cast<const std::uint16_t*>(p));
        if constexpr (std::is_same_v<T, bf16>) {
            return bits_as<float>(h << 16);
        } else {
            static_assert(std::is_same_v<T, f16>);
            // The conversion instruction (vcvtph2ps: AVX-512F, F16C) is one instruction for the
            // seven of f16_from_bits: the decode path on an f16 cache took 1.3x the time of bf16's
            // without it. (The integer form stays uninstantiated on AVX-512: the emulated build
            // lacks its 512-bit integer compare.)
            // clang-format off
#if XSIMD_WITH_AVX512F
            if constexpr (vfloat<Arch>::size == 16)
                return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
            else
#endif
#if XSIMD_WITH_AVX2 && defined(__F16C__)
            if constexpr (vfloat<Arch>::size == 8)
                return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
            else
#endif
#if XSIMD_WITH_NEON64
            // ARMv8's Advanced SIMD converts f16 (fcvtl), subnormals, inf and NaN included.
            if constexpr (std::is_same_v<Arch, xsimd::neon64>)
                return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const std::uint16_t*>(p))));
            else
#endif
                return f16_from_bits<Arch>(h);
            // clang-format on
        }
    }
}

// 2W bf16 values at p widened to fp32 as two vectors, even[i] = p[2i] and odd[i] = p[2i + 1]
// (each exactly as attn::to_float): one load of W 32-bit words, whose low halves (the even values
// on a little-endian CPU) move up and whose high halves are masked in place, where load_widened
// takes a zero-extension and a shift for every W values.
template <class Arch>
inline void load_bf16_pairs(const bf16* p, vfloat<Arch>& even, vfloat<Arch>& odd) {
    using I = xsimd::batch<std::int32_t, Arch>;
    const I words = I::load_unaligned(reinterpret_cast<const std::int32_t*>(p));
    even = bits_as<float>(words << 16);
    odd = bits_as<float>(words & I(std::int32_t(0xFFFF0000u)));
}

// dst[0, n) = src[0, n) widened to fp32 (load_widened, then attn::to_float for the tail).
template <class Arch, class T> void widen_n(const T* src, std::int64_t n, float* dst) {
    constexpr std::int64_t W = vfloat<Arch>::size;
    std::int64_t i = 0;
    for (; i + W <= n; i += W) storeu<Arch>(dst + i, load_widened<Arch>(src + i));
    for (; i < n; ++i) dst[i] = to_float(src[i]);
}

// log2(e), by which flash attention pre-multiplies its scores so that e^x becomes 2^x.
inline constexpr float kLog2e = 1.44269504088896341f;
// 1.5 * 2^23: adding it to an x with |x| < 2^22 rounds x to an integer n, left in the low mantissa
// bits, so the sum's bit pattern is kRoundMagicBits + n; the exponentials use this instead of a
// round and a convert.
inline constexpr float kRoundMagic = 12582912.0f;
inline constexpr std::int32_t kRoundMagicBits = 0x4B400000;

// c[0] x^(N-1) + c[1] x^(N-2) + ... + c[N-1], in Horner form with fused multiply-adds.
template <class Arch, std::size_t N>
inline vfloat<Arch> horner(vfloat<Arch> x, const float (&c)[N]) {
    vfloat<Arch> p(c[0]);
    for (std::size_t i = 1; i < N; ++i) p = xsimd::fma(p, x, vfloat<Arch>(c[i]));
    return p;
}

// p * 2^n for an integral n, where t = n + kRoundMagic as the exponentials compute it. AVX-512's
// vscalefps does it in one instruction; the other tiers read n from t's low mantissa bits and
// move it into an exponent field. Both give the same bits for -126 <= n <= 127 and a normal
// p * 2^n, which is all the exponentials ask of it.
template <class Arch>
inline vfloat<Arch> times_pow2(vfloat<Arch> p, vfloat<Arch> n, vfloat<Arch> t) {
#if XSIMD_WITH_AVX512F
    if constexpr (std::is_same_v<Arch, xsimd::avx512f>) return _mm512_scalef_ps(p, n);
#endif
    (void)n;
    using I = xsimd::batch<std::int32_t, Arch>;
    return p * bits_as<float>((bits_as<std::int32_t>(t) + I(127 - kRoundMagicBits)) << 23);
}

// The smallest float x whose e^x is a normal float: ln(FLT_MIN) = -87.3365447..., rounded up.
inline constexpr float kExpLowest = -87.33654f;

// e^x for x <= 88 (the softmax only feeds x <= 0): Cody-Waite reduction x = n ln2 + r with
// |r| <= ln2/2, the Cephes minimax polynomial for e^r in Horner form, then the scaling by 2^n.
// n is rounded with kRoundMagic, which saves a round and a convert. x below kExpLowest, where
// e^x is subnormal, and -inf give exactly 0 through a select, and every x from kExpLowest on
// gives a normal result (n >= -126 and p >= 1 at n = -126), so no result is ever subnormal:
// producing subnormals costs a microcode assist of ~100 cycles per instruction on Intel cores,
// which masked (-inf) scores would otherwise pay. Max error measured by tests/test_exp.cpp:
// 1.2 ulp (sse2), 0.9 ulp (FMA tiers).
template <class Arch> inline vfloat<Arch> fast_exp(vfloat<Arch> x) {
    using V = vfloat<Arch>;
    static constexpr float kExpPoly[] = {1.9875691500e-4f,
                                         1.3981999507e-3f,
                                         8.3334519073e-3f,
                                         4.1665795894e-2f,
                                         1.6666665459e-1f,
                                         5.0000001201e-1f,
                                         1.0f,
                                         1.0f};
    const V lo(kExpLowest), magic(kRoundMagic);
    // min and max return their second operand when either is NaN: x goes second, so a NaN passes
    // through to the result, as e^NaN must.
    const V xc = xsimd::min(V(88.0f), xsimd::max(lo, x));
    const V t = xsimd::fma(xc, V(kLog2e), magic);
    const V n = t - magic;
    V r = xsimd::fnma(n, V(0.693359375f), xc);  // ln2 split so that n * ln2_hi is exact
    r = xsimd::fnma(n, V(-2.12194440e-4f), r);
    return xsimd::select(x < lo, V(0.0f), times_pow2<Arch>(horner<Arch>(r, kExpPoly), n, t));
}

// 2^x for x <= 0, the exponential of flash attention, whose scores come pre-multiplied by kLog2e
// so that no multiplication by it is left here: x = n + f with n = round(x) and |f| <= 1/2, a
// degree-6 polynomial for 2^f (coefficients fitted to the relative error on [-1/2, 1/2]), then
// the scaling by 2^n. No upper clamp, and no select, because x below -125 may give 2^-125 (a
// normal float, so no assists) instead of 0: the caller never passes a masked score. Max error
// measured by tests/test_exp.cpp.
template <class Arch> inline vfloat<Arch> fast_exp2_nonpositive(vfloat<Arch> x) {
    using V = vfloat<Arch>;
    static constexpr float kExp2Poly[] = {1.5353349e-4f, 1.3398873e-3f, 9.6184378e-3f,
                                          5.5503324e-2f, 2.4022648e-1f, 6.9314718e-1f,
                                          1.0f};
    const V xc = xsimd::max(V(-125.0f), x);  // x second: a NaN passes through
#if XSIMD_WITH_AVX512F
    if constexpr (std::is_same_v<Arch, xsimd::avx512f>) {
        // vrndscaleps rounds in one instruction where kRoundMagic takes two, and vscalefps
        // takes n as a float: nine vector operations against eleven; on Zen 5 flash's pass of
        // exponentials ran 1.1-1.2x as fast, the whole kernel 0.5-0.8% faster.
        const V n = _mm512_roundscale_ps(xc, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        return _mm512_scalef_ps(horner<Arch>(xc - n, kExp2Poly), n);
    }
#endif
    const V magic(kRoundMagic);
    const V t = xc + magic;
    const V n = t - magic;
    return times_pow2<Arch>(horner<Arch>(xc - n, kExp2Poly), n, t);
}

}  // namespace
}  // namespace attn::simd
