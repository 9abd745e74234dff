// Error bounds, per stage. u = FLT_EPSILON (2^-23, twice the unit roundoff). A sum of L products
// computed in fp32 in any order (sequential, blocked, tree, SIMD lanes, FMA or not) differs from
// the exact sum by at most gamma_L * sum|terms| with gamma_L ~ L*u/2 (Higham, Accuracy and
// Stability, 3.1); every bound below is that, doubled for headroom, applied to each stage's
// reductions and propagated to first order through the later stages:
//  - scores:       2u(d+2) * scale * sum_c |q_c k_c| (/|q||k| for cosine); +2 for the scale
//                  multiply and the norm division. Masked entries must be exactly -inf.
//  - softmax:      fl(s - m) is off by u|s - m|, which exp turns into a relative error of u|s-m|;
//                  exp itself (vectorized polynomials included) is allowed 8u; the row sum adds
//                  n_kv*u and the division u. So 2u(|s - m| + n_kv + 8) * p, relative.
//  - weighted_sum: 2u(n_kv + 1) * sum_j |p_j v_jc|.
//  - attention:    a score error delta moves every p_j by up to 2*delta relative, so the output
//                  error is sum_j p_j|v_jc| * (2*delta_max + u(3 n_kv + d + 16)), doubled.
//  - projection:   2u(d_model + 1) * sum_c |x_c w_cj|.
//  - multihead:    the projection bounds of Q, K, V feed the attention bound (the score error
//                  grows with scale * sum |q||k| of the projected magnitudes), which feeds the
//                  output projection. All magnitudes are taken from |X| |W| in double.
// FLT_MIN is added everywhere so that outputs which underflow in fp32 are not failures.
//
// 16-bit storage (dt:bf16, dt:f16): the reference reads the stored values, exactly as the kernel
// does, so the fp32 bounds above hold for every product a kernel accumulates in fp32. On top, a
// kernel may round to the storage type what it computes in between, with unit roundoff
// u_t = 2^-8 (bf16) or 2^-11 (f16) and, below the normal range, an absolute error of half the
// smallest subnormal step: the scaled queries (a relative u_t in each score: 2 u_t * scale *
// sum |q_c k_c| more), the probabilities before P V (2 u_t * sum_j p_j |v_jc| more), and in
// multihead the projected Q, K, V and the concatenated heads (u_t added to each projection's
// relative error).

#include "expected.hpp"

#include <cfloat>
#include <cmath>

#include "attn/reference.hpp"

