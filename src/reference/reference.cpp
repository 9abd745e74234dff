#include "attn/reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "heads.hpp"
#include "layer_math.hpp"

namespace attn::reference {

Tensor scores(const Shape& s, const Tensor& q, const Tensor& k) {
    const auto d = s.head_dim;
    // The scale is taken as the float the kernels use, so only arithmetic error is compared.
    const double scale = s.effective_scale();
    Tensor out(s.score_elems());
    for (std::int64_t bh = 0; bh < s.batch * s.heads; ++bh)
        for (std::int64_t i = 0; i < s.n_q; ++i)
            for (std::int64_t j = 0; j < s.n_kv; ++j) {
                double dot = 0, qq = 0, kk = 0;
                for (std::int64_t c = 0; c < d; ++c) {
                    const double a = q[(bh * s.n_q + i) * d + c],
                                 b = k[(s.kv_head_of(bh) * s.n_kv + j) * d + c];
                    dot += a * b;
                    qq += a * a;
                    kk += b * b;
                }
                // A zero vector gives 0; NaN and inf norms go through the division as IEEE says.
                if (s.similarity == Similarity::cosine)
                    dot = qq * kk != 0 ? dot / std::sqrt(qq * kk) : 0.0;
                out[(bh * s.n_q + i) * s.n_kv + j] =
                    j < s.visible_keys(i) ? dot * scale : -std::numeric_limits<double>::infinity();
            }
    return out;
}

Tensor softmax(const Shape& s, const Tensor& in) {
    Tensor out(in.size());
    const std::int64_t rows = s.batch * s.heads * s.n_q, n = s.n_kv;
    for (std::int64_t r = 0; r < rows; ++r) {
        const double* x = in.data() + r * n;
        double* p = out.data() + r * n;
        double m = -std::numeric_limits<double>::infinity();
        bool nan = false;
        for (std::int64_t j = 0; j < n; ++j)
            nan |= std::isnan(x[j]), m = std::isnan(x[j]) ? m : std::max(m, x[j]);
        // A NaN reaches every entry through the sum; a row of -inf (fully masked) stays zero;
        // a +inf maximum makes inf - inf = NaN, and so the whole row NaN, as IEEE arithmetic does.
        if (nan) {
            std::fill_n(p, n, std::numeric_limits<double>::quiet_NaN());
            continue;
        }
        if (std::isinf(m) && m < 0) continue;
        double sum = 0;
        for (std::int64_t j = 0; j < n; ++j) sum += std::exp(x[j] - m);
        for (std::int64_t j = 0; j < n; ++j) p[j] = std::exp(x[j] - m) / sum;
    }
    return out;
}

namespace {

// O = P V summing, for row i, the keys [0, keys(i)).
template <class Keys>
Tensor product_pv(const Shape& s, const Tensor& p, const Tensor& v, Keys keys) {
    const auto d = s.head_dim;
    Tensor out(s.q_elems());
    for (std::int64_t bh = 0; bh < s.batch * s.heads; ++bh)
        for (std::int64_t i = 0; i < s.n_q; ++i)
            for (std::int64_t c = 0; c < d; ++c) {
                double acc = 0;
                for (std::int64_t j = 0; j < keys(i); ++j)
                    acc += p[(bh * s.n_q + i) * s.n_kv + j] *
                           v[(s.kv_head_of(bh) * s.n_kv + j) * d + c];
                out[(bh * s.n_q + i) * d + c] = acc;
            }
    return out;
}

}  // namespace

Tensor weighted_sum(const Shape& s, const Tensor& p, const Tensor& v) {
    return product_pv(s, p, v, [&](std::int64_t) { return s.n_kv; });  // P is read whole
}

Tensor attention(const Shape& s, const Tensor& q, const Tensor& k, const Tensor& v) {
    // P V over the keys each row sees: a masked key contributes nothing, not 0 times its V row
    // (which is NaN when that row holds a NaN or an inf).
    return product_pv(s, softmax(s, scores(s, q, k)), v,
                      [&](std::int64_t i) { return s.visible_keys(i); });
}

// y [m][n] = x [m][k] w [k][n].
Tensor product(std::int64_t m, std::int64_t k, std::int64_t n, const Tensor& x, const Tensor& w) {
    Tensor y(std::size_t(m * n));
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            double acc = 0;
            for (std::int64_t c = 0; c < k; ++c) acc += x[i * k + c] * w[c * n + j];
            y[i * n + j] = acc;
        }
    return y;
}

