// The probes of tests/micro_ops.hpp written once over the kernels' templates; included only by
// tests/micro_ops_<tier>.cpp, each compiled with its tier's flags.
#pragma once

#include "flash/flash_impl.hpp"
#include "micro_ops.hpp"

namespace attn::testing {
namespace {

template <class Arch> struct Probes {
    using V = simd::vfloat<Arch>;
    static constexpr i64 W = V::size;
    // The decode tiles' products do not depend on how they fetch ahead.
    static constexpr auto kFetch = DecodeFetch::into_l2;

    static void lane_sums(const float* rows, float* out) {
        V v[W];
        for (i64 i = 0; i < W; ++i) v[i] = simd::loadu<Arch>(rows + i * W);
        simd::storeu<Arch>(out, simd::lane_sums<Arch>(v));
    }
    static float hsum(const float* v) { return simd::hsum<Arch>(simd::loadu<Arch>(v)); }
    static float hmax(const float* v) { return simd::hmax<Arch>(simd::loadu<Arch>(v)); }
    static void stream_aligned(float* out, const float* v) {
        simd::stream_aligned<Arch>(out, simd::loadu<Arch>(v));
        simd::store_fence();
    }
    static void times_pow2(const float* p, const float* n, float* out) {
        const V vn = simd::loadu<Arch>(n);
        // t as the exponentials compute it: n in the low mantissa bits of n + kRoundMagic.
        const V t = vn + V(simd::kRoundMagic);
        simd::storeu<Arch>(out, simd::times_pow2<Arch>(simd::loadu<Arch>(p), vn, t));
    }
    static float exp_shifted_sum(bool base2, const float* s, float* p, i64 n, float shift) {
        return base2 ? simd::exp_shifted_sum<Arch, true>(s, p, n, shift)
                     : simd::exp_shifted_sum<Arch, false>(s, p, n, shift);
    }
    static void transpose_8x8(const float* src, i64 ld, float* dst, i64 dst_ld) {
#if defined(__x86_64__)
        simd::transpose_8x8<Arch>(src, ld, dst, dst_ld);
#else
        (void)src, (void)ld, (void)dst, (void)dst_ld;  // never called: the probe is null (W = 4)
#endif
    }
    static void dot_rows(int rq, const float* q, const float* k, i64 bk, i64 d, float* s, i64 lds,
                         const char* k_end) {
        if (rq == 4) flash::dot_rows<Arch, kFetch, 4>(q, k, bk, d, s, lds, k_end);
        else if (rq == 2) flash::dot_rows<Arch, kFetch, 2>(q, k, bk, d, s, lds, k_end);
        else flash::dot_rows<Arch, kFetch, 1>(q, k, bk, d, s, lds, k_end);
    }
    static void pv_rows(int rows, const float* p, i64 lds, const float* v, i64 bk, i64 d,
                        float* acc, const char* v_end) {
        if (rows == 4) flash::pv_rows<Arch, kFetch, 4>(p, lds, v, bk, d, acc, v_end);
        else if (rows == 2) flash::pv_rows<Arch, kFetch, 2>(p, lds, v, bk, d, acc, v_end);
        else flash::pv_rows<Arch, kFetch, 1>(p, lds, v, bk, d, acc, v_end);
    }

    static void widen(bool brain, const std::uint16_t* src, i64 n, float* out) {
        if (brain) simd::widen_n<Arch>(reinterpret_cast<const bf16*>(src), n, out);
        else simd::widen_n<Arch>(reinterpret_cast<const f16*>(src), n, out);
    }

    static void widen_bf16_pairs(const std::uint16_t* src, float* even, float* odd) {
        V e, o;
        simd::load_bf16_pairs<Arch>(reinterpret_cast<const bf16*>(src), e, o);
        simd::storeu<Arch>(even, e);
        simd::storeu<Arch>(odd, o);
    }
    // Through flash::EvenOddDots, as decode_rows calls it: its constructor puts the query rows in
    // EvenOdd order, rows<R> takes the scores, pv<R> accumulates into an acc kept in that order
    // (acc is put into it here) and finish puts acc back.
    template <class Step> static void by_rows(int rows, Step step) {
        if (rows == 4) step.template operator()<4>();
        else if (rows == 2) step.template operator()<2>();
        else step.template operator()<1>();
    }
    static void dot_rows_even_odd(int rq, const float* q, const std::uint16_t* k, i64 bk, i64 d,
                                  float* s, i64 lds) {
        std::vector<float> split(std::size_t(flash::Decode<Arch>::kWideRows * d));
        const flash::EvenOddDots<Arch, kFetch> dots(q, rq, d, split.data());
        const bf16* kb = reinterpret_cast<const bf16*>(k);
        by_rows(rq, [&]<int R>() {
            dots.template rows<R>(0, kb, bk, s, lds, reinterpret_cast<const char*>(kb + bk * d));
        });
    }
    static void pv_rows_even_odd(int rows, const float* p, i64 lds, const std::uint16_t* v, i64 bk,
                                 i64 d, float* acc) {
        std::vector<float> split(std::size_t(flash::Decode<Arch>::kWideRows * d));
        const flash::EvenOddDots<Arch, kFetch> dots(nullptr, 0, d, split.data());
        for (int r = 0; r < rows; ++r) {
            flash::EvenOdd<Arch>::split(acc + r * d, d, split.data());
            std::copy(split.begin(), split.begin() + d, acc + r * d);
        }
        const bf16* vb = reinterpret_cast<const bf16*>(v);
        by_rows(rows, [&]<int R>() {
            dots.template pv<R>(p, lds, vb, bk, acc, reinterpret_cast<const char*>(vb + bk * d));
        });
        dots.finish(acc, rows);
    }
    // Only the AVX2 tier has (and compiles) the 8 x 8 shuffle transpose.
    static constexpr auto transpose_probe() {
        if constexpr (W == 8) return &transpose_8x8;
        else return static_cast<decltype(&transpose_8x8)>(nullptr);
    }
    static constexpr MicroOpProbes table() {
        return {W,
                lane_sums,
                hsum,
                hmax,
                stream_aligned,
                times_pow2,
                simd::dot<Arch>,
                simd::max_n<Arch>,
                simd::scale_n<Arch>,
                exp_shifted_sum,
                flash::kUpdateRows,
                simd::max_rows<Arch, flash::kUpdateRows>,
                simd::exp2_shifted_sums<Arch, flash::kUpdateRows>,
                transpose_probe(),
                dot_rows,
                pv_rows,
                widen,
                widen_bf16_pairs,
                dot_rows_even_odd,
                pv_rows_even_odd};
    }
};

}  // namespace
}  // namespace attn::testing

// Defines micro_op_probes_for<Isa::tier>() from the templates compiled for Arch.
#define ATTN_MICRO_OP_PROBES(tier, Arch)                                \
    template <> const MicroOpProbes& micro_op_probes_for<Isa::tier>() { \
        static constexpr MicroOpProbes table = Probes<Arch>::table();   \
        return table;                                                   \
    }
