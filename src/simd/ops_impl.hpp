// Template bodies of the simd building blocks (see ops.hpp), instantiated by ops_<isa>.cpp.
// Everything sits in an anonymous namespace so that code compiled with wide-ISA flags can never
// be merged by the linker into code that runs on other CPUs.
#pragma once

#include <cstdint>
#include <limits>

#include "gemm.hpp"
#include "ops.hpp"

namespace attn::simd {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

template <class Arch> float dot(const float* a, const float* b, i64 n) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    V acc(0.0f);
    i64 j = 0;
    for (; j + W <= n; j += W) acc = xsimd::fma(loadu<Arch>(a + j), loadu<Arch>(b + j), acc);
    float s = hsum<Arch>(acc);
    for (; j < n; ++j) s += a[j] * b[j];
    return s;
}

template <class Arch> void row_norms(const float* x, i64 rows, i64 d, float* norms) {
    for (i64 r = 0; r < rows; ++r) norms[r] = __builtin_sqrtf(dot<Arch>(x + r * d, x + r * d, d));
}

// The softmax's vector exponential: e^x, or with Base2 the flash kernel's 2^x for x <= 0.
template <class Arch, bool Base2> inline vfloat<Arch> softmax_exp(vfloat<Arch> x) {
    if constexpr (Base2) return fast_exp2_nonpositive<Arch>(x);
    else return fast_exp<Arch>(x);
}

template <class Arch, bool Base2 = false> void exp_n(const float* x, float* y, i64 n) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    i64 j = 0;
    for (; j + W <= n; j += W) storeu<Arch>(y + j, softmax_exp<Arch, Base2>(loadu<Arch>(x + j)));
    if (j < n) {
        alignas(64) float tmp[W];
        for (i64 t = 0; t < W; ++t) tmp[t] = j + t < n ? x[j + t] : kNegInf;
        softmax_exp<Arch, Base2>(V::load_aligned(tmp)).store_aligned(tmp);
        for (i64 t = 0; j + t < n; ++t) y[j + t] = tmp[t];
    }
}

template <class Arch> float max_n(const float* x, i64 n) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    // Four independent maxima: one chain would wait out vmaxps's latency on every vector.
    V m0(kNegInf), m1(kNegInf), m2(kNegInf), m3(kNegInf);
    i64 j = 0;
    for (; j + 4 * W <= n; j += 4 * W) {
        m0 = xsimd::max(m0, loadu<Arch>(x + j));
        m1 = xsimd::max(m1, loadu<Arch>(x + j + W));
        m2 = xsimd::max(m2, loadu<Arch>(x + j + 2 * W));
        m3 = xsimd::max(m3, loadu<Arch>(x + j + 3 * W));
    }
    for (; j + W <= n; j += W) m0 = xsimd::max(m0, loadu<Arch>(x + j));
    float m = hmax<Arch>(xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3)));
    for (; j < n; ++j) m = x[j] > m ? x[j] : m;
    return m;
}

// p = e^(s - shift) over n entries (with Base2: 2^(s - shift), every s <= shift); returns their
// sum. With `ahead`, also asks for ahead[0, n) to be brought into L1, one cache line per vector,
// so that the next row's memory latency overlaps this row's arithmetic instead of following it.
template <class Arch, bool Base2 = false>
float exp_shifted_sum(const float* s, float* p, i64 n, float shift, const float* ahead = nullptr) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    const V vshift(shift);
    V vsum(0.0f);
    i64 j = 0;
    for (; j + W <= n; j += W) {
        if (ahead) _mm_prefetch(reinterpret_cast<const char*>(ahead + j), _MM_HINT_T0);
        const V e = softmax_exp<Arch, Base2>(loadu<Arch>(s + j) - vshift);
        storeu<Arch>(p + j, e);
        vsum += e;
    }
    float sum = hsum<Arch>(vsum);
    if (j < n) {
        alignas(64) float tmp[W];
        for (i64 t = 0; t < W; ++t) tmp[t] = j + t < n ? s[j + t] - shift : kNegInf;
        softmax_exp<Arch, Base2>(V::load_aligned(tmp)).store_aligned(tmp);
        for (i64 t = 0; j + t < n; ++t) p[j + t] = tmp[t], sum += tmp[t];
    }
    return sum;
}

template <class Arch> void scale_n(float* x, i64 n, float factor) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    const V f(factor);
    i64 j = 0;
    for (; j + W <= n; j += W) storeu<Arch>(x + j, loadu<Arch>(x + j) * f);
    for (; j < n; ++j) x[j] *= factor;
}

