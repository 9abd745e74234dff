// Force-included (g++ -include) into the avx512 tier's files by the avx512-emulated build
// (CMake ATTN_EMULATE_AVX512): AVX-512 intrinsics implemented on AVX2 by SIMDe, so that xsimd's
// avx512f arch and the tier's own intrinsics compile with -mavx2 -mfma and run, slowly but
// exactly, on a CPU without AVX-512. GCC's own AVX-512 intrinsic headers are kept out (CMake
// predefines their include guards), and what SIMDe 0.7.4 lacks of what xsimd and the kernels
// name is defined below from SIMDe's or plain scalar code, lane by lane as Intel's manual defines
// each instruction.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

// SIMDe checks GCC's bf16 header guard (predefined) before taking these types from it.
typedef float __m128bh __attribute__((vector_size(16), aligned(16)));
typedef float __m256bh __attribute__((vector_size(32), aligned(32)));
typedef float __m512bh __attribute__((vector_size(64), aligned(64)));

#define SIMDE_ENABLE_NATIVE_ALIASES
#define SIMDE_X86_AVX512F_NO_NATIVE
#define SIMDE_X86_AVX512BW_NO_NATIVE
#define SIMDE_X86_AVX512DQ_NO_NATIVE
#define SIMDE_X86_AVX512CD_NO_NATIVE
#define SIMDE_X86_AVX512VL_NO_NATIVE
#include <simde/x86/avx512.h>

// SIMDe 0.8 (Debian 13) declares __mmask16/32/64 and the _MM_CMPINT_* values but GE and GT with
// its native aliases; 0.7 (Debian 12) none of them. Neither declares __mmask8.
typedef simde__mmask8 __mmask8;
#if SIMDE_VERSION_MAJOR == 0 && SIMDE_VERSION_MINOR < 8
typedef simde__mmask16 __mmask16;
typedef simde__mmask32 __mmask32;
typedef simde__mmask64 __mmask64;
typedef enum {
    _MM_CMPINT_EQ = 0,
    _MM_CMPINT_LT = 1,
    _MM_CMPINT_LE = 2,
    _MM_CMPINT_UNUSED = 3,
    _MM_CMPINT_NE = 4,
    _MM_CMPINT_NLT = 5,
    _MM_CMPINT_NLE = 6
} _MM_CMPINT_ENUM;
#endif
#ifndef _MM_CMPINT_GE
#define _MM_CMPINT_GE _MM_CMPINT_NLT
#endif
#ifndef _MM_CMPINT_GT
#define _MM_CMPINT_GT _MM_CMPINT_NLE
#endif
// GCC's vector types of avx512fintrin.h, which xsimd's integer set() casts through.
typedef short __v32hi __attribute__((__vector_size__(64)));
typedef unsigned short __v32hu __attribute__((__vector_size__(64)));
typedef char __v64qi __attribute__((__vector_size__(64)));
typedef unsigned char __v64qu __attribute__((__vector_size__(64)));

