// The cross-lane and tier-specific operations of the kernels, one probe each, compiled per ISA
// tier from the kernels' own templates (tests/micro_ops_<tier>.cpp with that tier's flags) so that
// tests/test_micro_ops.cpp checks each against a scalar definition exactly as the kernels call it.
// Every pointer works on plain arrays: W below is `width`, the tier's fp32 lanes.
#pragma once

#include <cstdint>

#include "attn/isa.hpp"

namespace attn::testing {

using i64 = std::int64_t;

struct MicroOpProbes {
    i64 width;
    // out[i] = the sum of rows[i * W, i * W + W) for i < W (simd::lane_sums: xsimd's haddp, or
    // AVX-512's own folds).
    void (*lane_sums)(const float* rows, float* out);
    // The sum and the largest of the W lanes of v (simd::hsum, simd::hmax).
    float (*hsum)(const float* v);
    float (*hmax)(const float* v);
    // out[0, W) = v[0, W) by the non-temporal store (simd::stream_aligned); out vector-aligned.
    void (*stream_aligned)(float* out, const float* v);
    // out[i] = p[i] * 2^n[i] for W lanes, n integral in [-126, 127] (simd::times_pow2).
    void (*times_pow2)(const float* p, const float* n, float* out);
    // simd::dot, simd::max_n, simd::scale_n over n entries.
    float (*dot)(const float* a, const float* b, i64 n);
    float (*max_n)(const float* x, i64 n);
    void (*scale_n)(float* x, i64 n, float factor);
    // p = e^(s - shift) (with base2, 2^(s - shift)) over n entries; returns their sum
    // (simd::exp_shifted_sum).
    float (*exp_shifted_sum)(bool base2, const float* s, float* p, i64 n, float shift);
    // The flash kernel's online-softmax update over `row_group` rows at once, row r at x + r * ld:
    // m[r] = the largest of row r's n entries (simd::max_rows); row r becomes 2^(x - shift[r]) in
    // place and sums[r] its sum (simd::exp2_shifted_sums).
    int row_group;
    void (*max_rows)(const float* x, i64 ld, i64 n, float* m);
    void (*exp2_shifted_sums)(float* x, i64 ld, i64 n, const float* shift, float* sums);
    // dst[c][r] = src[r][c] for an 8 x 8 block (simd::transpose_8x8); null on tiers without it.
    void (*transpose_8x8)(const float* src, i64 ld, float* dst, i64 dst_ld);
    // The decode path's score tile: s[r][j] = q_r . k_j for `rq` (1, 2 or 4) rows of q [rq x d]
    // and the bk keys of k [bk x d] into s (row stride lds), k_end the end of the K stream
    // (flash::dot_rows).
    void (*dot_rows)(int rq, const float* q, const float* k, i64 bk, i64 d, float* s, i64 lds,
                     const char* k_end);
    // The decode path's P V tile: acc[r][:] += sum_j p[r][j] v_j for `rows` (1, 2 or 4) rows of p
    // (row stride lds) over the bk rows of v [bk x d]; acc row stride d (flash::pv_rows).
    void (*pv_rows)(int rows, const float* p, i64 lds, const float* v, i64 bk, i64 d, float* acc,
                    const char* v_end);
    // out[0, n) = the n 16-bit values at src widened to fp32, as bf16 (`brain`) or f16
    // (simd::widen_n: load_widened's vectors, then the scalar tail).
    void (*widen)(bool brain, const std::uint16_t* src, i64 n, float* out);
    // even[i] = src[2i], odd[i] = src[2i + 1] of 2W bf16 values widened to fp32 from one load
    // (simd::load_bf16_pairs).
    void (*widen_bf16_pairs)(const std::uint16_t* src, float* even, float* odd);
    // dot_rows and pv_rows as the decode path runs them on a bf16 cache whose head size d is a
    // multiple of 2W (flash::EvenOddDots): K or V bf16 bits [bk x d]; q and acc in column order,
    // which the probes put into the EvenOdd order the kernels keep and acc back.
    void (*dot_rows_even_odd)(int rq, const float* q, const std::uint16_t* k, i64 bk, i64 d,
                              float* s, i64 lds);
    void (*pv_rows_even_odd)(int rows, const float* p, i64 lds, const std::uint16_t* v, i64 bk,
                             i64 d, float* acc);
};

// The probes of one tier, defined in tests/micro_ops_<tier>.cpp: constants, so that reading one
// runs no code of the tier.
template <Isa I> const MicroOpProbes& micro_op_probes_for();
// The probes of a tier of attn/isa_tiers.inc.
const MicroOpProbes& micro_op_probes(Isa tier);

}  // namespace attn::testing
