#include "layer_math.hpp"

#include <list>

#include "parallel.hpp"

namespace attn::layer {

AngleTable angle_table(i64 n, i64 width) {
    struct Table {
        i64 n, width;
        std::vector<float> cos, sin;
    };
    // The most recently used first. A few tables, not one: a sweep interleaves shapes of several
    // lengths, and a table of n 2048 at d_model 768 costs some 50 ms of sines to rebuild.
    thread_local std::list<Table> cache;
    for (auto it = cache.begin(); it != cache.end(); ++it)
        if (it->n == n && it->width == width) {
            cache.splice(cache.begin(), cache, it);
            return {cache.front().cos.data(), cache.front().sin.data()};
        }
    const i64 pairs = (width + 1) / 2;
    Table t{n, width, std::vector<float>(std::size_t(n * pairs)),
            std::vector<float>(std::size_t(n * pairs))};
    for (i64 p = 0; p < n; ++p)
        for (i64 i = 0; i < pairs; ++i) {
            const double a = angle(p, i, width);
            t.cos[std::size_t(p * pairs + i)] = float(std::cos(a));
            t.sin[std::size_t(p * pairs + i)] = float(std::sin(a));
        }
    cache.push_front(std::move(t));
    if (cache.size() > kAngleTables) cache.pop_back();
    return {cache.front().cos.data(), cache.front().sin.data()};
}

void add_positions(const Shape& sh, const float* x, float* out, int threads) {
    const i64 n = sh.n_q, dm = sh.d_model(), pairs = (dm + 1) / 2;
    const AngleTable t = angle_table(n, dm);
    parallel_region(threads, [&] {
#pragma omp for schedule(static)
        for (i64 r = 0; r < sh.batch * n; ++r) {
            const float* sin = t.sin + (r % n) * pairs;
            const float* cos = t.cos + (r % n) * pairs;
            const float* in = x + r * dm;
            float* row = out + r * dm;
            for (i64 i = 0; i < dm / 2; ++i) {
                row[2 * i] = in[2 * i] + sin[i];
                row[2 * i + 1] = in[2 * i + 1] + cos[i];
            }
            if (dm % 2) row[dm - 1] = in[dm - 1] + sin[dm / 2];
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
