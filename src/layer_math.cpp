#include "layer_math.hpp"

#include <algorithm>
#include <limits>
#include <list>

#include "parallel.hpp"
#include "simd/ops.hpp"

namespace attn::layer {

namespace {

// A position or rotary table of n rows of `width`: one array (rows to add) or two (cos, sin).
struct Table {
    bool rotary;
    i64 n, width;
    std::vector<float> a, b;
};

// The table of this kind and size, built by `fill` on a miss. The most recently used first; a
// few tables, not one: a sweep interleaves shapes of several lengths, and the position table of
// n 2048 at d_model 768 costs some 50 ms of sines to rebuild.
template <class Fill> const Table& cached_table(bool rotary, i64 n, i64 width, Fill fill) {
    thread_local std::list<Table> cache;
    for (auto it = cache.begin(); it != cache.end(); ++it)
        if (it->rotary == rotary && it->n == n && it->width == width) {
            cache.splice(cache.begin(), cache, it);
            return cache.front();
        }
    const std::size_t size = std::size_t(n * width);
    Table t{rotary, n, width, std::vector<float>(size), std::vector<float>(rotary ? size : 0)};
    fill(t);
    cache.push_front(std::move(t));
    if (cache.size() > kPositionTables) cache.pop_back();
    return cache.front();
}

}  // namespace

const float* position_table(i64 n, i64 width) {
    return cached_table(false, n, width,
                        [](Table& t) {
                            for (i64 p = 0; p < t.n; ++p)
                                for (i64 c = 0; c < t.width; ++c)
                                    t.a[std::size_t(p * t.width + c)] =
                                        float(sinusoid(p, c, t.width));
                        })
        .a.data();
}

RotaryTable rotary_table(i64 n, i64 width) {
    const Table& t = cached_table(true, n, width, [](Table& t) {
        for (i64 p = 0; p < t.n; ++p) {
            float* cos = t.a.data() + p * t.width;
            float* sin = t.b.data() + p * t.width;
            for (i64 i = 0; i < t.width / 2; ++i) {
                const double a = angle(p, i, t.width);
                const float s = float(std::sin(a));
                cos[2 * i] = cos[2 * i + 1] = float(std::cos(a));
                sin[2 * i] = -s, sin[2 * i + 1] = s;
            }
            if (t.width % 2) cos[t.width - 1] = 1.0f, sin[t.width - 1] = 0.0f;
        }
    });
    return {t.a.data(), t.b.data()};
}

void look_up_tokens(const Shape& sh, const float* ids, const float* table, float* x, int threads) {
    const i64 dm = sh.d_model();
    parallel_region(threads, [&] {
#pragma omp for schedule(static)
        for (i64 r = 0; r < sh.batch * sh.n_q; ++r) {
            const i64 row = token_row(ids[r], sh.vocab);
            if (row >= 0) std::copy_n(table + row * dm, dm, x + r * dm);
            else std::fill_n(x + r * dm, dm, std::numeric_limits<float>::quiet_NaN());
        }
    });
}

void add_positions(const Shape& sh, const float* x, float* out, int threads, Isa isa) {
    const i64 n = sh.n_q, dm = sh.d_model();
    const float* table = position_table(n, dm);
    const simd::LayerOps* ops = isa == Isa::scalar ? nullptr : &simd::layer_ops(isa);
    parallel_region(threads, [&] {
#pragma omp for schedule(static)
        for (i64 r = 0; r < sh.batch * n; ++r) {
            const float* enc = table + (r % n) * dm;
            if (ops) {
                ops->add(x + r * dm, enc, dm, out + r * dm);
                continue;
            }
            for (i64 c = 0; c < dm; ++c) out[r * dm + c] = x[r * dm + c] + enc[c];
        }
    });
}

void rotate_heads(const Shape& sh, i64 heads, float* v, int threads, Isa isa) {
    const i64 n = sh.n_q, d = sh.head_dim;
    const RotaryTable t = rotary_table(n, d);
    const simd::LayerOps* ops = isa == Isa::scalar ? nullptr : &simd::layer_ops(isa);
    parallel_region(threads, [&] {
#pragma omp for schedule(static)
        for (i64 r = 0; r < sh.batch * heads * n; ++r) {
            const float* cos = t.cos + (r % n) * d;
            const float* sin = t.sin + (r % n) * d;
            float* row = v + r * d;
            if (ops) ops->rotate_pairs(row, cos, sin, d, row);
            else rotate_pairs_row(row, cos, sin, d, row);
        }
    });
}

}  // namespace attn::layer
