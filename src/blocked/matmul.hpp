// The one matrix product the blocked kernels share: projection (X W), weighted_sum (P V) and
// scores (Q times a transposed K tile) are all C = A B on row-major operands with leading
// dimensions.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tiles.hpp"

namespace attn::kernels::blocked {

// C[kMr x kNr] (+)= A[kMr x kc] B[kc x kNr] for a full register tile. The accumulators are a
// small fixed-size array that stays in registers; each loaded B vector is reused for kMr rows.
// `omp simd` (no threads; OpenMP is on for the whole library) names the column loop as the one to
// vectorize: left alone, GCC 12 vectorizes the depth loop instead, as in-order fp reductions
// emulated lane by lane, and the kernel runs at a fifth of the speed.
inline void micro_full(std::int64_t kc, const float* a, std::int64_t lda, const float* b,
                       std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate) {
    float acc[kMr][kNr] = {};
    for (std::int64_t p = 0; p < kc; ++p) {
        const float* brow = b + p * ldb;
        for (std::int64_t r = 0; r < kMr; ++r) {
            const float av = a[r * lda + p];
#pragma omp simd
            for (std::int64_t l = 0; l < kNr; ++l) acc[r][l] += av * brow[l];
        }
    }
    for (std::int64_t r = 0; r < kMr; ++r)
        for (std::int64_t l = 0; l < kNr; ++l)
            c[r * ldc + l] = accumulate ? c[r * ldc + l] + acc[r][l] : acc[r][l];
}

// The same for the ragged edge tiles (mr <= kMr rows, nr <= kNr columns); only odd sizes land
// here, so it favours brevity over speed.
inline void micro_edge(std::int64_t mr, std::int64_t nr, std::int64_t kc, const float* a,
                       std::int64_t lda, const float* b, std::int64_t ldb, float* c,
                       std::int64_t ldc, bool accumulate) {
    float acc[kMr][kNr] = {};
    for (std::int64_t p = 0; p < kc; ++p)
        for (std::int64_t r = 0; r < mr; ++r) {
            const float av = a[r * lda + p];
            for (std::int64_t l = 0; l < nr; ++l) acc[r][l] += av * b[p * ldb + l];
        }
    for (std::int64_t r = 0; r < mr; ++r)
        for (std::int64_t l = 0; l < nr; ++l)
            c[r * ldc + l] = accumulate ? c[r * ldc + l] + acc[r][l] : acc[r][l];
}

// C[m x n] = A[m x k] B[k x n] for k >= 1 (C must not overlap A or B). Blocked GotoBLAS-style
// without packing: a kKc x kNc panel of B stays in L2 while all of A's row strips pass over it, and
// each kMr x kKc strip of A stays in L1 while it meets every kNr-wide column strip of the panel.
inline void matmul(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                   const float* b, std::int64_t ldb, float* c, std::int64_t ldc) {
    for (std::int64_t jc = 0; jc < n; jc += kNc) {
        const std::int64_t nc = std::min(kNc, n - jc);
        for (std::int64_t pc = 0; pc < k; pc += kKc) {
            const std::int64_t kc = std::min(kKc, k - pc);
            const bool accumulate = pc > 0;
            for (std::int64_t ic = 0; ic < m; ic += kMr) {
                const std::int64_t mr = std::min(kMr, m - ic);
                const float* as = a + ic * lda + pc;
                for (std::int64_t jr = jc; jr < jc + nc; jr += kNr) {
                    const std::int64_t nr = std::min(kNr, jc + nc - jr);
                    const float* bs = b + pc * ldb + jr;
                    float* cs = c + ic * ldc + jr;
                    if (mr == kMr && nr == kNr)
                        micro_full(kc, as, lda, bs, ldb, cs, ldc, accumulate);
                    else micro_edge(mr, nr, kc, as, lda, bs, ldb, cs, ldc, accumulate);
                }
            }
        }
    }
}

}  // namespace attn::kernels::blocked