Tensor projection(const Shape& s, const Tensor& x, const Tensor& w) {
    const std::int64_t k = s.d_model();
    return product(s.batch * s.n_q, k, std::int64_t(w.size()) / k, x, w);
}

Tensor split_heads(const Shape& s, const Tensor& x) {
    Tensor out(x.size());
    permute_heads(s, std::int64_t(x.size()) / (s.batch * s.n_q * s.head_dim), x.data(), out.data(),
                  HeadLayout::split);
    return out;
}

Tensor merge_heads(const Shape& s, const Tensor& x) {
    Tensor out(x.size());
    permute_heads(s, std::int64_t(x.size()) / (s.batch * s.n_q * s.head_dim), x.data(), out.data(),
                  HeadLayout::merge);
    return out;
}

Tensor multihead(const Shape& s, const Tensor& x, const Tensor& wq, const Tensor& wk,
                 const Tensor& wv, const Tensor& wo) {
    Tensor q = split_heads(s, projection(s, x, wq));
    Tensor k = split_heads(s, projection(s, x, wk));
    const Tensor v = split_heads(s, projection(s, x, wv));
    if (s.rope) {  // the layer stage's rotary embeddings
        layer::rotate_heads_reference(s, s.heads, q.data());
        layer::rotate_heads_reference(s, s.kv_head_count(), k.data());
    }
    return projection(s, merge_heads(s, attention(s, q, k, v)), wo);
}

namespace {

// Norm(a + b) row by row, rows of d_model, gain and bias at norms + offset.
Tensor residual_norm(const Shape& s, const Tensor& a, const Tensor& b, const Tensor& norms,
                     std::int64_t offset) {
    const std::int64_t dm = s.d_model();
    Tensor out(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] + b[i];
    std::vector<float> gain(norms.begin() + offset, norms.begin() + offset + dm),
        bias(norms.begin() + offset + dm, norms.begin() + offset + 2 * dm);
    for (std::int64_t r = 0; r < s.batch * s.n_q; ++r)
        layer::norm_row<double>(out.data() + r * dm, dm, gain.data(), bias.data(), s.rms,
                                out.data() + r * dm);
    return out;
}

}  // namespace

Tensor embedding(const Shape& s, const Tensor& ids, const Tensor& table) {
    const std::int64_t dm = s.d_model();
    Tensor x(ids.size() * std::size_t(dm), std::numeric_limits<double>::quiet_NaN());
    for (std::size_t r = 0; r < ids.size(); ++r)
        if (const std::int64_t row = layer::token_row(ids[r], s.vocab); row >= 0)
            std::copy_n(table.begin() + row * dm, dm, x.begin() + std::int64_t(r) * dm);
    return x;
}

Tensor layer(const Shape& s, const Tensor& x, const Tensor& wq, const Tensor& wk, const Tensor& wv,
             const Tensor& wo, const Tensor& w1, const Tensor& w2, const Tensor& w3,
             const Tensor& norms) {
    const std::int64_t rows = s.batch * s.n_q, dm = s.d_model(), ff = s.ff_width();
    Tensor x0 = x;
    if (!s.rope)
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < dm; ++c)
                x0[r * dm + c] += layer::sinusoid(r % s.n_q, c, dm);
    const Tensor h = residual_norm(s, x0, multihead(s, x0, wq, wk, wv, wo), norms, 0);
    Tensor hidden = product(rows, dm, ff, h, w1);
    if (s.swiglu) {
        const Tensor gate = product(rows, dm, ff, h, w3);
        for (std::size_t i = 0; i < hidden.size(); ++i)
            hidden[i] = layer::silu(hidden[i]) * gate[i];
    } else {
        for (double& v : hidden) v = layer::gelu(v);
    }
    return residual_norm(s, h, product(rows, ff, dm, hidden, w2), norms, 2 * dm);
}

}  // namespace attn::reference