// Rows up to this length keep their exponentials in a stack buffer (16 KiB, in L1) between
// the exp pass and the scaling pass, so that p is written exactly once.
constexpr i64 kSoftmaxRowBuffer = 4096;

template <class Arch> void softmax_rows(i64 n, const float* s, float* p, i64 rows, bool streaming) {
    using V = vfloat<Arch>;
    constexpr i64 W = V::size;
    alignas(64) float buf[kSoftmaxRowBuffer];
    for (i64 r = 0; r < rows; ++r) {
        const float* in = s + r * n;
        float* out = p + r * n;
        const float m = max_n<Arch>(in, n);
        if (m == kNegInf) {
            for (i64 j = 0; j < n; ++j) out[j] = 0.0f;
            continue;
        }
        if (!streaming || n > kSoftmaxRowBuffer) {
            scale_n<Arch>(out, n, 1.0f / exp_shifted_sum<Arch>(in, out, n, m));
            continue;
        }
        const float inv = 1.0f / exp_shifted_sum<Arch>(in, buf, n, m, r + 1 < rows ? in + n : nullptr);
        // Scalar up to the first vector-aligned address of out, then aligned streaming stores.
        const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(out) / sizeof(float);
        const i64 head = i64((W - at % W) % W);
        i64 j = 0;
        for (; j < head && j < n; ++j) out[j] = buf[j] * inv;
        for (; j + W <= n; j += W) stream_aligned<Arch>(out + j, loadu<Arch>(buf + j) * V(inv));
        for (; j < n; ++j) out[j] = buf[j] * inv;
    }
    if (streaming) _mm_sfence();
}

// Divides each visible score of row `row` by |q||k| (cosine), leaving 0 where a norm is 0.
inline void cosine_row(float* row, i64 n, float q_norm, const float* k_norms) {
    for (i64 j = 0; j < n; ++j) {
        const float den = q_norm * k_norms[j];
        row[j] = den > 0.0f ? row[j] / den : 0.0f;
    }
}

template <class Arch>
void scores_rows(const Shape& sh, const float* q, const float* kp, const float* k_norms, float* s, i64 i0, i64 i1) {
    const i64 n = sh.n_kv, d = sh.head_dim;
    // Keys past the last row's diagonal are hidden from every row of the block: not computed.
    const i64 cols = sh.visible_keys(i1 - 1);
    gemm_packed<Arch>(i1 - i0, cols, d, sh.effective_scale(), q + i0 * d, d, kp, d * Tile<Arch>::NR, s, n, false);
    for (i64 i = i0; i < i1; ++i) {
        float* row = s + (i - i0) * n;
        const i64 vis = sh.visible_keys(i);
        if (sh.similarity == Similarity::cosine)
            cosine_row(row, vis, __builtin_sqrtf(dot<Arch>(q + i * d, q + i * d, d)), k_norms);
        for (i64 j = vis; j < n; ++j) row[j] = kNegInf;
    }
}

template <class Arch> struct Flash {
    static constexpr i64 NR = Tile<Arch>::NR;
    // Query rows per block: four AVX-512 micro-tiles (eight AVX2 ones), so the score block and
    // the output accumulator stay in L2 while K and V stream past.
    static constexpr i64 BQ = 8 * Tile<Arch>::MR * (Tile<Arch>::W == 16 ? 1 : 2);
    // Keys per block: a few hundred, as in llama.cpp and PyTorch; a multiple of NR.
    static constexpr i64 BK = 512;
    // Row stride of the score block: padded past a power of two so that the micro-kernel's
    // broadcasts from consecutive rows do not all fall into the same L1 sets.
    static constexpr i64 LDS = BK + 16;
    static i64 scratch(i64 d) { return BQ * LDS + BQ * ((d + 15) / 16 * 16) + BQ * d + 3 * BQ + 64; }
};

