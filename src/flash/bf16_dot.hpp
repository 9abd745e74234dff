// Flash attention on bf16 storage with bf16 products: on a CPU with AVX512_BF16 the avx512
// tier's prefill and its decode path's narrow form multiply Q K^T and P V by vdpbf16ps, two bf16
// products summed into each fp32 lane, on Q (scaled) and P rounded to bf16 as PyTorch's bf16
// attention rounds them, instead of widening Q, K and V to fp32 first
// (src/flash/flash_avx512bf16.cpp).
#pragma once

#include <cstdint>

#include "attn/dtype.hpp"
#include "attn/isa.hpp"
#include "attn/shape.hpp"

namespace attn::flash {

// Whether flash at tier `isa` runs `sh` (bf16) in bf16 products: the tier resolves to
// avx512, the CPU has them (cpu_has_bf16_dot), the similarity is the dot product (cosine takes the
// widening path) and they are switched on: by default where they pay (attn::bf16_dot_preferred:
// measured faster than the FMAs, or forced by ATTNBENCH_BF16_DOT=1; =0 forces the widening path).
bool bf16_dot_serves(Isa isa, const Shape& sh);
// Whether bf16 products serve at tier `isa` whatever the shape: bf16_dot_serves's conditions but
// the similarity's (the bf16 projection asks, src/simd/dot_projection.hpp).
bool bf16_dot_on(Isa isa);
// Switches the bf16 products on or off for this process (the tests run both paths).
void enable_bf16_dot(bool on);

// Whether flash at tier `isa` runs the prefill of `sh` (bf16) on AMX tiles: the AMX projection's
// conditions (simd::amx_serves: avx512 tier, AMX-BF16 granted, not switched off by
// ATTNBENCH_AMX=0), the dot-product similarity, and a head size of whole 32-value tile rows.
// It takes precedence over bf16_dot_serves on the prefill path (src/flash/flash_amx.cpp).
bool amx_prefill_serves(Isa isa, const Shape& sh);

// The instructions that multiply a bf16 prefill's Q K^T and P V: vdpbf16ps on vectors, or
// tdpbf16ps on AMX tiles.
enum class Bf16Products { vector_dots, amx_tiles };

// The prefill path of flash attention with bf16 products on `threads` threads: q, o
// [B][H][n_q][d], k, v [B][kv_heads][n_kv][d], q, k, v bf16, o fp32. Only where
// bf16_dot_serves (vector_dots) or amx_prefill_serves (amx_tiles) says so.
void prefill_bf16_products(int threads, const Shape& sh, const bf16* q, const bf16* k,
                           const bf16* v, float* o, Bf16Products products);

// The decode path's rows (FlashOps::decode_rows, same layouts) on bf16 K and V whose narrow form
// takes its scores by bf16 products, the scaled queries rounded to bf16; the P V product and the
// wide form are the widening path's. Only where bf16_dot_serves says so.
void decode_rows_bf16_dot(const Shape& sh, const float* q, std::int64_t rows, const bf16* k,
                          const bf16* v, std::int64_t j_begin, std::int64_t j_end, float* row_max,
                          float* row_sum, float* acc, float* scratch);

// The building blocks, for the micro-op tests (only where cpu_has_bf16_dot()).
// C [m x n] = (or +=) A B with A [m x 2 pairs] and B [2 pairs x n] in bf16 pairs: a [m][pairs]
// 32-bit words, each the bf16 pair (A[r][2p], A[r][2p + 1]) (row stride lda words); b packed by
// pack_pairs_transposed or pack_pairs_interleaved into strips of bf16_dot_strip() columns,
// strip_stride words apart; c [m x n] fp32, row stride ldc.
void bf16_dot_product(std::int64_t m, std::int64_t n, std::int64_t pairs, const std::uint32_t* a,
                      std::int64_t lda, const std::uint32_t* b, std::int64_t strip_stride, float* c,
                      std::int64_t ldc, bool accumulate);
// Columns per strip of a packed B.
std::int64_t bf16_dot_strip();
// B = X^T for X [n x k] bf16 (row stride ldx): strips of the columns of B (rows of X), each
// [ceil(k / 2)][strip] words, the pairs (X[j][2p], X[j][2p + 1]), zeros past n and k; strip_stride
// = ceil(k / 2) * strip. out holds ceil(n / strip) strips and is 64-byte aligned.
void pack_pairs_transposed(std::int64_t n, std::int64_t k, const bf16* x, std::int64_t ldx,
                           std::uint32_t* out);
// B = X for X [k x n] bf16 (row stride ldx): strips of its columns, each [ceil(k / 2)][strip]
// words, the pairs (X[2p][j], X[2p + 1][j]), zeros past k and n; strip_stride = ceil(k / 2) *
// strip.
void pack_pairs_interleaved(std::int64_t k, std::int64_t n, const bf16* x, std::int64_t ldx,
                            std::uint32_t* out);
// The decode path's scores: s [rows x bk] (row stride lds) = Q K^T for q [rows][ceil(d / 2)] bf16
// pairs (row stride ldq words) and k [bk x d] bf16 rows, in the decode path's row and key tiles.
void bf16_dot_scores(std::int64_t rows, const std::uint32_t* q, std::int64_t ldq, const bf16* k,
                     std::int64_t bk, std::int64_t d, float* s, std::int64_t lds);
// The decode path's P V: acc [rows x d] += P V for p [rows x bk] fp32 (row stride ldp), rounded
// to bf16 pairs for the whole 32-column steps of d, and v [bk x d] bf16 rows.
void bf16_dot_weighted_sum(std::int64_t rows, const float* p, std::int64_t ldp, const bf16* v,
                           std::int64_t bk, std::int64_t d, float* acc);
// qs [rows][ceil(d / 2)] words = q [rows x d] bf16 (rows of one head) times scale * log2 e,
// rounded to bf16 pairs, a zero after an odd d: the queries both bf16 prefills multiply.
void scaled_query_pairs(const Shape& sh, const bf16* q, std::int64_t rows, std::uint32_t* qs);

// The AMX prefill's products on one query block of at most 96 rows, in row pairs of 32 (two
// tiles) and keys in steps of 32, d a multiple of 32 (only where cpu_has_amx_bf16()):
// s [32 x keys] (row stride lds) = Q K^T for qs [32][d / 2] words (scaled_query_pairs) and kp =
// K^T packed by pack_pairs_transposed from the block's first key, keys a multiple of 32.
void amx_score_rows(const std::uint32_t* qs, std::int64_t d, const std::uint32_t* kp,
                    std::int64_t keys, float* s, std::int64_t lds);
// acc [32 x d] (row stride ld_acc) = (first) or += P V for p [32][keys / 2] words of bf16 pairs
// (row stride ldp) and vp = V packed by pack_pairs_interleaved from the block's first key pair,
// its strips of 32 columns v_stride words apart; keys a multiple of 32.
void amx_value_rows(const std::uint32_t* p, std::int64_t ldp, const std::uint32_t* vp,
                    std::int64_t v_stride, std::int64_t keys, std::int64_t d, float* acc,
                    std::int64_t ld_acc, bool first);
// Fused attention of query rows [i0, i1) of one head on AMX tiles, as flash_rows with bf16
// products: q [n_q x d] bf16, o [n_q x d]; kp = K^T by pack_pairs_transposed, vp = V by
// pack_pairs_interleaved with strips v_stride words apart, zeros up to a multiple of 32 keys;
// scratch holds the bf16 prefill's scratch floats, 64-byte aligned.
void flash_rows_amx(const Shape& sh, const bf16* q, const std::uint32_t* kp,
                    const std::uint32_t* vp, std::int64_t v_stride, float* o, std::int64_t i0,
                    std::int64_t i1, float* scratch);

// out [ceil(n / 2)] words = x [n] fp32 rounded to bf16 pairs by the conversion instruction
// (round to nearest even, fp32 subnormals read as zero), a zero after an odd n.
void round_to_bf16_pairs(const float* x, std::int64_t n, std::uint32_t* out);

}  // namespace attn::flash
