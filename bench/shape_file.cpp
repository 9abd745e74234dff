#include "shape_file.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace attnbench {

namespace {

const char* const kPresets[] = {"quick", "default", "full", "bert-layer", "llama-layer"};

std::string preset_path(const std::string& name) {
    return std::string(ATTN_SOURCE_DIR) + "/bench/presets/" + name + ".txt";
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Parses "a,b,c" of positive integers; empty on a malformed value.
std::vector<std::int64_t> positive_ints(const std::string& text) {
    std::vector<std::int64_t> out;
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ',');) {
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size() || v <= 0)
            return {};
        out.push_back(v);
    }
    return out;
}

bool positive_number(const std::string& text, double& out) {
    try {
        std::size_t used = 0;
        out = std::stod(text, &used);
        return used == text.size() && std::isfinite(out) && out > 0.0;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace

ShapeFile load_shape_file(const std::string& name_or_path) {
    const bool is_path = name_or_path.find('/') != std::string::npos ||
                         (name_or_path.size() > 4 && name_or_path.ends_with(".txt"));
    std::string path = name_or_path;
    if (!is_path) {
        bool known = false;
        for (const char* p : kPresets) known |= name_or_path == p;
        if (!known) {
            std::string valid;
            for (const char* p : kPresets) valid += (valid.empty() ? "" : ", ") + std::string(p);
            throw std::invalid_argument("unknown preset '" + name_or_path + "' (valid: " + valid +
                                        ", or the path of a shape file)");
        }
        path = preset_path(name_or_path);
    }
    std::ifstream in(path);
    if (!in)
        throw std::invalid_argument("cannot read shape file " + path + ": " + std::strerror(errno));
    return parse_shape_file(in, name_or_path, path);
}

ShapeFile parse_shape_file(std::istream& in, const std::string& name, const std::string& path) {
    ShapeFile file;
    file.name = name;
    std::string raw;
    for (int line_no = 1; std::getline(in, raw); ++line_no) {
        const auto hash = raw.find('#');
        const std::string body = trim(raw.substr(0, hash));
        const std::string comment = hash == std::string::npos ? "" : trim(raw.substr(hash + 1));
        if (body.empty()) continue;
        auto fail = [&](const std::string& what) {
            throw std::invalid_argument(path + ":" + std::to_string(line_no) + ": " + what);
        };
        std::vector<std::int64_t> ns, nqs, nkvs, hs, kvs{0}, ds, bs{1}, ffs{0};
        std::vector<attn::DType> dts{attn::DType::f32};
        double scale = 0.0;
        std::int64_t vocab = 0;
        bool causal = false, cosine = false, swiglu = false, rope = false, rms = false;
        bool settings = false, shape = false;
        std::stringstream tokens(body);
        for (std::string tok; tokens >> tok;) {
            if (tok == "causal") {
                causal = shape = true;
                continue;
            }
            if (tok == "cosine") {
                cosine = shape = true;
                continue;
            }
            if (tok == "swiglu" || tok == "rope" || tok == "rms") {
                (tok == "swiglu" ? swiglu : tok == "rope" ? rope : rms) = shape = true;
                continue;
            }
            const auto eq = tok.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == tok.size())
                fail("'" + tok + "' is not key=value, causal, cosine, swiglu, rope or rms");
            const std::string key = tok.substr(0, eq), value = tok.substr(eq + 1);
            if (key == "min_time" || key == "max_call_time") {
                double secs = 0;
                if (!positive_number(value, secs))
                    fail(key + ": '" + value + "' is not a positive number of seconds");
                (key == "min_time" ? file.min_time : file.max_call_time) = secs;
                settings = true;
                continue;
            }
            if (key == "stage" || key == "variant") {
                auto& into = key == "stage" ? file.stages : file.variants;
                std::stringstream names(value);
                for (std::string name; std::getline(names, name, ',');)
                    if (!name.empty()) into.push_back(name);
                if (into.empty()) fail(key + ": '" + value + "' names no " + key);
                settings = true;
                continue;
            }
            if (key == "dt") {
                dts.clear();
                std::stringstream names(value);
                for (std::string name; std::getline(names, name, ',');) {
                    attn::DType t;
                    if (!attn::parse_dtype(name, t))
                        fail("dt: '" + name + "' is not a storage type (valid: f32, bf16, f16)");
                    dts.push_back(t);
                }
                if (dts.empty()) fail("dt: '" + value + "' names no storage type");
                shape = true;
                continue;
            }
            if (key == "vocab") {
                const std::vector<std::int64_t> v = positive_ints(value);
                if (v.size() != 1) fail("vocab: '" + value + "' is not one positive integer");
                vocab = v[0];
                shape = true;
                continue;
            }
            if (key == "scale") {
                if (!positive_number(value, scale))
                    fail("scale: '" + value + "' is not a positive number");
                shape = true;
                continue;
            }
            std::vector<std::int64_t>* into = key == "n"     ? &ns
                                              : key == "nq"  ? &nqs
                                              : key == "nkv" ? &nkvs
                                              : key == "h"   ? &hs
                                              : key == "kv"  ? &kvs
                                              : key == "d"   ? &ds
                                              : key == "b"   ? &bs
                                              : key == "ff"  ? &ffs
                                                             : nullptr;
            if (!into)
                fail("unknown key '" + key +
                     "' (valid: n, nq, nkv, h, kv, d, b, ff, vocab, dt, scale, causal, cosine, "
                     "swiglu, rope, rms, stage, variant, min_time, max_call_time)");
            *into = positive_ints(value);
            if (into->empty())
                fail(key + ": '" + value + "' is not a comma-separated list of positive integers");
            shape = true;
        }
        if (settings && shape) fail("a line holds either a shape or settings, not both");
        if (!shape) continue;
        if (!ns.empty() && (!nqs.empty() || !nkvs.empty()))
            fail("give either n= or nq= with nkv=, not both");
        if (ns.empty() && (nqs.empty() != nkvs.empty())) fail("nq= and nkv= go together");
        if ((ns.empty() && nqs.empty()) || hs.empty() || ds.empty())
            fail("a shape needs n= (or nq= and nkv=), h= and d=");
        if (!ns.empty()) nqs = nkvs = ns;
        for (auto b : bs)
            for (auto h : hs)
                for (auto kv : kvs)
                    for (auto d : ds)
                        for (auto ff : ffs)
                            for (auto nq : nqs)
                                for (auto nkv : nkvs)
                                    for (auto dt : dts) {
                                        // n= pairs each length with itself, not with every other
                                        // one.
                                        if (!ns.empty() && nq != nkv) continue;
                                        attn::Shape s;
                                        s.dtype = dt;
                                        s.batch = b, s.heads = h, s.kv_heads = kv, s.n_q = nq,
                                        s.n_kv = nkv, s.head_dim = d;
                                        s.scale = scale;
                                        s.causal = causal;
                                        s.similarity = cosine ? attn::Similarity::cosine
                                                              : attn::Similarity::dot;
                                        s.d_ff = ff, s.vocab = vocab, s.swiglu = swiglu,
                                        s.rope = rope, s.rms = rms;
                                        if (auto p = s.problem(); !p.empty()) fail(p);
                                        file.shapes.push_back(s);
                                        file.models.push_back(comment);
                                    }
    }
    if (file.shapes.empty()) throw std::invalid_argument(path + ": no shape lines");
    return file;
}

}  // namespace attnbench
