#include "attn/explain.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "attn/reference.hpp"
#include "simd/ops.hpp"

namespace attn::explain {

namespace {

// The kernel of `stage` for the variant, else the simd kernel of the tier (naive's for scalar).
const Kernel* step_kernel(Stage stage, std::string_view variant, Isa isa, DType dtype) {
    if (const Kernel* k = find_kernel(stage, variant, isa, dtype)) return k;
    return isa == Isa::scalar ? find_kernel(stage, "naive", Isa::scalar, dtype)
                              : find_kernel(stage, "simd", isa, dtype);
}

std::vector<double> widened(const Buffer& b) {
    std::vector<double> out(b.size());
    for (std::size_t i = 0; i < b.size(); ++i) out[i] = b.get(i);
    return out;
}

// Rows [first, first + rows) of `cols` columns of t, as T.
template <class T, class From>
std::vector<T> rows_of(const From& t, std::int64_t first, std::int64_t rows, std::int64_t cols) {
    std::vector<T> out(std::size_t(rows * cols));
    for (std::int64_t i = 0; i < rows * cols; ++i) out[std::size_t(i)] = T(t[first * cols + i]);
    return out;
}

// The trace of head `head` of an attention workload whose inputs are already filled.
HeadTrace trace_workload(const Steps& steps, Workload& attend, std::int64_t head) {
    const Shape& sh = attend.shape();
    HeadTrace t;
    t.shape = sh, t.head = head;
    // The scores kernel reads exactly the attention call's stored Q and K.
    Workload scores(Stage::scores, sh);
    for (int i = 0; i < 2; ++i)
        for (std::size_t e = 0; e < attend.inputs()[i].size(); ++e)
            scores.inputs()[i].set(e, attend.inputs()[i].get(e));
    scores.run(*steps.scores);
    Shape fp32 = sh;
    fp32.dtype = DType::f32;
    Workload softmax(Stage::softmax, fp32);
    std::copy_n(scores.output().data(), sh.score_elems(), softmax.inputs()[0].data());
    softmax.run(*steps.softmax);
    attend.run(*steps.attention);

    const auto q = widened(attend.inputs()[0]), k = widened(attend.inputs()[1]),
               v = widened(attend.inputs()[2]);
    const auto ref_scores = reference::scores(sh, q, k);
    const auto ref_weights = reference::softmax(sh, ref_scores);
    const auto ref_output = reference::attention(sh, q, k, v);
    const std::int64_t d = sh.head_dim, kv_head = sh.kv_head_of(head);
    t.q = rows_of<float>(q, head * sh.n_q, sh.n_q, d);
    t.k = rows_of<float>(k, kv_head * sh.n_kv, sh.n_kv, d);
    t.v = rows_of<float>(v, kv_head * sh.n_kv, sh.n_kv, d);
    t.scores = rows_of<float>(scores.output().data(), head * sh.n_q, sh.n_q, sh.n_kv);
    t.weights = rows_of<float>(softmax.output().data(), head * sh.n_q, sh.n_q, sh.n_kv);
    t.output = rows_of<float>(attend.output().data(), head * sh.n_q, sh.n_q, d);
    t.ref_scores = rows_of<double>(ref_scores, head * sh.n_q, sh.n_q, sh.n_kv);
    t.ref_weights = rows_of<double>(ref_weights, head * sh.n_q, sh.n_q, sh.n_kv);
    t.ref_output = rows_of<double>(ref_output, head * sh.n_q, sh.n_q, d);
    t.exps.resize(t.scores.size());
    exponentials(steps.softmax->isa, t.scores.data(), t.exps.data(), std::int64_t(t.exps.size()));
    for (double s : t.ref_scores) t.ref_exps.push_back(std::exp(s));
    return t;
}

}  // namespace

Steps steps_for(std::string_view variant, Isa isa, DType dtype, bool isa_given) {
    if (!is_variant(variant))
        throw std::invalid_argument("unknown variant '" + std::string(variant) +
                                    "' (valid: " + known_variants() + ")");
    if (!isa_given && !find_kernel(Stage::attention, variant, isa, dtype))
        isa = Isa::scalar;  // a variant without tiers (naive, blocked)
    Steps s{step_kernel(Stage::scores, variant, isa, dtype),
            step_kernel(Stage::softmax, variant, isa, DType::f32),
            find_kernel(Stage::attention, variant, isa, dtype)};
    if (!s.attention || !s.scores || !s.softmax)
        throw std::invalid_argument("variant " + std::string(variant) + " has no attention kernel" +
                                    " at isa " + to_string(isa) +
                                    " reading dt:" + to_string(dtype) + " (see attnbench list)");
    for (const Kernel* k : {s.scores, s.softmax, s.attention})
        if (!k->available())
            throw std::invalid_argument(k->typed_name() + " needs " + to_string(k->isa) +
                                        ", which this CPU lacks");
    return s;
}

void exponentials(Isa isa, const float* x, float* y, std::int64_t n) {
    if (isa == Isa::scalar) {
        for (std::int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
        return;
    }
    simd::softmax_ops(isa).exp(x, y, n);
}

HeadTrace trace_head(const Steps& steps, const Shape& shape, const Fill& fill, std::int64_t head) {
    if (head < 0 || head >= shape.heads)
        throw std::invalid_argument("head " + std::to_string(head) + " is not one of the shape's " +
                                    std::to_string(shape.heads) + " heads");
    Workload attend(Stage::attention, shape, fill);
    return trace_workload(steps, attend, head);
}

const char* const BankExample::kWordNames[kWords] = {"A",     "man", "has", "kept",
                                                     "money", "in",  "the", "bank"};
const float BankExample::kEmbeddings[kWords][kDims] = {
    {-0.03f, -0.78f, 0.006f},    {-0.024f, -0.259f, -0.002f}, {-0.148f, -0.049f, -0.242f},
    {-0.447f, -0.265f, -0.469f}, {-0.207f, -0.336f, -0.411f}, {-0.133f, 0.546f, 0.076f},
    {-0.013f, 0.833f, -0.044f},  {0.02f, -0.286f, 0.524f}};
const char* const BankExample::kPrintedWeights[kWords] = {
    "0.15614", "0.13398", "0.11098", "0.10419", "0.11014", "0.11062", "0.09593", "0.17802"};
const char* const BankExample::kPrintedOutput[kDims] = {"-0.1061", "-0.13715", "-0.02285"};

Shape BankExample::shape(DType dtype) {
    Shape s;
    s.n_q = s.n_kv = kWords, s.head_dim = kDims, s.scale = 1.0;  // plain dot product
    s.dtype = dtype;
    return s;
}

namespace {

// D' = 2u D of BankExample's shifts and max|v|, for unit roundoff u.
void bank_bounds(DType dtype, double& score_shift, double& vmax) {
    const double u = dtype == DType::bf16 ? 0x1p-8 : dtype == DType::f16 ? 0x1p-11 : 0.0;
    double most = 0;
    vmax = 0;
    const auto& e = BankExample::kEmbeddings;
    for (int j = 0; j < BankExample::kWords; ++j) {
        double sum = 0;
        for (int c = 0; c < BankExample::kDims; ++c) {
            sum += std::fabs(double(e[BankExample::kBank][c]) * e[j][c]);
            vmax = std::max(vmax, std::fabs(double(e[j][c])));
        }
        most = std::max(most, sum);
    }
    score_shift = 2.0 * u * most;
}

}  // namespace

double BankExample::weight_shift(DType dtype) {
    double d, vmax;
    bank_bounds(dtype, d, vmax);
    return std::expm1(2.0 * d);
}

double BankExample::output_shift(DType dtype) {
    double d, vmax;
    bank_bounds(dtype, d, vmax);
    const double u = dtype == DType::bf16 ? 0x1p-8 : dtype == DType::f16 ? 0x1p-11 : 0.0;
    return u * vmax + 2.0 * d * vmax;
}

HeadTrace trace_bank(const Steps& steps) {
    Workload attend(Stage::attention, BankExample::shape(steps.attention->dtype));
    for (auto& in : attend.inputs())
        for (std::size_t i = 0; i < in.size(); ++i) in.set(i, (&BankExample::kEmbeddings[0][0])[i]);
    return trace_workload(steps, attend, 0);
}

}  // namespace attn::explain