namespace attn::testing {

namespace {

using reference::Tensor;
constexpr double u = FLT_EPSILON;

// The stored values, widened exactly.
Tensor to_double(const Buffer& b) {
    Tensor t(b.size());
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = b.get(i);
    return t;
}

// The unit roundoff of storing an fp32 value as `t` (0 for fp32, whose intermediate roundings the
// u terms already cover).
double storage_roundoff(DType t) {
    switch (t) {
        case DType::f32: return 0.0;
        case DType::bf16: return 0x1p-8;
        case DType::f16: return 0x1p-11;
    }
    return 0.0;
}

// Half the subnormal step of the storage type: the absolute error of rounding a tiny value.
double storage_floor(DType t) {
    switch (t) {
        case DType::f32: return 0.0;
        case DType::bf16: return 0x1p-134;
        case DType::f16: return 0x1p-25;
    }
    return 0.0;
}

Tensor absolute(Tensor t) {
    for (double& x : t) x = std::fabs(x);
    return t;
}

// Per score entry: the bound on its fp32 error from the d-term dot product (and the cosine norms).
Tensor score_error(const Shape& s, const Tensor& q, const Tensor& k) {
    Shape plain = s;
    plain.similarity = Similarity::dot;
    plain.causal = false;
    Tensor bound = reference::scores(plain, absolute(q), absolute(k));  // scale * sum |q||k|
    const auto d = s.head_dim;
    for (std::int64_t bh = 0; bh < s.batch * s.heads; ++bh)
        for (std::int64_t i = 0; i < s.n_q; ++i)
            for (std::int64_t j = 0; j < s.n_kv; ++j) {
                double& b = bound[(bh * s.n_q + i) * s.n_kv + j];
                if (s.similarity == Similarity::cosine) {
                    double qq = 0, kk = 0;
                    for (std::int64_t c = 0; c < d; ++c) {
                        qq += q[(bh * s.n_q + i) * d + c] * q[(bh * s.n_q + i) * d + c];
                        const double kc = k[(s.kv_head_of(bh) * s.n_kv + j) * d + c];
                        kk += kc * kc;
                    }
                    b = qq * kk > 0 ? 2.0 * b / std::sqrt(qq * kk) : 0.0;  // x2: norms' own error
                }
                b *= 2.0 * u * double(d + 2) + 2.0 * storage_roundoff(s.dtype);
            }
    return bound;
}

// The attention output bound given per-entry score errors `ds` and value magnitudes |V|.
Tensor attention_error(const Shape& s, const Tensor& p, const Tensor& ds, const Tensor& v_abs) {
    Tensor e = reference::weighted_sum(s, p, v_abs);  // sum_j p_j |v_jc|
    const auto d = s.head_dim;
    for (std::int64_t r = 0; r < s.batch * s.heads * s.n_q; ++r) {
        double dmax = 0;
        for (std::int64_t j = 0; j < s.n_kv; ++j)
            if (p[r * s.n_kv + j] > 0) dmax = std::max(dmax, ds[r * s.n_kv + j]);
        const double rel =
            2.0 * (2.0 * dmax + u * double(3 * s.n_kv + d + 16) + storage_roundoff(s.dtype));
        for (std::int64_t c = 0; c < d; ++c) e[r * d + c] *= rel;
    }
    return e;
}

Expected scores(const Workload& w) {
    const Shape& s = w.shape();
    const Tensor q = to_double(w.inputs()[0]), k = to_double(w.inputs()[1]);
    return {reference::scores(s, q, k), score_error(s, q, k)};
}

Expected softmax(const Workload& w) {
    const Shape& s = w.shape();
    const Tensor in = to_double(w.inputs()[0]);
    Expected e{reference::softmax(s, in), Tensor(in.size())};
    for (std::int64_t r = 0; r < s.batch * s.heads * s.n_q; ++r) {
        double m = -INFINITY;
        for (std::int64_t j = 0; j < s.n_kv; ++j) m = std::max(m, in[r * s.n_kv + j]);
        for (std::int64_t j = 0; j < s.n_kv; ++j) {
            const std::size_t at = std::size_t(r * s.n_kv + j);
            const double gap = std::isinf(in[at]) ? 0.0 : m - in[at];
            e.tolerance[at] = 2.0 * u * (gap + double(s.n_kv) + 8.0) * e.value[at];
        }
    }
    return e;
}

Expected weighted_sum(const Workload& w) {
    const Shape& s = w.shape();
    const Tensor p = to_double(w.inputs()[0]), v = to_double(w.inputs()[1]);
    Tensor tol = reference::weighted_sum(s, absolute(p), absolute(v));
    for (double& t : tol) t *= 2.0 * u * double(s.n_kv + 1);
    return {reference::weighted_sum(s, p, v), tol};
}

Expected attention(const Workload& w) {
    const Shape& s = w.shape();
    const Tensor q = to_double(w.inputs()[0]), k = to_double(w.inputs()[1]),
                 v = to_double(w.inputs()[2]);
    const Tensor p = reference::softmax(s, reference::scores(s, q, k));
    return {reference::attention(s, q, k, v),
            attention_error(s, p, score_error(s, q, k), absolute(v))};
}

Expected projection(const Workload& w) {
    const Shape& s = w.shape();
    const Tensor x = to_double(w.inputs()[0]), m = to_double(w.inputs()[1]);
    Tensor tol = reference::projection(s, absolute(x), absolute(m));
    for (double& t : tol) t *= 2.0 * u * double(s.d_model() + 1);
    return {reference::projection(s, x, m), tol};
}

Expected multihead(const Workload& w) {
    const Shape& s = w.shape();
    const Tensor x = to_double(w.inputs()[0]);
    const Tensor wq = to_double(w.inputs()[1]), wk = to_double(w.inputs()[2]);
    const Tensor wv = to_double(w.inputs()[3]), wo = to_double(w.inputs()[4]);
    // Relative error of one projection whose output is stored in the storage type.
    const double proj = 2.0 * u * double(s.d_model() + 1) + storage_roundoff(s.dtype);
    const Tensor xa = absolute(x);
    const Tensor qa = reference::split_heads(s, reference::projection(s, xa, absolute(wq)));
    const Tensor ka = reference::split_heads(s, reference::projection(s, xa, absolute(wk)));
    const Tensor va = reference::split_heads(s, reference::projection(s, xa, absolute(wv)));
    const Tensor q = reference::split_heads(s, reference::projection(s, x, wq));
    const Tensor k = reference::split_heads(s, reference::projection(s, x, wk));
    const Tensor v = reference::split_heads(s, reference::projection(s, x, wv));
    const Tensor p = reference::softmax(s, reference::scores(s, q, k));

    // Score errors: the kernel's own rounding plus what the projection errors of q and k do to
    // the similarity: for dot, 2 * proj * scale * sum |q||k| in magnitude terms; for cosine, a
    // relative error e in a vector turns the cosine by at most about e, and the relative error of
    // a projected row is proj * |row of |X||W|| / |row|.
    Tensor ds;
    if (s.similarity == Similarity::dot) {
        ds = score_error(s, qa, ka);
        Shape plain = s;
        plain.causal = false;
        const Tensor qk_abs = reference::scores(plain, qa, ka);
        for (std::size_t i = 0; i < ds.size(); ++i) ds[i] += 2.0 * proj * qk_abs[i];
    } else {
        ds = score_error(s, q, k);
        const auto d = s.head_dim;
        auto rel = [&](const Tensor& t, const Tensor& ta, std::int64_t row) {
            double n = 0, na = 0;
            for (std::int64_t c = 0; c < d; ++c)
                n += t[row * d + c] * t[row * d + c], na += ta[row * d + c] * ta[row * d + c];
            return n > 0 ? proj * std::sqrt(na / n) : 0.0;
        };
        for (std::int64_t bh = 0; bh < s.batch * s.heads; ++bh)
            for (std::int64_t i = 0; i < s.n_q; ++i)
                for (std::int64_t j = 0; j < s.n_kv; ++j)
                    ds[(bh * s.n_q + i) * s.n_kv + j] +=
                        4.0 * s.effective_scale() *
                        (rel(q, qa, bh * s.n_q + i) + rel(k, ka, s.kv_head_of(bh) * s.n_kv + j));
    }
    Tensor head_err = attention_error(s, p, ds, va);
    const Tensor head_abs = reference::weighted_sum(s, p, va);
    for (std::size_t i = 0; i < head_err.size(); ++i) head_err[i] += 2.0 * proj * head_abs[i];
    // Output projection: the error carried in, plus the projection's own rounding.
    Tensor carried = reference::merge_heads(s, head_err);
    const Tensor merged_abs = reference::merge_heads(s, head_abs);
    for (std::size_t i = 0; i < carried.size(); ++i)
        carried[i] += proj * merged_abs[i] + storage_floor(s.dtype);
    Tensor tol = reference::projection(s, carried, absolute(wo));
    return {reference::multihead(s, x, wq, wk, wv, wo), tol};
}

}  // namespace

Expected expected_output(const Workload& w) {
    Expected e;
    switch (w.stage()) {
        case Stage::scores: e = scores(w); break;
        case Stage::softmax: e = softmax(w); break;
        case Stage::weighted_sum: e = weighted_sum(w); break;
        case Stage::attention: e = attention(w); break;
        case Stage::projection: e = projection(w); break;
        case Stage::multihead: e = multihead(w); break;
    }
    for (double& t : e.tolerance) t += FLT_MIN;
    return e;
}

}  // namespace attn::testing
