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
#include <utility>

namespace attn::onednn {

// The process's CPU engine and an in-order stream on it (oneDNN's OpenMP runtime executes a
// primitive before execute() returns).
dnnl::engine& engine();
dnnl::stream& stream();

// A dense or strided fp32 memory descriptor.
inline dnnl::memory::desc f32_desc(const dnnl::memory::dims& dims,
                                   const dnnl::memory::dims& strides) {
    return {dims, dnnl::memory::data_type::f32, strides};
}

// A memory object over a buffer the caller owns (oneDNN neither copies nor frees it).
inline dnnl::memory wrap(const dnnl::memory::desc& md, const float* data) {
    return {md, engine(), const_cast<float*>(data)};
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