namespace attn_emu {

// The lanes of a 512-bit value as an array, and back.
template <class T, class V> inline void lanes_of(const V& v, T (&out)[64 / sizeof(T)]) {
    std::memcpy(out, &v, 64);
}
template <class V, class T> inline V from_lanes(const T (&in)[64 / sizeof(T)]) {
    V v;
    std::memcpy(&v, in, 64);
    return v;
}

// vshuff32x4 / vshuff64x2 / vshufi32x4: 128-bit blocks 0 and 1 of the result from a, 2 and 3
// from b, each chosen by two bits of imm.
template <class V> inline V shuffle_blocks(V a, V b, int imm) {
    std::uint32_t x[16], y[16], r[16];
    lanes_of(a, x), lanes_of(b, y);
    for (int block = 0; block < 4; ++block) {
        const std::uint32_t* src = block < 2 ? x : y;
        const int from = (imm >> (2 * block)) & 3;
        for (int i = 0; i < 4; ++i) r[4 * block + i] = src[4 * from + i];
    }
    return from_lanes<V>(r);
}

// vshufpd: in each 128-bit block, the low lane from a and the high from b, each chosen by one
// bit of imm.
inline __m512d shuffle_pd(__m512d a, __m512d b, int imm) {
    double x[8], y[8], r[8];
    lanes_of(a, x), lanes_of(b, y);
    for (int i = 0; i < 8; i += 2) {
        r[i] = x[i + ((imm >> i) & 1)];
        r[i + 1] = y[i + ((imm >> (i + 1)) & 1)];
    }
    return from_lanes<__m512d>(r);
}

// vextractf32x8: the upper (imm & 1) or lower 256 bits.
inline __m256 extractf32x8(__m512 a, int imm) {
    float x[16];
    lanes_of(a, x);
    return _mm256_loadu_ps(x + 8 * (imm & 1));
}

// vcvttps2dq: truncation toward zero; NaN and out-of-range lanes give 0x80000000.
inline __m512i cvttps_epi32(__m512 a) {
    float x[16];
    std::int32_t r[16];
    lanes_of(a, x);
    for (int i = 0; i < 16; ++i)
        r[i] = (x[i] >= -2147483648.0f && x[i] < 2147483648.0f) ? std::int32_t(x[i])
                                                                : std::int32_t(0x80000000u);
    return from_lanes<__m512i>(r);
}

// vpmovdw with a zero mask: the low 16 bits of each lane, masked-off lanes 0.
inline __m256i maskz_cvtepi32_epi16(__mmask16 k, __m512i a) {
    std::int32_t x[16];
    std::int16_t r[16];
    lanes_of(a, x);
    for (int i = 0; i < 16; ++i) r[i] = (k >> i) & 1 ? std::int16_t(x[i]) : std::int16_t(0);
    __m256i v;
    std::memcpy(&v, r, 32);
    return v;
}

// vgatherdps: lane i from base + index[i] * scale bytes.
inline __m512 i32gather_ps(__m512i index, const void* base, int scale) {
    std::int32_t idx[16];
    float r[16];
    lanes_of(index, idx);
    for (int i = 0; i < 16; ++i)
        std::memcpy(&r[i], static_cast<const char*>(base) + std::int64_t(idx[i]) * scale, 4);
    return from_lanes<__m512>(r);
}

// vmovntps: the store, without its cache hint.
inline void stream_ps(void* p, __m512 a) { std::memcpy(p, &a, 64); }

// vcvtph2ps: the 16 IEEE half-precision lanes of a, each widened exactly to fp32 (a NaN stays
// a NaN, quieted).
inline __m512 cvtph_ps(__m256i a) {
    std::uint16_t x[16];
    float r[16];
    std::memcpy(x, &a, 32);
    for (int i = 0; i < 16; ++i) {
        const std::uint32_t sign = std::uint32_t(x[i] & 0x8000u) << 16;
        const std::uint32_t exponent = (x[i] >> 10) & 0x1Fu, mantissa = x[i] & 0x3FFu;
        std::uint32_t bits;
        if (exponent == 0x1F) {
            bits = sign | 0x7F800000u | (mantissa << 13) | (mantissa ? 0x400000u : 0u);
        } else if (exponent == 0) {
            const float magnitude = float(mantissa) * 0x1p-24f;
            std::memcpy(&bits, &magnitude, 4);
            bits |= sign;
        } else {
            bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
        }
        std::memcpy(&r[i], &bits, 4);
    }
    return from_lanes<__m512>(r);
}

// vpmovzxwd: the 16 unsigned 16-bit lanes of a, each zero-extended to 32 bits.
inline __m512i cvtepu16_epi32(__m256i a) {
    std::uint16_t x[16];
    std::int32_t r[16];
    std::memcpy(x, &a, 32);
    for (int i = 0; i < 16; ++i) r[i] = std::int32_t(x[i]);
    return from_lanes<__m512i>(r);
}

}  // namespace attn_emu

#ifndef _mm512_shuffle_f32x4
#define _mm512_shuffle_f32x4(a, b, imm) attn_emu::shuffle_blocks<__m512>((a), (b), (imm))
#endif
#ifndef _mm512_shuffle_f64x2
#define _mm512_shuffle_f64x2(a, b, imm) attn_emu::shuffle_blocks<__m512d>((a), (b), (imm))
#endif
#ifndef _mm512_shuffle_i32x4
#define _mm512_shuffle_i32x4(a, b, imm) attn_emu::shuffle_blocks<__m512i>((a), (b), (imm))
#endif
#ifndef _mm512_shuffle_pd
#define _mm512_shuffle_pd(a, b, imm) attn_emu::shuffle_pd((a), (b), (imm))
#endif
#ifndef _mm512_extractf32x8_ps
#define _mm512_extractf32x8_ps(a, imm) attn_emu::extractf32x8((a), (imm))
#endif
#ifndef _mm512_cvttps_epi32
#define _mm512_cvttps_epi32(a) attn_emu::cvttps_epi32(a)
#endif
#ifndef _mm512_maskz_cvtepi32_epi16
#define _mm512_maskz_cvtepi32_epi16(k, a) attn_emu::maskz_cvtepi32_epi16((k), (a))
#endif
#ifndef _mm512_i32gather_ps
#define _mm512_i32gather_ps(index, base, scale) attn_emu::i32gather_ps((index), (base), (scale))
#endif
#ifndef _mm512_stream_ps
#define _mm512_stream_ps(p, a) attn_emu::stream_ps((p), (a))
#endif
#ifndef _mm512_cvtph_ps
#define _mm512_cvtph_ps(a) attn_emu::cvtph_ps(a)
#endif
#ifndef _mm512_cvtepu16_epi32
#define _mm512_cvtepu16_epi32(a) attn_emu::cvtepu16_epi32(a)
#endif

// SIMDe's aliases are function-like macros, which split an argument with a template's commas into
// two: xsimd 13 calls this one so, so it becomes a function.
#ifdef _mm512_permutexvar_epi32
#undef _mm512_permutexvar_epi32
inline __m512i _mm512_permutexvar_epi32(__m512i idx, __m512i a) {
    return simde_mm512_permutexvar_epi32(idx, a);
}
#endif

// What xsimd and the kernels test to compile their AVX-512 code.
#define __AVX512F__ 1
#define __AVX512CD__ 1
#define __AVX512DQ__ 1
#define __AVX512BW__ 1
