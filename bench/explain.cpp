#include "explain.hpp"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace attnbench {

namespace {

using attn::explain::BankExample;
using attn::explain::HeadTrace;
using attn::explain::Steps;

// printf into a std::string.
std::string format(const char* fmt, ...) {
    va_list args, copy;
    va_start(args, fmt);
    va_copy(copy, args);
    const int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    std::string out(std::size_t(n) + 1, '\0');
    std::vsnprintf(out.data(), out.size(), fmt, args);
    va_end(args);
    out.pop_back();
    return out;
}

// Decimals of a printed number ("-0.1061": 4).
int decimals_of(const char* printed) {
    const char* dot = std::strchr(printed, '.');
    return dot ? int(std::strlen(dot + 1)) : 0;
}

std::string kernels_used(const Steps& s) {
    std::string out;
    out += "  scores      " + s.scores->typed_name() + "\n";
    out += "  weights     " + s.softmax->typed_name() + " (e^x as its tier computes it)\n";
    out += "  output      " + s.attention->typed_name() + "\n";
    out += "  reference   double precision, from the same stored inputs\n";
    return out;
}

// One value in a 10-wide column: 5 decimals, or -inf / inf / nan.
std::string cell(double x, int decimals = 5) {
    if (std::isnan(x)) return format("%10s", "nan");
    if (std::isinf(x)) return format("%10s", x < 0 ? "-inf" : "inf");
    return format("%10.*f", decimals, x);
}

// A rows x cols matrix, one row per line, indented.
template <class T>
std::string matrix(const std::vector<T>& m, std::int64_t rows, std::int64_t cols) {
    std::string out;
    for (std::int64_t i = 0; i < rows; ++i) {
        out += "  ";
        for (std::int64_t j = 0; j < cols; ++j) out += cell(double(m[std::size_t(i * cols + j)]));
        out += "\n";
    }
    return out;
}

// The largest |kernel - reference| over entries where both are finite; entries where one is not
// and the other differs count as a mismatch.
std::string worst_difference(const std::vector<float>& k, const std::vector<double>& r) {
    double worst = 0;
    int mismatched = 0;
    for (std::size_t i = 0; i < k.size(); ++i) {
        if (std::isfinite(k[i]) && std::isfinite(r[i]))
            worst = std::max(worst, std::fabs(k[i] - r[i]));
        else if (!(std::isnan(k[i]) && std::isnan(r[i])) && double(k[i]) != r[i]) ++mismatched;
    }
    std::string out = format("  largest |kernel - reference|: %.2g", worst);
    if (mismatched) out += format(" (%d non-finite entries differ)", mismatched);
    return out + "\n";
}

}  // namespace

std::string render_bank(const Steps& steps, const HeadTrace& t) {
    constexpr int W = BankExample::kWords, D = BankExample::kDims, bank = BankExample::kBank;
    const attn::DType dt = steps.attention->dtype;
    std::string out = format(
        "The worked example \"A man has kept money in the bank\": Q = K = V = the words' %d-wide\n"
        "embeddings stored in %s, plain dot product (scale 1). The row of \"bank\":\n",
        D, attn::to_string(dt));
    out += kernels_used(steps) + "\n";
    out += format("%-6s %-22s %-21s %-21s %-38s\n", "word", "embedding", "bank . word",
                  "e^(bank . word)", "weight");
    out += format("%-6s %-22s %10s %10s %10s %10s %9s %9s %9s %9s\n", "", "", "kernel", "reference",
                  "kernel", "reference", "kernel", "reference", "notes", "k - notes");
    double sum = 0, ref_sum = 0, weight_sum = 0, ref_weight_sum = 0;
    for (int j = 0; j < W; ++j) {
        const std::size_t at = std::size_t(bank * W + j);
        out += format("%-6s", BankExample::kWordNames[j]);
        for (int c = 0; c < D; ++c) out += format(" %7.3f", t.v[std::size_t(j * D + c)]);
        out += format(" %10.5f %10.5f %10.5f %10.5f %9.5f %9.5f %9s %9.1e\n", t.scores[at],
                      t.ref_scores[at], t.exps[at], t.ref_exps[at], t.weights[at],
                      t.ref_weights[at], BankExample::kPrintedWeights[j],
                      t.weights[at] - std::strtod(BankExample::kPrintedWeights[j], nullptr));
        sum += t.exps[at], ref_sum += t.ref_exps[at];
        weight_sum += t.weights[at], ref_weight_sum += t.ref_weights[at];
    }
    out += format("%-6s %-22s %10s %10s %10.5f %10.5f %9.5f %9.5f\n\n", "sum", "", "", "", sum,
                  ref_sum, weight_sum, ref_weight_sum);
    out += "\"bank\" after attention: the embeddings weighted by its weights, summed.\n";
    out += format("%-6s %10s %10s %10s %10s\n", "", "kernel", "reference", "notes", "k - notes");
    for (int c = 0; c < D; ++c) {
        const char* printed = BankExample::kPrintedOutput[c];
        const int digits = decimals_of(printed);
        const float k = t.output[std::size_t(bank * D + c)];
        out += format("dim %-2d %10.*f %10.*f %10s %10.1e\n", c, digits, k, digits,
                      t.ref_output[std::size_t(bank * D + c)], printed,
                      k - std::strtod(printed, nullptr));
    }
    if (dt == attn::DType::f32) {
        out +=
            "\nThe kernel columns print the notes' digits: each weight to 5 decimals, the output"
            " to the\nnotes' own (4, 5, 5).\n";
    } else {
        out += format(
            "\nStored in %s, the embeddings are rounded, which may move the weights by up to %.2g"
            " and\nthe output by up to %.2g from the notes' digits (docs/correctness.md derives"
            " the bound).\n",
            attn::to_string(dt), BankExample::weight_shift(dt), BankExample::output_shift(dt));
    }
    return out;
}

