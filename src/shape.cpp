#include "attn/shape.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace attn {

namespace {

// Largest element count we accept for one tensor: its byte size must fit in size_t and in
// ptrdiff_t so that pointer arithmetic inside kernels cannot overflow.
constexpr std::int64_t kMaxElems = std::numeric_limits<std::int64_t>::max() / 16;

// a * b, or -1 when the product exceeds kMaxElems (all factors are already known positive).
std::int64_t checked_mul(std::int64_t a, std::int64_t b) {
    if (a < 0 || b < 0 || (b != 0 && a > kMaxElems / b)) return -1;
    return a * b;
}

// 'text', for messages.
std::string quoted(std::string_view text) {
    std::string q = "'";
    q.append(text);
    q += '\'';
    return q;
}

}  // namespace

std::string Shape::problem() const {
    const struct {
        const char* name;
        std::int64_t value;
    } sizes[] = {
        {"batch", batch}, {"heads", heads}, {"n_q", n_q}, {"n_kv", n_kv}, {"head_dim", head_dim}};
    for (const auto& f : sizes)
        if (f.value <= 0)
            return std::string(f.name) + " must be a positive integer, got " +
                   std::to_string(f.value);
    if (kv_heads < 0) return "kv_heads must be a positive integer, got " + std::to_string(kv_heads);
    if (heads % kv_head_count() != 0)
        return "heads (" + std::to_string(heads) + ") must be a multiple of kv_heads (" +
               std::to_string(kv_heads) + ")";
    if (d_ff < 0) return "d_ff must be a positive integer, got " + std::to_string(d_ff);
    if (vocab < 0) return "vocab must be a positive integer, got " + std::to_string(vocab);
    if (vocab > kMaxVocab)
        return "vocab must be at most " + std::to_string(kMaxVocab) +
               " (token ids are passed as floats, exact up to 2^24), got " + std::to_string(vocab);
    if (threads <= 0) return "threads must be a positive integer, got " + std::to_string(threads);
    if (threads > kMaxThreads)
        return "threads must be at most " + std::to_string(kMaxThreads) + ", got " +
               std::to_string(threads);
    if (!std::isfinite(scale) || scale < 0)
        return "scale must be a finite number >= 0 (0 selects 1/sqrt(head_dim))";
    const std::int64_t bh = checked_mul(batch, heads);
    const std::int64_t q = checked_mul(checked_mul(bh, n_q), head_dim);
    const std::int64_t kv = checked_mul(checked_mul(bh, n_kv), head_dim);
    const std::int64_t sc = checked_mul(checked_mul(bh, n_q), n_kv);
    const std::int64_t w = checked_mul(checked_mul(heads, head_dim), checked_mul(heads, head_dim));
    if (bh < 0 || q < 0) return "batch * heads * n_q * head_dim overflows the address space";
    if (kv < 0) return "batch * heads * n_kv * head_dim overflows the address space";
    if (sc < 0) return "batch * heads * n_q * n_kv (the score matrix) overflows the address space";
    if (w < 0) return "d_model = heads * head_dim is too large for a d_model x d_model weight";
    if (checked_mul(heads * head_dim, ff_width()) < 0 ||
        checked_mul(checked_mul(batch, n_q), ff_width()) < 0)
        return "the feed-forward width d_ff is too large for its weights and activations";
    if (checked_mul(heads * head_dim, vocab) < 0)
        return "vocab * d_model (the token-embedding table) overflows the address space";
    return {};
}

void Shape::validate() const {
    if (auto p = problem(); !p.empty()) throw std::invalid_argument(p);
}

float Shape::effective_scale() const {
    return scale == 0.0 ? float(1.0 / std::sqrt(double(head_dim))) : float(scale);
}

std::string Shape::text(bool with_threads) const {
    std::string out = n_q == n_kv ? "n:" + std::to_string(n_q)
                                  : "nq:" + std::to_string(n_q) + "/nkv:" + std::to_string(n_kv);
    out += "/h:" + std::to_string(heads);
    if (kv_head_count() != heads) out += "/kv:" + std::to_string(kv_heads);
    out += "/d:" + std::to_string(head_dim);
    if (with_threads) out += "/t:" + std::to_string(threads);
    if (batch != 1) out += "/b:" + std::to_string(batch);
    if (scale != 0.0) {
        // The shortest digits that read back as the same double.
        char digits[32];
        const auto end = std::to_chars(digits, digits + sizeof digits, scale).ptr;
        out += "/scale:" + std::string(digits, end);
    }
    if (causal) out += "/causal";
    if (similarity == Similarity::cosine) out += "/cosine";
    if (dtype != DType::f32) out += std::string("/dt:") + to_string(dtype);
    if (d_ff != 0) out += "/ff:" + std::to_string(d_ff);
    if (vocab != 0) out += "/vocab:" + std::to_string(vocab);
    if (swiglu) out += "/swiglu";
    if (rope) out += "/rope";
    if (rms) out += "/rms";
    return out;
}

