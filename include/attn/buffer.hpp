// fp32 storage for kernels' scratch and for the inputs and outputs of tests and benchmarks.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

namespace attn {

// fp32 storage aligned to 64 bytes whose data() starts `offset` floats later, to test kernels on
// misaligned pointers; buffers of 2 MiB and more ask for transparent huge pages.
class Buffer {
public:
    Buffer(std::size_t elems, std::size_t offset);
    float* data() { return ptr_; }
    const float* data() const { return ptr_; }
    std::size_t size() const { return elems_; }
    std::span<float> span() { return {ptr_, elems_}; }
    std::span<const float> span() const { return {ptr_, elems_}; }

private:
    struct Free {
        void operator()(float* p) const;
    };
    std::unique_ptr<float, Free> raw_;
    float* ptr_;
    std::size_t elems_;
};

}  // namespace attn
