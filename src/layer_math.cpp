#include "layer_math.hpp"

#include "parallel.hpp"

namespace attn::layer {

AngleTable angle_table(i64 n, i64 width) {
    struct Cached {
        i64 n = -1, width = -1;
        std::vector<float> cos, sin;
    };
    thread_local Cached cache;
    if (cache.n != n || cache.width != width) {
        const i64 pairs = (width + 1) / 2;
        cache.cos.resize(std::size_t(n * pairs));
        cache.sin.resize(std::size_t(n * pairs));
        for (i64 p = 0; p < n; ++p)
            for (i64 i = 0; i < pairs; ++i) {
                const double a = angle(p, i, width);
                cache.cos[std::size_t(p * pairs + i)] = float(std::cos(a));
                cache.sin[std::size_t(p * pairs + i)] = float(std::sin(a));
            }
        cache.n = n, cache.width = width;
    }
    return {cache.cos.data(), cache.sin.data()};
}

void add_positions(const Shape& sh, float* x, int threads) {
    const i64 n = sh.n_q, dm = sh.d_model(), pairs = (dm + 1) / 2;
    const AngleTable t = angle_table(n, dm);
    parallel_region(threads, [&] {
#pragma omp for schedule(static)
        for (i64 r = 0; r < sh.batch * n; ++r) {
            const i64 p = r % n;
            float* row = x + r * dm;
            for (i64 c = 0; c < dm; ++c)
                row[c] += c % 2 == 0 ? t.sin[p * pairs + c / 2] : t.cos[p * pairs + c / 2];
        }
    });
}

void rotate_heads(const Shape& sh, i64 heads, float* v, int threads) {
    const i64 n = sh.n_q, d = sh.head_dim, pairs = d / 2;
    const AngleTable t = angle_table(n, d);
    parallel_region(threads, [&] {
#pragma omp for schedule(static)
        for (i64 r = 0; r < sh.batch * heads * n; ++r) {
            const float* c = t.cos + (r % n) * pairs;
            const float* s = t.sin + (r % n) * pairs;
            float* row = v + r * d;
            for (i64 i = 0; i < pairs; ++i) {
                const float a = row[2 * i], b = row[2 * i + 1];
                row[2 * i] = a * c[i] - b * s[i];
                row[2 * i + 1] = a * s[i] + b * c[i];
            }
        }
    });
}

}  // namespace attn::layer