Shape parse_shape(std::string_view text, bool* threads_given) {
    const std::string whole(text);
    auto fail = [&](const std::string& what) -> void {
        throw std::invalid_argument("shape '" + whole + "': " + what);
    };
    Shape s;
    bool seen_n = false, seen_nq = false, seen_nkv = false, seen_h = false, seen_kv = false,
         seen_d = false;
    bool seen_b = false, seen_t = false, seen_scale = false, seen_mask = false, seen_sim = false,
         seen_dt = false, seen_ff = false, seen_vocab = false, seen_swiglu = false,
         seen_rope = false, seen_rms = false;
    auto once = [&](bool& seen, std::string_view field) {
        if (seen) fail(quoted(field) + " is given twice");
        seen = true;
    };
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t slash = std::min(text.find('/', start), text.size());
        const std::string_view field = text.substr(start, slash - start);
        start = slash + 1;
        if (field == "causal") {
            once(seen_mask, field);
            s.causal = true;
            continue;
        }
        if (field == "swiglu" || field == "rope" || field == "rms") {
            bool& seen = field == "swiglu" ? seen_swiglu : field == "rope" ? seen_rope : seen_rms;
            once(seen, field);
            (field == "swiglu" ? s.swiglu : field == "rope" ? s.rope : s.rms) = true;
            continue;
        }
        if (field == "cosine" || field == "dot") {
            once(seen_sim, field);
            s.similarity = field == "cosine" ? Similarity::cosine : Similarity::dot;
            continue;
        }
        const std::size_t colon = field.find(':');
        if (field.empty() || colon == std::string_view::npos)
            fail(quoted(field) + " is not key:value, causal, cosine, swiglu, rope or rms");
        const std::string_view key = field.substr(0, colon), value = field.substr(colon + 1);
        if (key == "scale") {
            once(seen_scale, key);
            const auto [end, ec] =
                std::from_chars(value.data(), value.data() + value.size(), s.scale);
            if (value.empty() || ec != std::errc() || end != value.data() + value.size() ||
                !std::isfinite(s.scale) || s.scale <= 0)
                fail("scale: " + quoted(value) + " is not a positive number");
            continue;
        }
        if (key == "dt") {
            once(seen_dt, key);
            if (!parse_dtype(value, s.dtype))
                fail("dt: " + quoted(value) + " is not a storage type (valid: f32, bf16, f16)");
            continue;
        }
        std::int64_t* into = nullptr;
        bool* seen = nullptr;
        if (key == "n") into = &s.n_q, seen = &seen_n;
        else if (key == "nq") into = &s.n_q, seen = &seen_nq;
        else if (key == "nkv") into = &s.n_kv, seen = &seen_nkv;
        else if (key == "h") into = &s.heads, seen = &seen_h;
        else if (key == "kv") into = &s.kv_heads, seen = &seen_kv;
        else if (key == "d") into = &s.head_dim, seen = &seen_d;
        else if (key == "b") into = &s.batch, seen = &seen_b;
        else if (key == "ff") into = &s.d_ff, seen = &seen_ff;
        else if (key == "vocab") into = &s.vocab, seen = &seen_vocab;
        else if (key != "t")
            fail("unknown field " + quoted(key) +
                 " (valid: n, nq, nkv, h, kv, d, b, t, dt, scale, causal, cosine, ff, vocab, "
                 "swiglu, "
                 "rope, rms)");
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (value.empty() || ec != std::errc() || end != value.data() + value.size() || v <= 0 ||
            (key == "t" && v > std::numeric_limits<int>::max()))
            fail(std::string(key) + ": " + quoted(value) + " is not a positive integer");
        if (key == "t") {
            once(seen_t, key);
            s.threads = int(v);
            continue;
        }
        once(*seen, key);
        *into = v;
        if (key == "n") s.n_kv = v;
    }
    if (seen_n && (seen_nq || seen_nkv)) fail("give either n: or nq: with nkv:, not both");
    if (!seen_n && !(seen_nq && seen_nkv))
        fail("the sequence length is missing (n:, or nq: with nkv:)");
    if (!seen_h) fail("the head count h: is missing");
    if (!seen_d) fail("the head size d: is missing");
    if (auto p = s.problem(); !p.empty()) fail(p);
    if (threads_given) *threads_given = seen_t;
    return s;
}

const char* to_string(Similarity s) { return s == Similarity::dot ? "dot" : "cosine"; }

const char* to_string(DType t) {
    switch (t) {
        case DType::f32: return "f32";
        case DType::bf16: return "bf16";
        case DType::f16: return "f16";
    }
    return "?";
}

bool parse_dtype(std::string_view name, DType& out) {
    for (DType t : kAllDTypes)
        if (name == to_string(t)) return out = t, true;
    return false;
}

std::size_t element_bytes(DType t) { return t == DType::f32 ? 4 : 2; }

}  // namespace attn
