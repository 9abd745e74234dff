#include "attn/shape.hpp"

#include <cmath>
#include <limits>
#include <sstream>
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

}  // namespace

std::string Shape::problem() const {
    const struct {
        const char* name;
        std::int64_t value;
    } sizes[] = {{"batch", batch}, {"heads", heads}, {"n_q", n_q}, {"n_kv", n_kv}, {"head_dim", head_dim}};
    for (const auto& f : sizes)
        if (f.value <= 0)
            return std::string(f.name) + " must be a positive integer, got " + std::to_string(f.value);
    if (threads <= 0) return "threads must be a positive integer, got " + std::to_string(threads);
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
    return {};
}

void Shape::validate() const {
    if (auto p = problem(); !p.empty()) throw std::invalid_argument(p);
}

float Shape::effective_scale() const {
    return scale == 0.0 ? float(1.0 / std::sqrt(double(head_dim))) : float(scale);
}

std::int64_t Shape::visible_keys(std::int64_t i) const {
    if (!causal) return n_kv;
    const std::int64_t last = i + (n_kv - n_q);  // index of the last visible key
    return last < 0 ? 0 : (last + 1 < n_kv ? last + 1 : n_kv);
}

std::string Shape::repro() const {
    std::ostringstream os;
    os << "--batch " << batch << " --heads " << heads << " --seq-q " << n_q << " --seq-kv " << n_kv
       << " --dim " << head_dim << (causal ? " --causal" : "") << " --sim " << to_string(similarity)
       << " --scale " << effective_scale() << " --threads " << threads;
    return os.str();
}

const char* to_string(Similarity s) { return s == Similarity::dot ? "dot" : "cosine"; }

}  // namespace attn
