// Sweep presets: plain-text shape files under bench/presets/ (or any path), one model shape per
// line with a comment naming the model, plus optional settings lines. A shape line holds
// key=value pairs: n= (n_q = n_kv) or nq= with nkv=, h=, kv= (K/V heads, default h), d=, b= and
// dt= (storage types, default f32; each a comma-separated list, crossed), scale= (one number),
// and the words causal and cosine; for the layer stage ff= (feed-forward widths) and the words
// swiglu, rope and rms. Settings lines hold min_time=, max_call_time=, stage= or variant=. The
// format is described at the top of every shipped preset and in README.
#pragma once

#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "attn/shape.hpp"

namespace attnbench {

struct ShapeFile {
    std::string name;                     // "quick", or the path as given
    std::vector<attn::Shape> shapes;      // threads left at 1: the sweep's --threads decide
    std::vector<std::string> models;      // the comment of each shape's line, for the report
    std::optional<double> min_time;       // Google Benchmark --benchmark_min_time, seconds
    std::optional<double> max_call_time;  // see RunConfig::max_call_time
    std::vector<std::string> stages;      // stage=: the stages to run unless --stage names some
    std::vector<std::string> variants;    // variant=: the same for --variant
};

// Reads a preset by name (quick, default, full) or a shape file by path (anything containing '/'
// or ending in .txt). Throws std::invalid_argument with one line: an unknown preset (listing the
// valid ones), an unreadable file, or "FILE:LINE: what is wrong" for a malformed line.
ShapeFile load_shape_file(const std::string& name_or_path);

// Reads shape-file text from `in`; `name` becomes ShapeFile::name and `path` prefixes the messages
// ("PATH:LINE: what is wrong"). Throws std::invalid_argument as load_shape_file does.
ShapeFile parse_shape_file(std::istream& in, const std::string& name, const std::string& path);

}  // namespace attnbench
