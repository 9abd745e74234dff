#include "onednn/onednn.hpp"

namespace attn::onednn {

dnnl::engine& engine() {
    static dnnl::engine cpu(dnnl::engine::kind::cpu, 0);
    return cpu;
}

dnnl::stream& stream() {
    static dnnl::stream in_order(engine());
    return in_order;
}

}  // namespace attn::onednn
