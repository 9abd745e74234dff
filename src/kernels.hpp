// Declarations of every registered kernel, generated from src/kernels.inc so that a kernel's
// signature is fixed by its stage.
#pragma once

#include "attn/stages.hpp"

namespace attn::kernels {

#define ATTN_KERNEL(stage, variant, isa, parallel, fn) StageTraits<Stage::stage>::Fn fn;
#include "kernels.inc"
#undef ATTN_KERNEL

}  // namespace attn::kernels