std::string render_head(const Steps& steps, const HeadTrace& t, const attn::Fill& fill) {
    const attn::Shape& sh = t.shape;
    const std::int64_t d = sh.head_dim;
    std::string out = format(
        "Head %lld of %s (batch 0): inputs drawn uniformly from [%g, %g] with seed %llu,\n"
        "stored in %s.\n",
        (long long)t.head, sh.text(false).c_str(), fill.lo, fill.hi, (unsigned long long)fill.seed,
        attn::to_string(sh.dtype));
    out += kernels_used(steps) + "\n";
    const std::int64_t kvh = sh.kv_head_of(t.head);
    out += format("Q [%lld x %lld]\n", (long long)sh.n_q, (long long)d) + matrix(t.q, sh.n_q, d);
    out += format("K [%lld x %lld] (K/V head %lld)\n", (long long)sh.n_kv, (long long)d,
                  (long long)kvh) +
           matrix(t.k, sh.n_kv, d);
    out += format("V [%lld x %lld]\n", (long long)sh.n_kv, (long long)d) + matrix(t.v, sh.n_kv, d);
    const std::string sim =
        sh.similarity == attn::Similarity::cosine ? "cos(Q, K)" : std::string("Q K^T");
    out += format("\nS = %s x %g%s [%lld x %lld], kernel\n", sim.c_str(), sh.effective_scale(),
                  sh.causal ? ", -inf where the causal mask hides a key" : "", (long long)sh.n_q,
                  (long long)sh.n_kv) +
           matrix(t.scores, sh.n_q, sh.n_kv) + "reference\n" +
           matrix(t.ref_scores, sh.n_q, sh.n_kv) + worst_difference(t.scores, t.ref_scores);
    out += "\nP = softmax(S), row by row: e^(S - row maximum) / its row's sum, kernel\n" +
           matrix(t.weights, sh.n_q, sh.n_kv) + "reference\n" +
           matrix(t.ref_weights, sh.n_q, sh.n_kv) + worst_difference(t.weights, t.ref_weights);
    out += format("\nO = P V [%lld x %lld], kernel\n", (long long)sh.n_q, (long long)d) +
           matrix(t.output, sh.n_q, d) + "reference\n" + matrix(t.ref_output, sh.n_q, d) +
           worst_difference(t.output, t.ref_output);
    return out;
}

std::string explain(const ExplainOptions& o) {
    attn::DType dtype;
    if (!attn::parse_dtype(o.dtype, dtype))
        throw std::invalid_argument("--dtype: '" + o.dtype +
                                    "' is not a storage type (valid: f32, bf16, f16)");
    attn::Isa isa = attn::Isa::best;
    if (!o.isa.empty() && !attn::parse_isa(o.isa, isa))
        throw std::invalid_argument("unknown isa '" + o.isa + "' (valid: " + attn::known_isas() +
                                    ")");
    if (o.shape.empty()) {
        if (o.head != 0) throw std::invalid_argument("--head needs --shape");
        const Steps steps = attn::explain::steps_for(o.variant, isa, dtype, !o.isa.empty());
        return render_bank(steps, attn::explain::trace_bank(steps));
    }
    attn::Shape sh = attn::parse_shape(o.shape);
    if (sh.dtype != attn::DType::f32 && o.dtype != "f32")
        throw std::invalid_argument("give the storage type once: in --shape (dt:) or --dtype");
    if (sh.dtype == attn::DType::f32) sh.dtype = dtype;
    if (sh.n_q > kExplainMaxSize || sh.n_kv > kExplainMaxSize || sh.head_dim > kExplainMaxSize)
        throw std::invalid_argument(format(
            "explain prints whole tensors: --shape needs n_q, n_kv and d of at most %lld (got "
            "nq %lld, nkv %lld, d %lld)",
            (long long)kExplainMaxSize, (long long)sh.n_q, (long long)sh.n_kv,
            (long long)sh.head_dim));
    const Steps steps = attn::explain::steps_for(o.variant, isa, sh.dtype, !o.isa.empty());
    attn::Fill fill;
    fill.seed = o.seed;
    return render_head(steps, attn::explain::trace_head(steps, sh, fill, o.head), fill);
}

}  // namespace attnbench
