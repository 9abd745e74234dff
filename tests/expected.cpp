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
//  - layer:        the position encoding's rounding enters the block's bound as a relative error
//                  of X0; rotary embeddings bound a rotated entry by its pair's |a| + |b|; each
//                  normalisation turns its input's error e (largest E) into |g| / s (e + E + 2E
//                  |z^|) plus its own sums' d_model u (norm_error); the feed-forward carries it
//                  through |W| like the projections, GELU and SiLU by their slopes (1.13, 1.1).
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

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>

#include "attn/reference.hpp"
#include "layer_math.hpp"

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

// (|a| + |b|, |a| + |b|) for every pair of a head's dimensions: what a rotation of the pair can
// make of either entry, so that magnitudes bound the rotated Q and K of rotary embeddings.
Tensor pair_sums(const Tensor& t) {
    Tensor out(t.size());
    for (std::size_t i = 0; i + 1 < t.size(); i += 2) out[i] = out[i + 1] = t[i] + t[i + 1];
    return out;
}

// The multihead bound for an input x whose entries carry a relative error in_rel of their
// magnitudes xa (0 and |x| for the stage's own exact input; the layer's X0 carries its position
// encoding's rounding). Under rope, Q and K are rotated pairwise after their projections.
Tensor multihead_tolerance(const Shape& s, const Tensor& x, const Tensor& xa, double in_rel,
                           const Tensor& wq, const Tensor& wk, const Tensor& wv, const Tensor& wo) {
    // Relative error of one projection whose output is stored in the storage type.
    const double proj = 2.0 * u * double(s.d_model() + 1) + storage_roundoff(s.dtype) + in_rel;
    // The rotation's table (u) and its two products and sum (3u) on top, for Q and K.
    const double proj_qk = proj + (s.rope ? 4.0 * u : 0.0);
    Tensor qa = reference::split_heads(s, reference::projection(s, xa, absolute(wq)));
    Tensor ka = reference::split_heads(s, reference::projection(s, xa, absolute(wk)));
    if (s.rope) qa = pair_sums(qa), ka = pair_sums(ka);
    const Tensor va = reference::split_heads(s, reference::projection(s, xa, absolute(wv)));
    Tensor q = reference::split_heads(s, reference::projection(s, x, wq));
    Tensor k = reference::split_heads(s, reference::projection(s, x, wk));
    if (s.rope) {
        layer::rotate_heads_reference(s, s.heads, q.data());
        layer::rotate_heads_reference(s, s.kv_head_count(), k.data());
    }
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
        for (std::size_t i = 0; i < ds.size(); ++i) ds[i] += 2.0 * proj_qk * qk_abs[i];
    } else {
        ds = score_error(s, q, k);
        const auto d = s.head_dim;
        auto rel = [&](const Tensor& t, const Tensor& ta, std::int64_t row) {
            double n = 0, na = 0;
            for (std::int64_t c = 0; c < d; ++c)
                n += t[row * d + c] * t[row * d + c], na += ta[row * d + c] * ta[row * d + c];
            return n > 0 ? proj_qk * std::sqrt(na / n) : 0.0;
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
    return reference::projection(s, carried, absolute(wo));
}

Expected multihead(const Workload& w) {
    const Shape& s = w.shape();
    const Tensor x = to_double(w.inputs()[0]);
    const Tensor wq = to_double(w.inputs()[1]), wk = to_double(w.inputs()[2]);
    const Tensor wv = to_double(w.inputs()[3]), wo = to_double(w.inputs()[4]);
    return {reference::multihead(s, x, wq, wk, wv, wo),
            multihead_tolerance(s, x, absolute(x), 0.0, wq, wk, wv, wo)};
}

// The bound of out = Norm(z) with z = a + b carrying the error ez (z in double, exact): a row's
// largest input error E moves its mean by at most E and its deviation by at most 2E, so entry i
// moves by |g_i| / s (e_i + E + 2E |z^_i|), s = sqrt(variance + eps) and z^_i = (z_i - mean) / s;
// the kernel's own fp32 sums of d_model terms add |g_i| d_model u (mean|z| / s + |z^_i|), its few
// further operations 4u (|z^_i| + 1) |g_i| + 2u |b_i|; the sum z itself u |z|. Doubled for the
// second-order terms.
Tensor norm_error(const Shape& s, const Tensor& z, Tensor ez, const Tensor& norms,
                  std::int64_t offset) {
    const std::int64_t dm = s.d_model();
    Tensor out(z.size());
    for (std::int64_t r = 0; r < s.batch * s.n_q; ++r) {
        const double* zr = z.data() + r * dm;
        double* er = ez.data() + r * dm;
        double mean = 0, mean_abs = 0, big = 0;
        for (std::int64_t c = 0; c < dm; ++c) {
            er[c] += u * std::fabs(zr[c]);
            mean += zr[c] / double(dm), mean_abs += std::fabs(zr[c]) / double(dm);
            big = std::max(big, er[c]);
        }
        if (s.rms) mean = 0;
        double var = 0;
        for (std::int64_t c = 0; c < dm; ++c) var += (zr[c] - mean) * (zr[c] - mean) / double(dm);
        const double sd = std::sqrt(var + layer::kNormEpsilon);
        for (std::int64_t c = 0; c < dm; ++c) {
            const double g = std::fabs(norms[offset + c]), b = std::fabs(norms[offset + dm + c]);
            const double zh = std::fabs(zr[c] - mean) / sd;
            out[r * dm + c] = 2.0 * (g / sd * (er[c] + big + 2.0 * big * zh) +
                                     g * double(dm) * u * (mean_abs / sd + zh) +
                                     4.0 * u * (zh + 1.0) * g + 2.0 * u * b);
        }
    }
    return out;
}

Expected layer_stage(const Workload& w) {
    using reference::product;
    const Shape& s = w.shape();
    const std::int64_t rows = s.batch * s.n_q, dm = s.d_model(), ff = s.ff_width();
    Tensor in[10];
    for (int i = 0; i < 10; ++i) in[i] = to_double(w.inputs()[std::size_t(i)]);
    // The token lookup copies table rows exactly: X as the kernels see it.
    const Tensor x = s.vocab ? reference::embedding(s, in[0], in[9]) : in[0];
    const Tensor& norms = in[8];
    // X0 = X + positions: the encoding rounded to float, then the sum.
    Tensor x0 = x, x0_abs = absolute(x);
    if (!s.rope)
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < dm; ++c) {
                const double pe = layer::sinusoid(r % s.n_q, c, dm);
                x0[r * dm + c] += pe, x0_abs[r * dm + c] += std::fabs(pe);
            }
    const double x0_rel = s.rope ? 0.0 : 2.0 * u;
    Tensor e_block = multihead_tolerance(s, x0, x0_abs, x0_rel, in[1], in[2], in[3], in[4]);
    const Tensor block = reference::multihead(s, x0, in[1], in[2], in[3], in[4]);
    Tensor z1(block.size()), e_z1(block.size());
    for (std::size_t i = 0; i < z1.size(); ++i)
        z1[i] = x0[i] + block[i], e_z1[i] = x0_rel * x0_abs[i] + e_block[i];
    const Tensor e_h = norm_error(s, z1, e_z1, norms, 0);
    // H itself, as the reference computes it.
    Tensor hv = z1;
    {
        std::vector<float> g(norms.begin(), norms.begin() + dm),
            b(norms.begin() + dm, norms.begin() + 2 * dm);
        for (std::int64_t r = 0; r < rows; ++r)
            layer::norm_row<double>(hv.data() + r * dm, dm, g.data(), b.data(), s.rms,
                                    hv.data() + r * dm);
    }
    const Tensor h_abs = absolute(hv);
    // The feed-forward: each product carries its input's error through |W| and adds its own
    // 2u(k + 1) of the magnitudes; GELU and SiLU change an input error by at most 1.13 and 1.1
    // times and add 8u of their value's magnitude (their input's at most).
    auto through = [&](const Tensor& e_in, const Tensor& in_abs, const Tensor& wt, std::int64_t k,
                       std::int64_t n, Tensor& value_abs) {
        Tensor e = product(rows, k, n, e_in, absolute(wt));
        value_abs = product(rows, k, n, in_abs, absolute(wt));
        for (std::size_t i = 0; i < e.size(); ++i) e[i] += 2.0 * u * double(k + 1) * value_abs[i];
        return e;
    };
    Tensor a1_abs, a3_abs;
    const Tensor hidden = product(rows, dm, ff, hv, in[5]);
    Tensor e1 = through(e_h, h_abs, in[5], dm, ff, a1_abs);
    Tensor act(hidden.size()), act_abs(hidden.size()), e_act(hidden.size());
    if (s.swiglu) {
        const Tensor gate = product(rows, dm, ff, hv, in[7]);
        const Tensor e3 = through(e_h, h_abs, in[7], dm, ff, a3_abs);
        for (std::size_t i = 0; i < act.size(); ++i) {
            const double sl = layer::silu(hidden[i]);
            const double e_sl = 1.1 * e1[i] + 8.0 * u * a1_abs[i];
            act[i] = sl * gate[i];
            act_abs[i] = (std::fabs(sl) + e_sl) * a3_abs[i];
            e_act[i] = e_sl * a3_abs[i] + std::fabs(sl) * e3[i] + u * std::fabs(act[i]);
        }
    } else {
        for (std::size_t i = 0; i < act.size(); ++i) {
            act[i] = layer::gelu(hidden[i]);
            act_abs[i] = a1_abs[i];
            e_act[i] = 1.13 * e1[i] + 8.0 * u * a1_abs[i];
        }
    }
    Tensor f_abs;
    const Tensor f = product(rows, ff, dm, act, in[6]);
    const Tensor e_f = through(e_act, act_abs, in[6], ff, dm, f_abs);
    Tensor z2(f.size()), e_z2(f.size());
    for (std::size_t i = 0; i < z2.size(); ++i) z2[i] = hv[i] + f[i], e_z2[i] = e_h[i] + e_f[i];
    return {reference::layer(s, x, in[1], in[2], in[3], in[4], in[5], in[6], in[7], norms),
            norm_error(s, z2, e_z2, norms, 2 * dm)};
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
        case Stage::layer: e = layer_stage(w); break;
    }
    for (double& t : e.tolerance) t += FLT_MIN;
    return e;
}

int outputs_outside_bound(const Workload& work, const Expected& want, const std::string& what) {
    const float* got = work.output().data();
    int bad = 0;
    for (std::size_t i = 0; i < want.value.size(); ++i)
        if (!within_bound(got[i], want.value[i], want.tolerance[i]) && bad++ < 3)
            ADD_FAILURE() << what << " on " << work.shape().text() << " [" << i << "] got "
                          << got[i] << " want " << want.value[i] << " bound " << want.tolerance[i];
    return bad;
}

int outputs_outside_bound(const Workload& work, const std::string& what) {
    return outputs_outside_bound(work, expected_output(work), what);
}

}  // namespace attn::testing
