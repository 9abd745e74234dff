#include "tiles.hpp"

#include "kernels.hpp"

namespace attn::kernels {

Tiles blocked_tiles(Isa) {
    Tiles t;
    t.vector = blocked::kSoftmaxLanes;
    t.rows = blocked::kMr, t.cols = blocked::kNr, t.depth = blocked::kKc;
    return t;
}

}  // namespace attn::kernels
