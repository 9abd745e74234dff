// The Euclidean norms of a matrix's rows in plain fp32 loops, for the cosine similarity of the
// library baselines (openblas, onednn), which normalise around a library's products rather than
// in a kernel of their own.
#pragma once

#include <cmath>
#include <cstdint>

namespace attn {

// norms [rows] = the Euclidean norm of each row of x [rows][d] (row-major).
inline void row_norms(const float* x, std::int64_t rows, std::int64_t d, float* norms) {
    for (std::int64_t r = 0; r < rows; ++r) {
        float acc = 0;
        for (std::int64_t c = 0; c < d; ++c) acc += x[r * d + c] * x[r * d + c];
        norms[r] = std::sqrt(acc);
    }
}

}  // namespace attn
