#include "flash.hpp"

#include <algorithm>

#include "attention_row.hpp"
#include "kernels.hpp"
#include "simd/bodies.hpp"
#include "workspace.hpp"

namespace attn::flash {

const FlashOps& flash_ops(Isa isa) {
    return simd::for_tier(isa, []<Isa I>() -> const FlashOps& { return flash_ops_for<I>(); });
}

void flash_body(Isa isa, int threads, const Shape& sh, const float* q, const float* k,
                const float* v, float* o) {
    const simd::GemmOps& gemm = simd::gemm_ops(isa);
    const FlashOps& ops = flash_ops(isa);
    // V is packed too, although a head_dim of whole strips could be read in place: the P V
    // micro-kernel ran 10% faster on a contiguous 32 KiB strip than on rows d floats apart,
    // whose lines fall into few L1 sets.
    const simd::PackedHeads kp = simd::pack_keys(gemm, threads, sh, k),
                            vp = simd::pack_values(gemm, threads, sh, v);
    const simd::KeyNorms kn(simd::scores_ops(isa), sh, k);
    const i64 bq = ops.block_q, nb = (sh.n_q + bq - 1) / bq, tasks = sh.batch * sh.heads * nb,
              d = sh.head_dim;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float* scratch = workspace(Slot::thread_block, ops.scratch_floats(d));
        // Under a causal mask the last query blocks of a head carry the most keys: hand them out
        // first (largest first), so that the small ones even out the end of the dynamic schedule.
#pragma omp for schedule(dynamic)
        for (i64 t = 0; t < tasks; ++t) {
            const i64 block = sh.causal ? nb - 1 - t / (sh.batch * sh.heads) : t % nb;
            const i64 h = sh.causal ? t % (sh.batch * sh.heads) : t / nb;
            const i64 i0 = block * bq, i1 = std::min(sh.n_q, i0 + bq);
            const i64 g = sh.kv_head_of(h);
            ops.flash_rows(sh, q + h * sh.n_q * d, kp.head(g), vp.head(g), kn.head(g),
                           o + h * sh.n_q * d, i0, i1, scratch);
            repair_hidden_key_rows(sh, q + h * sh.n_q * d, k + g * sh.n_kv * d, v + g * sh.n_kv * d,
                                   o + h * sh.n_q * d, i0, i1);
        }
    }
}

}  // namespace attn::flash

namespace attn::kernels {

Tiles flash_tiles(Isa isa) {
    if (!cpu_supports(isa)) return {};
    Tiles t = simd_tiles(isa);
    t.row_block = flash::flash_ops(isa).block_q;
    t.kv_block = flash::flash_ops(isa).block_kv;
    return t;
}

}  // namespace attn::kernels
