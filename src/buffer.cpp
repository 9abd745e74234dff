#include "attn/buffer.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

namespace attn {

void Buffer::Free::operator()(void* p) const { std::free(p); }

// Buffers of 2 MiB and more are 2 MiB-aligned and asked to be backed by transparent huge pages,
// as the allocators of large inference frameworks do: with 4 KiB pages a stage that streams
// hundreds of MiB spends a visible share of its time in page walks, which would measure the
// operating system's defaults rather than the kernel. Where the system refuses, nothing changes.
Buffer::Buffer(std::size_t elems, std::size_t offset, DType dtype) : elems_(elems), dtype_(dtype) {
    constexpr std::size_t kHuge = std::size_t(2) << 20;
    const std::size_t size = element_bytes(dtype);
    std::size_t bytes = ((elems + offset) * size + 63) / 64 * 64;
    const bool huge = bytes >= kHuge;
    if (huge) bytes = (bytes + kHuge - 1) / kHuge * kHuge;
    raw_.reset(std::aligned_alloc(huge ? kHuge : 64, bytes ? bytes : 64));
    if (!raw_) throw std::bad_alloc();
    if (huge) madvise(raw_.get(), bytes, MADV_HUGEPAGE);
    ptr_ = static_cast<char*>(raw_.get()) + offset * size;
}

void Buffer::check(DType want) const {
    if (want != dtype_)
        throw std::logic_error(std::string("a buffer of ") + to_string(dtype_) + " read as " +
                               to_string(want));
}

float Buffer::get(std::size_t i) const {
    switch (dtype_) {
        case DType::f32: return static_cast<const float*>(ptr_)[i];
        case DType::bf16: return to_float(static_cast<const bf16*>(ptr_)[i]);
        case DType::f16: return to_float(static_cast<const f16*>(ptr_)[i]);
    }
    return 0.0f;
}

void Buffer::set(std::size_t i, float x) {
    switch (dtype_) {
        case DType::f32: static_cast<float*>(ptr_)[i] = x; break;
        case DType::bf16: static_cast<bf16*>(ptr_)[i] = from_float<bf16>(x); break;
        case DType::f16: static_cast<f16*>(ptr_)[i] = from_float<f16>(x); break;
    }
}

}  // namespace attn
