#include "attn/buffer.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace attn {

void Buffer::Free::operator()(float* p) const { std::free(p); }

// Buffers of 2 MiB and more are 2 MiB-aligned and asked to be backed by transparent huge pages,
// as the allocators of large inference frameworks do: with 4 KiB pages a stage that streams
// hundreds of MiB spends a visible share of its time in page walks, which would measure the
// operating system's defaults rather than the kernel. Where the system refuses, nothing changes.
Buffer::Buffer(std::size_t elems, std::size_t offset) : elems_(elems) {
    constexpr std::size_t kHuge = std::size_t(2) << 20;
    std::size_t bytes = ((elems + offset) * sizeof(float) + 63) / 64 * 64;
    const bool huge = bytes >= kHuge;
    if (huge) bytes = (bytes + kHuge - 1) / kHuge * kHuge;
    raw_.reset(static_cast<float*>(std::aligned_alloc(huge ? kHuge : 64, bytes ? bytes : 64)));
    if (!raw_) throw std::bad_alloc();
    if (huge) madvise(raw_.get(), bytes, MADV_HUGEPAGE);
    ptr_ = raw_.get() + offset;
}

}  // namespace attn
