// Fuzzes the shape-file parser (--preset PATH): any text either parses into valid shapes or
// throws std::invalid_argument with a one-line message naming the file.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>

#include "shape_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    try {
        const attnbench::ShapeFile f = attnbench::parse_shape_file(in, "fuzz", "fuzz.txt");
        if (f.shapes.empty() || f.shapes.size() != f.models.size()) std::abort();
        for (const auto& s : f.shapes)
            if (!s.problem().empty()) std::abort();
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        if (what.rfind("fuzz.txt", 0) != 0 || what.find('\n') != std::string::npos) std::abort();
    }
    return 0;
}
