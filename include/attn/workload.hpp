// Buffers for one call of one stage: inputs filled with reproducible random values stored in the
// shape's storage type (Shape::dtype), an fp32 output, and a way to run any registry kernel of
// that stage and storage type on them. Tests and benchmarks share it, so
// neither knows anything about individual kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "attn/buffer.hpp"
#include "attn/registry.hpp"

namespace attn {

// Inputs are drawn uniformly from [lo, hi] with a fixed seed.
struct Fill {
    float lo = -1.0f;
    float hi = 1.0f;
    std::uint64_t seed = 42;
};

class Workload {
public:
    // Validates the shape for the stage (std::invalid_argument naming the field otherwise).
    Workload(Stage stage, const Shape& shape, const Fill& fill = {}, std::size_t misalign = 0);

    // Calls the kernel on the inputs, writing output(); the kernel must be of this stage and read
    // the shape's storage type (std::invalid_argument otherwise).
    void run(const Kernel& kernel);

    // Lets one set of inputs serve a kernel at several thread counts.
    void set_threads(int threads) { shape_.threads = threads; }

    Stage stage() const { return stage_; }
    const Shape& shape() const { return shape_; }
    // In the order of the stage's signature: scores q,k; softmax s; weighted_sum p,v;
    // attention q,k,v; projection x,w; multihead x,wq,wk,wv,wo; layer x (or its token ids),
    // wq,wk,wv,wo,w1,w2,w3,norms,embedding; each of the shape's dtype
    // (Buffer::get and Buffer::set read and write any of them as fp32).
    const std::vector<Buffer>& inputs() const { return inputs_; }
    std::vector<Buffer>& inputs() { return inputs_; }
    const Buffer& output() const { return output_; }

private:
    Stage stage_;
    Shape shape_;
    std::vector<Buffer> inputs_;
    Buffer output_;
};

}  // namespace attn
