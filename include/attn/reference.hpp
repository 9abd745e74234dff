// Double-precision reference of every stage: the plainest loops that follow the definitions in
// README ("What each stage computes"), used only to prove the fast kernels right. Layouts match
// attn/stages.hpp.
#pragma once

#include <vector>

#include "attn/shape.hpp"

namespace attn::reference {

using Tensor = std::vector<double>;

Tensor scores(const Shape& s, const Tensor& q, const Tensor& k);
Tensor softmax(const Shape& s, const Tensor& scores);
Tensor weighted_sum(const Shape& s, const Tensor& p, const Tensor& v);
Tensor attention(const Shape& s, const Tensor& q, const Tensor& k, const Tensor& v);
// y [m][d_model] = x [m][d_model] * w [d_model][d_model], m = batch * n_q.
Tensor projection(const Shape& s, const Tensor& x, const Tensor& w);
// Self-attention block; x, y [B][n][d_model].
Tensor multihead(const Shape& s, const Tensor& x, const Tensor& wq, const Tensor& wk,
                 const Tensor& wv, const Tensor& wo);
// [B][n][d_model] <-> [B][H][n][head_dim], the head split and concatenation of multi-head.
Tensor split_heads(const Shape& s, const Tensor& x);
Tensor merge_heads(const Shape& s, const Tensor& x);

}  // namespace attn::reference
