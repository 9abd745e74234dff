// Fuzzes attn::parse_shape, the --shape descriptor parser: any bytes either parse into a valid
// shape or throw std::invalid_argument, and a parsed shape's text reads back to the same shape.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "attn/shape.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    attn::Shape s;
    try {
        s = attn::parse_shape(text);
    } catch (const std::invalid_argument&) {
        return 0;
    }
    if (!s.problem().empty()) std::abort();  // parse_shape returned a shape that is not valid
    bool threads_given = false;
    const attn::Shape back = attn::parse_shape(s.text(), &threads_given);
    if (back.text() != s.text() || back.scale != s.scale || !threads_given) std::abort();
    return 0;
}