template <class Arch>
void flash_rows(const Shape& sh, const float* q, const float* kp, const float* vp, const float* k_norms, float* o,
                i64 i0, i64 i1, float* scratch) {
    using F = Flash<Arch>;
    const i64 d = sh.head_dim, n = sh.n_kv, rows = i1 - i0;
    // Scores are kept multiplied by log2 e, so that the softmax's e^(s - m) is 2^(s' - m'),
    // which costs fewer operations (see fast_exp2_nonpositive); m and the maxima are in log2 units.
    const float score_scale = sh.effective_scale() * 1.44269504088896341f;
    const i64 ld_o = (d + 15) / 16 * 16;
    float* S = scratch;                 // [BQ x LDS] scores, then probabilities, of one KV block
    float* acc = S + F::BQ * F::LDS;    // [BQ x ld_o] unnormalised output
    float* m = acc + F::BQ * ld_o;      // running row maxima (log2 units)
    float* l = m + F::BQ;               // running row sums
    float* qn = l + F::BQ;              // query norms (cosine)
    float* qp = qn + F::BQ;             // the block's queries packed by pack_a, read by every KV block
    pack_a<Arch>(rows, d, q + i0 * d, d, score_scale, qp);
    for (i64 r = 0; r < rows; ++r) {
        m[r] = kNegInf, l[r] = 0.0f;
        for (i64 c = 0; c < d; ++c) acc[r * ld_o + c] = 0.0f;
        if (sh.similarity == Similarity::cosine) qn[r] = __builtin_sqrtf(dot<Arch>(q + (i0 + r) * d, q + (i0 + r) * d, d));
    }
    // Causal: KV blocks wholly above the diagonal of the block's last row are never visited.
    const i64 kv_end = sh.visible_keys(i1 - 1);
    for (i64 j0 = 0; j0 < kv_end; j0 += F::BK) {
        const i64 bk = kv_end - j0 < F::BK ? kv_end - j0 : F::BK;
        // On a block that crosses the causal diagonal each micro-tile row group only computes the
        // keys its own last row can see, so the masked triangle costs MR rows, not BQ.
        const bool diagonal = sh.visible_keys(i0) - j0 < bk;
        const i64 group = diagonal ? Tile<Arch>::MR : rows;
        auto group_keys = [&](i64 g0) {
            const i64 last = g0 + group < rows ? g0 + group : rows;
            const i64 keys = sh.visible_keys(i0 + last - 1) - j0;
            return keys < 0 ? 0 : (keys < bk ? keys : bk);
        };
        // group is a multiple of MR, so every group starts at a packed tile.
        for (i64 g0 = 0; g0 < rows; g0 += group)
            gemm_packed_ab<Arch>((g0 + group < rows ? group : rows - g0), group_keys(g0), d,
                                 qp + g0 * d, kp + (j0 / F::NR) * d * F::NR, d * F::NR, S + g0 * F::LDS, F::LDS);
        for (i64 r = 0; r < rows; ++r) {
            float* row = S + r * F::LDS;
            const i64 used = group_keys(r / group * group);  // keys the P V product reads
            i64 vis = sh.visible_keys(i0 + r) - j0;
            vis = vis < bk ? vis : bk;
            if (vis <= 0) {  // this row sees no key of the block: it contributes nothing
                for (i64 j = 0; j < used; ++j) row[j] = 0.0f;
                continue;
            }
            if (sh.similarity == Similarity::cosine) cosine_row(row, vis, qn[r], k_norms + j0);
            const float bm = max_n<Arch>(row, vis);
            const float m_new = bm > m[r] ? bm : m[r];
            const float sum = exp_shifted_sum<Arch, true>(row, row, vis, m_new);
            for (i64 j = vis; j < used; ++j) row[j] = 0.0f;  // masked keys weigh nothing
            if (m_new != m[r] && m[r] != kNegInf) {
                // Rescale what was accumulated under the old maximum.
                const float corr = __builtin_exp2f(m[r] - m_new);
                l[r] *= corr;
                scale_n<Arch>(acc + r * ld_o, d, corr);
            }
            m[r] = m_new;
            l[r] += sum;
        }
        for (i64 g0 = 0; g0 < rows; g0 += group) {
            const i64 g = g0 + group < rows ? group : rows - g0;
            gemm_packed<Arch>(g, d, group_keys(g0), 1.0f, S + g0 * F::LDS, F::LDS, vp + j0 * F::NR, n * F::NR,
                              acc + g0 * ld_o, ld_o, true);
        }
    }
    for (i64 r = 0; r < rows; ++r) {
        const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;  // a fully masked row stays zero
        float* out = o + (i0 + r) * d;
        for (i64 c = 0; c < d; ++c) out[c] = acc[r * ld_o + c] * inv;
    }
}

template <class Arch> Ops make_ops(Isa isa) {
    Ops o{};
    o.isa = isa;
    o.packed_size = packed_size<Arch>;
    o.nr = Tile<Arch>::NR;
    o.pack_b = pack_b<Arch>;
    o.gemm_packed = gemm_packed<Arch>;
    o.scores_rows = scores_rows<Arch>;
    o.softmax_rows = softmax_rows<Arch>;
    o.exp = exp_n<Arch>;
    o.exp2 = exp_n<Arch, true>;
    o.row_norms = row_norms<Arch>;
    o.flash_rows = flash_rows<Arch>;
    o.flash_block_q = Flash<Arch>::BQ;
    o.flash_scratch = Flash<Arch>::scratch;
    return o;
}

}  // namespace
}  // namespace attn::simd
