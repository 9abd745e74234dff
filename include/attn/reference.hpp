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
// y [m][cols] = x [m][d_model] * w [d_model][cols], m = batch * n_q, cols = w.size() / d_model
// (d_model for Wq and Wo, kv_dim for Wk and Wv).
Tensor projection(const Shape& s, const Tensor& x, const Tensor& w);
// y [m][n] = x [m][k] w [k][n], the plain product the projections and the layer's feed-forward use.
Tensor product(std::int64_t m, std::int64_t k, std::int64_t n, const Tensor& x, const Tensor& w);
// Self-attention block; x, y [B][n][d_model].
Tensor multihead(const Shape& s, const Tensor& x, const Tensor& wq, const Tensor& wk,
                 const Tensor& wv, const Tensor& wo);
// X [B][n][d_model] of the layer's token ids [B][n] under vocab:V: row r is the table's
// [V][d_model] row ids[r], or NaN where ids[r] is not a whole number below V (layer::token_row).
Tensor embedding(const Shape& s, const Tensor& ids, const Tensor& table);
// One post-norm transformer layer (LayerFn, attn/stages.hpp) from X, after any token lookup
// (embedding); x, y [B][n][d_model]; w1, w3
// [d_model][d_ff], w2 [d_ff][d_model] (w3 unused without swiglu), norms [4][d_model].
Tensor layer(const Shape& s, const Tensor& x, const Tensor& wq, const Tensor& wk, const Tensor& wv,
             const Tensor& wo, const Tensor& w1, const Tensor& w2, const Tensor& w3,
             const Tensor& norms);
// [B][n][H * head_dim] <-> [B][H][n][head_dim], the head split and concatenation of multi-head;
// H = x.size() / (B * n * head_dim): heads for Q and the output, kv_heads for K and V.
Tensor split_heads(const Shape& s, const Tensor& x);
Tensor merge_heads(const Shape& s, const Tensor& x);

}  // namespace attn::reference
