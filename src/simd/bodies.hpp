// Stage bodies shared by the simd (one thread, one ISA) and omp (many threads, best ISA)
// variants: the same loops over batch x heads x row blocks, parallelised with OpenMP when
// `threads` > 1. Layouts are those of attn/stages.hpp.
#pragma once

#include "attn/stages.hpp"
#include "ops.hpp"

namespace attn::simd {

void scores_body(const Ops& ops, int threads, const Shape& sh, const float* q, const float* k, float* s);
void softmax_body(const Ops& ops, int threads, const Shape& sh, const float* s, float* p);
void weighted_sum_body(const Ops& ops, int threads, const Shape& sh, const float* p, const float* v, float* o);
// Unfused attention: per block of query rows, scores, softmax and P V through a score block
// that stays in cache.
void attention_body(const Ops& ops, int threads, const Shape& sh, const float* q, const float* k,
                    const float* v, float* o);
void projection_body(const Ops& ops, int threads, const Shape& sh, const float* x, const float* w, float* y);
// Fused FlashAttention-2 style attention over batch x heads x query blocks.
void flash_body(const Ops& ops, int threads, const Shape& sh, const float* q, const float* k, const float* v,
                float* o);

}  // namespace attn::simd
