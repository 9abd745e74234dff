#include "attention_row.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "softmax_row.hpp"

namespace attn {

namespace {

template <class A, class B> float dot(const A* a, const B* b, std::int64_t n) {
    float s = 0;
    for (std::int64_t c = 0; c < n; ++c) s += to_float(a[c]) * to_float(b[c]);
    return s;
}

bool finite_row(const float* x, std::int64_t n) {
    // An exponent of all ones is an inf or a NaN; an OR of integers vectorizes, where a float sum
    // would be a serial chain.
    std::uint32_t special = 0;
    for (std::int64_t c = 0; c < n; ++c) {
        std::uint32_t bits;
        std::memcpy(&bits, x + c, sizeof bits);
        special |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    return special == 0;
}

}  // namespace

template <class Q, class T> void attention_row_exact(const Shape& sh, const Q* q_head,
                                                     const T* k_head, const T* v_head,
                                                     std::int64_t i, float* o_row) {
    const std::int64_t d = sh.head_dim, vis = sh.visible_keys(i);
    const Q* q = q_head + i * d;
    std::vector<float> p(static_cast<std::size_t>(vis));
    const float q_norm = std::sqrt(dot(q, q, d));
    float m = -std::numeric_limits<float>::infinity();
    for (std::int64_t j = 0; j < vis; ++j) {
        const T* k = k_head + j * d;
        float s = dot(q, k, d);
        if (sh.similarity == Similarity::cosine) {
            const float den = q_norm * std::sqrt(dot(k, k, d));
            s = den != 0.0f ? s / den : 0.0f;
        }
        p[std::size_t(j)] = s * sh.effective_scale();
        if (p[std::size_t(j)] > m)
            m = p[std::size_t(j)];  // passes over NaNs, as softmax_row_with_max expects
    }
    kernels::softmax_row_with_max(p.data(), p.data(), vis, m);
    for (std::int64_t c = 0; c < d; ++c) o_row[c] = 0.0f;
    for (std::int64_t j = 0; j < vis; ++j)
        for (std::int64_t c = 0; c < d; ++c)
            o_row[c] += p[std::size_t(j)] * to_float(v_head[j * d + c]);
}

template <class Q, class T>
void repair_hidden_key_rows(const Shape& sh, const Q* q_head, const T* k_head, const T* v_head,
                            float* o_head, std::int64_t i0, std::int64_t i1) {
    if (sh.causal) repair_nonfinite_rows(sh, q_head, k_head, v_head, o_head, i0, i1);
}

template <class Q, class T>
void repair_nonfinite_rows(const Shape& sh, const Q* q_head, const T* k_head, const T* v_head,
                           float* o_head, std::int64_t i0, std::int64_t i1) {
    const std::int64_t d = sh.head_dim;
    for (std::int64_t i = i0; i < i1; ++i)
        if (!finite_row(o_head + i * d, d))
            attention_row_exact(sh, q_head, k_head, v_head, i, o_head + i * d);
}

#define ATTN_ROW_FUNCTIONS(Q, T)                                                                \
    template void attention_row_exact(const Shape&, const Q*, const T*, const T*, std::int64_t, \
                                      float*);                                                  \
    template void repair_hidden_key_rows(const Shape&, const Q*, const T*, const T*, float*,    \
                                         std::int64_t, std::int64_t);                           \
    template void repair_nonfinite_rows(const Shape&, const Q*, const T*, const T*, float*,     \
                                        std::int64_t, std::int64_t);
ATTN_ROW_FUNCTIONS(float, float)
ATTN_ROW_FUNCTIONS(bf16, bf16)
ATTN_ROW_FUNCTIONS(f16, f16)
ATTN_ROW_FUNCTIONS(float, bf16)
ATTN_ROW_FUNCTIONS(float, f16)
#undef ATTN_ROW_FUNCTIONS

}  // namespace attn
