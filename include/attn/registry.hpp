// The single list of kernels: every (stage, variant, isa) entry that tests, benchmarks and the
// CLI enumerate. Entries come from src/kernels.inc.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "attn/isa.hpp"
#include "attn/stages.hpp"

namespace attn {

// A function pointer tagged with its stage and storage type, so stages whose signatures coincide
// stay distinct.
template <Stage S, class T = float> struct StageFn {
    static constexpr Stage stage = S;
    using Storage = T;
    typename StageTraits<S, T>::Fn* call;
};
// Every stage reads fp32; all but softmax (whose input is fp32 scores) also bf16 and f16.
template <class T> using TypedStageFns =
    std::variant<StageFn<Stage::scores, T>, StageFn<Stage::weighted_sum, T>,
                 StageFn<Stage::attention, T>, StageFn<Stage::projection, T>,
                 StageFn<Stage::multihead, T>>;
using AnyStageFn =
    std::variant<StageFn<Stage::scores>, StageFn<Stage::softmax>, StageFn<Stage::weighted_sum>,
                 StageFn<Stage::attention>, StageFn<Stage::projection>, StageFn<Stage::multihead>,
                 StageFn<Stage::layer>, StageFn<Stage::scores, bf16>,
                 StageFn<Stage::weighted_sum, bf16>, StageFn<Stage::attention, bf16>,
                 StageFn<Stage::projection, bf16>, StageFn<Stage::multihead, bf16>,
                 StageFn<Stage::scores, f16>, StageFn<Stage::weighted_sum, f16>,
                 StageFn<Stage::attention, f16>, StageFn<Stage::projection, f16>,
                 StageFn<Stage::multihead, f16>>;

// The block sizes a kernel's loops are built around, so that tests aim at their edges (at, below,
// above and at multiples of each); 0 where a kernel has no such block.
struct Tiles {
    std::int64_t vector = 0;        // fp32 lanes of one vector: the remainder loops
    std::int64_t rows = 0;          // rows of the matrix product's register tile (MR)
    std::int64_t cols = 0;          // columns of a packed strip or register tile (NR)
    std::int64_t depth = 0;         // the K slice a tile of the product accumulates at once (KC)
    std::int64_t row_block = 0;     // query rows per task or block
    std::int64_t kv_block = 0;      // keys per block of fused attention
    std::int64_t decode_block = 0;  // keys per block of fused attention's decode (split-KV) path
    std::int64_t decode_wide_rows = 0;   // query rows per K/V head from which decode packs blocks
    std::int64_t decode_split = 0;       // keys at whose multiples decode splits a K/V head's range
    std::int64_t decode_stream_row = 0;  // the head size from which decode streams rows whole
    std::int64_t projection_block = 0;  // the most rows per task of the projections' matrix product
    std::int64_t projection_direct = 0;    // the most rows a projection multiplies by W unpacked
    std::int64_t projection_packed_x = 0;  // the smallest d_model whose X a projection packs
};

// How a kernel uses threads: not at all (benchmarked at t=1 only); on Shape::threads with the same
// bits at every thread count (each output element is one task's); or on Shape::threads through a
// library that splits its sums by the thread count, so that the bits may change with it.
enum class Threading { single, parallel, parallel_unordered };

// One registry entry: a stage's kernel of one variant at one ISA tier reading one storage type
// (Shape::dtype selects among a variant's entries).
struct Kernel {
    Stage stage;
    std::string_view variant;
    Isa isa;
    DType dtype;
    Threading threading;
    AnyStageFn fn;
    // The tile sizes of the kernel's family at its tier.
    Tiles (*family_tiles)(Isa isa);

    std::string name() const;  // "stage/variant/isa" (the storage type is the shape's)
    // name(), then "/dt:bf16" or "/dt:f16" for 16-bit storage: unique in the registry.
    std::string typed_name() const;
    // Whether the kernel uses Shape::threads.
    bool parallel() const { return threading != Threading::single; }
    bool available() const { return cpu_supports(isa); }
    Tiles tiles() const { return family_tiles(isa); }
};

std::span<const Kernel> registry();

// The attnbench command line that measures `kernel` on `shape`, as printed by failing tests and
// errors: attnbench run --stage S --variant V --isa I --shape <Shape::text()>, the thread count
// 1 for a kernel that is not parallel, the storage type the kernel's.
std::string repro_command(const Kernel& kernel, const Shape& shape);
// The entry with this stage, variant, isa and storage type, or nullptr.
const Kernel* find_kernel(Stage stage, std::string_view variant, Isa isa, DType dtype = DType::f32);

// Names known to the registry, for validating user input and for error messages.
std::string known_stages();
std::string known_variants();
std::string known_isas();
bool parse_stage(std::string_view name, Stage& out);
bool is_variant(std::string_view name);

}  // namespace attn
