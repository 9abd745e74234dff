#include "workspace.hpp"

#include <array>
#include <memory>

#include "attn/buffer.hpp"

namespace attn {

float* workspace(Slot slot, std::int64_t floats) {
    thread_local std::array<std::unique_ptr<Buffer>, std::size_t(Slot::count)> slots;
    auto& b = slots[std::size_t(slot)];
    if (!b || b->size() < std::size_t(floats)) b = std::make_unique<Buffer>(std::size_t(floats), 0);
    return b->data();
}

}  // namespace attn
