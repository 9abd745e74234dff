// Storage for kernels' scratch and for the inputs and outputs of tests and benchmarks: fp32, or
// the 16-bit storage types of attn/dtype.hpp for a workload's inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "attn/dtype.hpp"

namespace attn {

// `elems` elements of type `dtype` aligned to 64 bytes whose data starts `offset` elements later,
// to test kernels on misaligned pointers; buffers of 2 MiB and more ask for transparent huge
// pages.
class Buffer {
public:
    Buffer(std::size_t elems, std::size_t offset, DType dtype = DType::f32);
    DType dtype() const { return dtype_; }
    std::size_t size() const { return elems_; }
    // The fp32 view of an fp32 buffer (std::logic_error for another type).
    float* data() { return as<float>(); }
    const float* data() const { return as<float>(); }
    std::span<float> span() { return {data(), elems_}; }
    std::span<const float> span() const { return {data(), elems_}; }
    // The elements as T, which must be the buffer's storage type (std::logic_error otherwise).
    template <class T> T* as() {
        check(dtype_of<T>());
        return static_cast<T*>(ptr_);
    }
    template <class T> const T* as() const {
        check(dtype_of<T>());
        return static_cast<const T*>(ptr_);
    }
    // Element i widened to fp32, whatever the storage type.
    float get(std::size_t i) const;
    // Stores x as element i, rounded to the storage type (from_float).
    void set(std::size_t i, float x);

private:
    void check(DType want) const;
    struct Free {
        void operator()(void* p) const;
    };
    std::unique_ptr<void, Free> raw_;
    void* ptr_;
    std::size_t elems_;
    DType dtype_;
};

}  // namespace attn
