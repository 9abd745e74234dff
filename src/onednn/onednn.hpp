// What the onednn variants share: the CPU engine and stream, the thread count oneDNN runs on, and a
// small cache of per-shape plans (primitives plus their buffers), so that a primitive is created
// once per shape, on the first call, and every later call only executes it.
#pragma once

#include <omp.h>

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "attn/dtype.hpp"

namespace attn::onednn {

// The process's CPU engine and an in-order stream on it (oneDNN's OpenMP runtime executes a
// primitive before execute() returns).
dnnl::engine& engine();
dnnl::stream& stream();

// oneDNN's data type for elements stored as T (float or bf16; oneDNN 2.6 has no CPU f16 matmul
// outside AVX512-FP16, so no f16 kernel is registered).
template <class T> constexpr dnnl::memory::data_type data_type_of() {
    if constexpr (std::is_same_v<T, bf16>) return dnnl::memory::data_type::bf16;
    else return dnnl::memory::data_type::f32;
}

// A dense or strided memory descriptor of elements stored as T.
template <class T = float> inline dnnl::memory::desc desc_of(const dnnl::memory::dims& dims,
                                                             const dnnl::memory::dims& strides) {
    return {dims, data_type_of<T>(), strides};
}
inline dnnl::memory::desc f32_desc(const dnnl::memory::dims& dims,
                                   const dnnl::memory::dims& strides) {
    return desc_of<float>(dims, strides);
}

// A memory object over a buffer the caller owns (oneDNN neither copies nor frees it).
inline dnnl::memory wrap(const dnnl::memory::desc& md, const void* data) {
    return {md, engine(), const_cast<void*>(data)};
}

// What differs between oneDNN 2.x (Debian 12's 2.6) and 3.x (Debian 13's 3.7), in one place: 3.0
// builds a primitive from its primitive descriptor alone (2.x from an op descriptor), renamed
// softmax_v2 to softmax, and replaced the output scale fixed at creation by per-argument scales
// given at execution.
#if DNNL_VERSION_MAJOR >= 3
using softmax_forward = dnnl::softmax_forward;
#else
using softmax_forward = dnnl::softmax_v2_forward;
#endif

// C = A B (batched when the descriptors are), with attr's post-ops and scale.
inline dnnl::matmul make_matmul(const dnnl::memory::desc& a, const dnnl::memory::desc& b,
                                const dnnl::memory::desc& c,
                                const dnnl::primitive_attr& attr = dnnl::primitive_attr()) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl::matmul(dnnl::matmul::primitive_desc(engine(), a, b, c, attr));
#else
    return dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), attr, engine()));
#endif
}

// The accurate softmax of src along `axis` into dst (of src's dims, possibly another data
// type), for inference (in place when src and dst coincide).
inline softmax_forward make_softmax(const dnnl::memory::desc& src, const dnnl::memory::desc& dst,
                                    int axis) {
    constexpr auto kind = dnnl::prop_kind::forward_inference;
    constexpr auto accurate = dnnl::algorithm::softmax_accurate;
#if DNNL_VERSION_MAJOR >= 3
    return softmax_forward(
        softmax_forward::primitive_desc(engine(), kind, accurate, src, dst, axis));
#else
    return softmax_forward({{kind, accurate, src, dst, axis}, engine()});
#endif
}

// LayerNorm with a gain and a bias ([d] each, DNNL_ARG_SCALE and DNNL_ARG_SHIFT) along the last
// dimension of md, for inference (in place when source and destination coincide).
inline dnnl::layer_normalization_forward make_layer_norm(const dnnl::memory::desc& md,
                                                         float epsilon) {
    constexpr auto kind = dnnl::prop_kind::forward_inference;
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
#if DNNL_VERSION_MAJOR >= 3
    return dnnl::layer_normalization_forward(
        dnnl::layer_normalization_forward::primitive_desc(engine(), kind, md, md, epsilon, flags));
#else
    return dnnl::layer_normalization_forward({{kind, md, epsilon, flags}, engine()});
#endif
}

// dst = src0 + src1, elementwise, all of md.
inline dnnl::binary make_add(const dnnl::memory::desc& md) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl::binary(
        dnnl::binary::primitive_desc(engine(), dnnl::algorithm::binary_add, md, md, md));
#else
    return dnnl::binary({{dnnl::algorithm::binary_add, md, md, md}, engine()});
#endif
}

// Appends the elementwise function `alg` (with its alpha) to a primitive's post-ops.
inline void append_eltwise(dnnl::post_ops& ops, dnnl::algorithm alg, float alpha) {
#if DNNL_VERSION_MAJOR >= 3
    ops.append_eltwise(alg, alpha, 0.f);
#else
    ops.append_eltwise(1.f, alg, alpha, 0.f);
#endif
}

// Makes a matmul made with attr compute scale * A B: 2.x fixes it as the output scale now, 3.x
// scales the source by the value add_scale() hands each execution.
inline void set_scale(dnnl::primitive_attr& attr, [[maybe_unused]] float scale) {
#if DNNL_VERSION_MAJOR >= 3
    attr.set_scales_mask(DNNL_ARG_SRC, 0);
#else
    attr.set_output_scales(0, {scale});
#endif
}

// The execution argument of set_scale()'s scale, held at *scale (3.x; nothing for 2.x).
inline void add_scale(std::unordered_map<int, dnnl::memory>& args,
                      [[maybe_unused]] const float* scale) {
#if DNNL_VERSION_MAJOR >= 3
    const dnnl::memory::desc md({1}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::x);
    args[DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC] = wrap(md, scale);
#else
    (void)args;
#endif
}

// For its lifetime, OpenMP regions started by this thread (oneDNN's included) use `threads`
// threads; the previous setting comes back after. oneDNN's OpenMP runtime takes its thread count
// from omp_get_max_threads() both when it plans a primitive and when it runs one.
class ThreadScope {
public:
    explicit ThreadScope(int threads) : previous_(omp_get_max_threads()) {
        omp_set_num_threads(threads);
    }
    ~ThreadScope() { omp_set_num_threads(previous_); }
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;

private:
    int previous_;
};

// The `Capacity` most recently used plans, by key (a shape's text with its thread count): enough
// for bench/targets.sh's interleaved repetitions of every shape of a run never to rebuild one,
// while a test grid's thousands of shapes do not each keep theirs (a plan holds its primitives
// and a causal mask) for the life of the process.
template <class Plan, std::size_t Capacity = 64> class PlanCache {
public:
    // The plan for `key`, made by make() when it is not cached.
    template <class Make> Plan& get(const std::string& key, Make make) {
        const std::lock_guard<std::mutex> lock(mutex_);
        for (auto it = plans_.begin(); it != plans_.end(); ++it)
            if (it->first == key) {
                plans_.splice(plans_.begin(), plans_, it);
                return *plans_.front().second;
            }
        plans_.emplace_front(key, std::make_unique<Plan>(make()));
        if (plans_.size() > Capacity) plans_.pop_back();
        return *plans_.front().second;
    }

private:
    std::mutex mutex_;
    std::list<std::pair<std::string, std::unique_ptr<Plan>>> plans_;
};

}  // namespace attn::onednn
