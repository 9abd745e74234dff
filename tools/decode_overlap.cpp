// How much of the memory bandwidth a decode-shaped loop can use on this machine, outside the
// project (README, targets 8 and 9): 8 heads of K and V (8192 keys x 128 floats each, 64 MiB in
// all) read by (a) a read-only sum, (b) the same sum in the decode path's order (blocks of 128
// keys, K then V), and (c, d) the decode path's work without its softmax — 4 query rows x 3 keys of
// score tiles and 4 rows x 16 columns of P V tiles — without and with prefetching 4 KiB (K) and
// 8 KiB (V) ahead. One thread, medians of 7 passes. Build and run (AVX2 + FMA):
//   g++ -O3 -mavx2 -mfma -std=c++20 tools/decode_overlap.cpp -o /tmp/decode_overlap &&
//   /tmp/decode_overlap
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace {

constexpr long kDim = 128, kLds = 144, kBlock = 128, kHeads = 8, kKeys = 8192;

void prefetch(const char* a, const char* end) {
    if (a < end) _mm_prefetch(a, _MM_HINT_T0);
}

// s[r][j] = q_r . k_j for 4 rows of q [4][kDim] and kBlock keys of k, in tiles of 4 rows x 3 keys.
template <bool Prefetch> void scores(const float* q, const float* k, float* s, const char* end) {
    for (long j = 0; j + 3 <= kBlock; j += 3) {
        if (Prefetch)
            for (long x = 0; x < 3 * kDim * 4; x += 64)
                prefetch(reinterpret_cast<const char*>(k + j * kDim) + x + 4096, end);
        __m256 acc[12];
        for (auto& a : acc) a = _mm256_setzero_ps();
        for (long c = 0; c < kDim; c += 8) {
            const __m256 k0 = _mm256_loadu_ps(k + j * kDim + c);
            const __m256 k1 = _mm256_loadu_ps(k + (j + 1) * kDim + c);
            const __m256 k2 = _mm256_loadu_ps(k + (j + 2) * kDim + c);
            for (int r = 0; r < 4; ++r) {
                const __m256 qv = _mm256_loadu_ps(q + r * kDim + c);
                acc[r * 3] = _mm256_fmadd_ps(qv, k0, acc[r * 3]);
                acc[r * 3 + 1] = _mm256_fmadd_ps(qv, k1, acc[r * 3 + 1]);
                acc[r * 3 + 2] = _mm256_fmadd_ps(qv, k2, acc[r * 3 + 2]);
            }
        }
        for (int r = 0; r < 4; ++r)
            for (int t = 0; t < 3; ++t) {
                alignas(32) float lanes[8];
                _mm256_store_ps(lanes, acc[r * 3 + t]);
                float sum = 0;
                for (float x : lanes) sum += x;
                s[r * kLds + j + t] = sum;
            }
    }
}

// acc [4][kDim] += p [4][kBlock] v [kBlock][kDim], over chunks of 16 keys and 4 x 16 column tiles.
template <bool Prefetch>
void weighted(const float* p, const float* v, float* acc, const char* end) {
    for (long j0 = 0; j0 < kBlock; j0 += 16)
        for (long c0 = 0; c0 < kDim; c0 += 16) {
            __m256 a[4][2];
            for (int r = 0; r < 4; ++r)
                for (int c = 0; c < 2; ++c) a[r][c] = _mm256_loadu_ps(acc + r * kDim + c0 + 8 * c);
            for (long j = j0; j < j0 + 16; ++j) {
                if (Prefetch)
                    prefetch(reinterpret_cast<const char*>(v + j * kDim + c0) + 8192, end);
                const __m256 v0 = _mm256_loadu_ps(v + j * kDim + c0);
                const __m256 v1 = _mm256_loadu_ps(v + j * kDim + c0 + 8);
                for (int r = 0; r < 4; ++r) {
                    const __m256 pr = _mm256_broadcast_ss(p + r * kLds + j);
                    a[r][0] = _mm256_fmadd_ps(pr, v0, a[r][0]);
                    a[r][1] = _mm256_fmadd_ps(pr, v1, a[r][1]);
                }
            }
            for (int r = 0; r < 4; ++r)
                for (int c = 0; c < 2; ++c) _mm256_storeu_ps(acc + r * kDim + c0 + 8 * c, a[r][c]);
        }
}

float read_sum(const float* x, long n) {
    __m256 a[8];
    for (auto& v : a) v = _mm256_setzero_ps();
    for (long i = 0; i < n; i += 64)
        for (int j = 0; j < 8; ++j) a[j] = _mm256_add_ps(a[j], _mm256_loadu_ps(x + i + 8 * j));
    for (int j = 1; j < 8; ++j) a[0] = _mm256_add_ps(a[0], a[j]);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, a[0]);
    return lanes[0];
}

}  // namespace

int main() {
    const long per_head = kKeys * kDim;
    std::vector<float> k(kHeads * per_head), v(kHeads * per_head), q(4 * kDim, 0.01f),
        s(4 * kLds, 0.001f), acc(4 * kDim);
    for (long i = 0; i < kHeads * per_head; ++i) k[i] = (i % 7) * 0.1f, v[i] = (i % 5) * 0.1f;
    float sink = 0;
    auto measure = [&](const char* name, auto pass) {
        std::vector<double> secs;
        for (int rep = 0; rep < 7; ++rep) {
            const auto t0 = std::chrono::steady_clock::now();
            pass();
            secs.push_back(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(secs.begin(), secs.end());
        std::printf("%-32s %6.2f GB/s\n", name, 2.0 * kHeads * per_head * 4 / secs[3] / 1e9);
    };
    measure("read-only sum", [&] {
        for (long h = 0; h < kHeads; ++h)
            sink += read_sum(&k[h * per_head], per_head) + read_sum(&v[h * per_head], per_head);
    });
    measure("read-only sum, decode order", [&] {
        for (long h = 0; h < kHeads; ++h)
            for (long j0 = 0; j0 < kKeys; j0 += kBlock)
                sink += read_sum(&k[h * per_head + j0 * kDim], kBlock * kDim) +
                        read_sum(&v[h * per_head + j0 * kDim], kBlock * kDim);
    });
    auto decode = [&]<bool Prefetch>() {
        for (long h = 0; h < kHeads; ++h) {
            const float* kh = &k[h * per_head];
            const float* vh = &v[h * per_head];
            const char* k_end = reinterpret_cast<const char*>(kh + per_head);
            const char* v_end = reinterpret_cast<const char*>(vh + per_head);
            for (long j0 = 0; j0 < kKeys; j0 += kBlock) {
                scores<Prefetch>(q.data(), kh + j0 * kDim, s.data(), k_end);
                weighted<Prefetch>(s.data(), vh + j0 * kDim, acc.data(), v_end);
            }
        }
    };
    measure("decode work, no prefetch", [&] { decode.template operator()<false>(); });
    measure("decode work, prefetch", [&] { decode.template operator()<true>(); });
    std::printf("(checksum %g)\n", double(sink + acc[3]));
}
