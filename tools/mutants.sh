#!/usr/bin/env bash
# Gives each tier-specific or cross-lane operation of the kernels a deliberate bug (a lane swap, a
# wrong clamp, a dropped lane, a store past its end), one at a time, and checks that the micro-op,
# exponential and layer-row tests fail on the tier the bug breaks: a test that cannot fail proves
# nothing.
#   bash tools/mutants.sh [--emulate-avx512 | --aarch64] [NAME...]  (default: every mutant below)
# Works on a copy of HEAD in build/mutants (Release; one incremental rebuild of attn_tests per
# mutant, 1-3 minutes each on 2 cores); the checkout is never touched. A mutant of a tier this CPU
# lacks is reported as not checked, unless --emulate-avx512 builds the avx512 tier on AVX2
# (CMake ATTN_EMULATE_AVX512, as tests/run.sh's avx512-emu lane), which also shows whether that
# lane catches the bug; --aarch64 cross-builds for aarch64 (cmake/aarch64-linux-gnu.cmake) and runs
# the tests of the neon tier's mutants under qemu-aarch64-static. Exit status 1 if any mutant
# survived.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/build/mutants
# name | file | perl substitution (on the whole file) | tier | gtest filter that must fail
mutants=$(cat <<'LIST'
lane_sums_avx512_swap|src/simd/xsimd_compat.hpp|s/fold_pairs_avx512<2>\(b\[i\], b\[i \+ 2\]\)/fold_pairs_avx512<2>(b[i + 2], b[i])/|avx512|Tiers/MicroOps.LaneSumsPutRowIInLaneI/avx512
lane_sums_haddp_on_avx512|src/simd/xsimd_compat.hpp|s/if constexpr \(std::is_same_v<Arch, xsimd::avx512f>\) \{\n        __m512 a/if constexpr (false) {\n        __m512 a/|avx512|Tiers/MicroOps.LaneSumsPutRowIInLaneI/avx512
lane_sums_swap_avx2|src/simd/xsimd_compat.hpp|s/return xsimd::haddp\(v\);/vfloat<Arch> w[vfloat<Arch>::size];\n    for (std::size_t i = 0; i < vfloat<Arch>::size; ++i) w[i] = v[i ^ 1];\n    return xsimd::haddp(w);/|avx2|Tiers/MicroOps.LaneSumsPutRowIInLaneI/avx2
lane_sums_swap_sse2|src/simd/xsimd_compat.hpp|s/return xsimd::haddp\(v\);/vfloat<Arch> w[vfloat<Arch>::size];\n    for (std::size_t i = 0; i < vfloat<Arch>::size; ++i) w[i] = v[i ^ 1];\n    return xsimd::haddp(w);/|sse2|Tiers/MicroOps.LaneSumsPutRowIInLaneI/sse2
hsum_drops_last_lane|src/simd/xsimd_compat.hpp|s/\{ return xsimd::hadd\(v\); \}/{\n    alignas(64) float l[vfloat<Arch>::size];\n    v.store_aligned(l);\n    return xsimd::hadd(v) - l[vfloat<Arch>::size - 1];\n}/|avx2|Tiers/MicroOps.HorizontalSumAndMaximumReadEveryLane/avx2
hmax_skips_lane_1|src/simd/xsimd_compat.hpp|s/_mm_shuffle_ps\(m, m, 1\)/_mm_shuffle_ps(m, m, 0)/|sse2|Tiers/MicroOps.HorizontalSumAndMaximumReadEveryLane/sse2
hmax_avx512_drops_upper_half|src/simd/xsimd_compat.hpp|s/_mm256_castpd_ps\(_mm512_extractf64x4_pd\(x, 1\)\)/_mm256_castpd_ps(_mm512_castpd512_pd256(x))/|avx512|Tiers/MicroOps.HorizontalSumAndMaximumReadEveryLane/avx512
stream_swaps_lanes_avx512|src/simd/xsimd_compat.hpp|s/_mm512_stream_ps\(p, v\)/_mm512_stream_ps(p, _mm512_permutexvar_ps(_mm512_set_epi32(14, 15, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), v))/|avx512|Tiers/MicroOps.StreamingStoreWritesEveryLaneInPlace/avx512
stream_swaps_lanes_avx2|src/simd/xsimd_compat.hpp|s/_mm256_stream_ps\(p, v\)/_mm256_stream_ps(p, _mm256_permute_ps(v, 0xB1))/|avx2|Tiers/MicroOps.StreamingStoreWritesEveryLaneInPlace/avx2
stream_swaps_lanes_sse2|src/simd/xsimd_compat.hpp|s/_mm_stream_ps\(p, v\)/_mm_stream_ps(p, _mm_shuffle_ps(v, v, 0xB1))/|sse2|Tiers/MicroOps.StreamingStoreWritesEveryLaneInPlace/sse2
scalef_off_by_one|src/simd/xsimd_compat.hpp|s/_mm512_scalef_ps\(p, n\)/_mm512_scalef_ps(p, _mm512_add_ps(n, _mm512_set1_ps(1.0f)))/|avx512|Tiers/MicroOps.TimesPow2ScalesByExactPowersOfTwo/avx512
exponent_bias_off_by_one|src/simd/xsimd_compat.hpp|s/I\(127 - kRoundMagicBits\)/I(126 - kRoundMagicBits)/|avx2|Tiers/MicroOps.TimesPow2ScalesByExactPowersOfTwo/avx2
exp_clamp_minus87_on_avx512|src/simd/xsimd_compat.hpp|s/const V lo\(kExpLowest\)/const V lo(std::is_same_v<Arch, xsimd::avx512f> ? -87.0f : kExpLowest)/|avx512|Tiers/VectorExp.NormalDownToFltMinThenZero/avx512
exp_clamp_too_low|src/simd/xsimd_compat.hpp|s/kExpLowest = -87.33654f/kExpLowest = -87.34f/|avx2|Tiers/VectorExp.NormalDownToFltMinThenZero/avx2
exp_upper_clamp_89|src/simd/xsimd_compat.hpp|s/xsimd::min\(V\(88.0f\)/xsimd::min(V(89.0f)/|sse2|Tiers/VectorExp.EdgeValues/sse2
exp2_clamp_minus127|src/simd/xsimd_compat.hpp|s/V\(-125.0f\)/V(-127.0f)/|avx512|Tiers/VectorExp.FlashExp2WithinTwoUlpForNonPositiveArguments/avx512
max_n_reads_a_lane_twice|src/simd/rows.hpp|s/m3 = xsimd::max\(m3, loadu<Arch>\(x \+ j \+ 3 \* W\)\)/m3 = xsimd::max(m3, loadu<Arch>(x + j + 2 * W))/|avx512|Tiers/MicroOps.MaxFindsTheMaximumAtEveryPosition/avx512
exp_sum_tail_shifts_lanes|src/simd/rows.hpp|s/p\[j \+ t\] = tmp\[t\], sum \+= tmp\[t\]/p[j + t] = tmp[(t + 1) % W], sum += tmp[t]/|avx2|Tiers/MicroOps.ShiftedExponentialsAndTheirSum/avx2
max_rows_reads_row_0_twice|src/simd/rows.hpp|s/acc\[r\] = xsimd::max\(acc\[r\], loadu<Arch>\(x \+ r \* ld \+ j\)\)/acc[r] = xsimd::max(acc[r], loadu<Arch>(x + (r == R - 1 ? 0 : r) * ld + j))/|avx512|Tiers/MicroOps.MaxRowsFindEachRowsMaximum/avx512
exp2_sums_one_shift|src/simd/rows.hpp|s/vshift\[r\] = V\(shift\[r\]\)/vshift[r] = V(shift[0])/|avx2|Tiers/MicroOps.RowGroupExponentialsMatchOneRowAtATime/avx2
transpose_swaps_halves|src/simd/gemm.hpp|s/u\[i \+ 4\], 0x20\)/u[i + 4], 0x02)/|avx2|Tiers/ShuffleTranspose.Transpose8x8/avx2
pack_a_mask_one_too_many|src/simd/gemm.hpp|s/_mm256_setr_epi32\(-1, -1, -1, -1, -1, -1, 0, 0\)/_mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0)/|avx2|Tiers/MicroOps.PackALaysOutScaledTilesOfMrRows/avx2
packing_stores_strip_halves_swapped|src/simd/gemm.hpp|s/b\[v\]\.store_aligned\(packed \+ k \* NR \+ v \* W\)/b[v].store_aligned(packed + k * NR + (NV - 1 - v) * W)/|avx512|Tiers/MicroOps.PackingProductPacksAndMultiplies/avx512
transpose16_swaps_lane_pairs|src/simd/gemm.hpp|s/out\[4 \+ c\] = _mm512_permutex2var_ps\(u0, odd, v0\)/out[4 + c] = _mm512_permutex2var_ps(v0, odd, u0)/|avx512|Tiers/MicroOps.PackBLaysOutStripsOfNrColumns/avx512
pack_a_12x16_last_run_short|src/simd/gemm.hpp|s/for \(int i = 0; i < 12; \+\+i\) dst\[180 \+ i\] = run\[i\]/for (int i = 0; i < 11; ++i) dst[180 + i] = run[i]/|avx512|Tiers/MicroOps.PackALaysOutScaledTilesOfMrRows/avx512
few_rows_reads_a_row_twice|src/simd/gemm.hpp|s/b\[i\] = loadu<Arch>\(w0 \+ i \* ldw \+ j\)/b[i] = loadu<Arch>(w0 + (i == KB - 1 \&\& KB > 1 ? i - 1 : i) * ldw + j)/|avx512|Tiers/MicroOps.FewRowsProductWithinErrorBound/avx512
few_rows_tail_skips_column|src/simd/gemm.hpp|s/for \(std::int64_t j = jv; j < jn; \+\+j\)\n        for \(int r = 0; r < R; \+\+r\)/for (std::int64_t j = jv + 1; j < jn; ++j)\n        for (int r = 0; r < R; ++r)/|avx2|Tiers/MicroOps.FewRowsProductWithinErrorBound/avx2
decode_score_tail_skips_column|src/flash/decode_impl.hpp|s/for \(i64 c = d_main; c < d; \+\+c\) x \+=/for (i64 c = d_main + 1; c < d; ++c) x +=/|avx512|Tiers/MicroOps.DecodeScoreTileWithinErrorBound/avx512
decode_pv_swaps_column_vectors|src/flash/decode_impl.hpp|s/simd::storeu<Arch>\(acc \+ r \* d \+ c0 \+ c \* W, a\[r\]\[c\]\)/simd::storeu<Arch>(acc + r * d + c0 + (C - 1 - c) * W, a[r][c])/|avx512|Tiers/MicroOps.DecodePvTileWithinErrorBound/avx512
decode_fold_by_xsimd_haddp|src/simd/xsimd_compat.hpp|s/if constexpr \(std::is_same_v<Arch, xsimd::avx512f>\) \{\n        __m512 a/if constexpr (false) {\n        __m512 a/|avx512|Registry/KernelVsReference.WithinErrorBound/attention_flash_avx512__decode*
exp_clamp_minus87_softmax|src/simd/xsimd_compat.hpp|s/const V lo\(kExpLowest\)/const V lo(std::is_same_v<Arch, xsimd::avx512f> ? -87.0f : kExpLowest)/|avx512|Numerics.LogitsFarBeyond88
projection_padded_stride|src/simd/bodies.cpp|s/padded \+ i \* lda\)/padded + i * k)/|sse2|Registry/KernelVsReference.WithinErrorBound/projection_omp_best__b2_h4_n37_d128_t2
heads_output_crosses_sequences|src/simd/bodies.cpp|s/row_run = y_heads \? sh\.n_q : m/row_run = m/|sse2|Registry/KernelVsReference.WithinErrorBound/multihead_flash_best__n257_d32_causal_b2_t2
lane_sums_neon_swap|src/simd/xsimd_compat.hpp|s/vpaddq_f32\(vpaddq_f32\(v\[0\], v\[1\]\)/vpaddq_f32(vpaddq_f32(v[1], v[0])/|neon|Tiers/MicroOps.LaneSumsPutRowIInLaneI/neon
hmax_neon_skips_last_lane|src/simd/xsimd_compat.hpp|s/return vmaxvq_f32\(v\);/return vmaxvq_f32(vsetq_lane_f32(vgetq_lane_f32(v, 0), v, 3));/|neon|Tiers/MicroOps.HorizontalSumAndMaximumReadEveryLane/neon
load_u16_neon_reversed|src/simd/xsimd_compat.hpp|s/vmovl_u16\(vld1_u16\(p\)\)/vmovl_u16(vrev64_u16(vld1_u16(p)))/|neon|Tiers/MicroOps.WidensEveryBf16AndF16PatternExactly/neon
f16_neon_reads_one_late|src/simd/xsimd_compat.hpp|s/vcvt_f32_f16\(vreinterpret_f16_u16\(vld1_u16\(reinterpret_cast<const std::uint16_t\*>\(p\)\)\)\)/vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const std::uint16_t*>(p) + 1)))/|neon|Tiers/MicroOps.WidensEveryBf16AndF16PatternExactly/neon
exponent_bias_off_by_one_neon|src/simd/xsimd_compat.hpp|s/I\(127 - kRoundMagicBits\)/I(126 - kRoundMagicBits)/|neon|Tiers/MicroOps.TimesPow2ScalesByExactPowersOfTwo/neon
exp_upper_clamp_89_neon|src/simd/xsimd_compat.hpp|s/xsimd::min\(V\(88.0f\)/xsimd::min(V(89.0f)/|neon|Tiers/VectorExp.EdgeValues/neon
exp_clamp_too_low_neon|src/simd/xsimd_compat.hpp|s/kExpLowest = -87.33654f/kExpLowest = -87.34f/|neon|Tiers/VectorExp.NormalDownToFltMinThenZero/neon
decode_pv_swaps_column_vectors_neon|src/flash/decode_impl.hpp|s/simd::storeu<Arch>\(acc \+ r \* d \+ c0 \+ c \* W, a\[r\]\[c\]\)/simd::storeu<Arch>(acc + r * d + c0 + (C - 1 - c) * W, a[r][c])/|neon|Tiers/MicroOps.DecodePvTileWithinErrorBound/neon
swap_pairs_avx512_keeps_lanes|src/simd/xsimd_compat.hpp|s/_mm512_shuffle_ps\(v, v, 0xB1\)/_mm512_shuffle_ps(v, v, 0xE4)/|avx512|Tiers/LayerRows.PairRotationAndSumFollowTheirDefinitions/avx512
swap_pairs_avx2_swaps_halves|src/simd/xsimd_compat.hpp|s/_mm256_permute_ps\(v, 0xB1\)/_mm256_permute_ps(v, 0x4E)/|avx2|Tiers/LayerRows.PairRotationAndSumFollowTheirDefinitions/avx2
swap_pairs_sse2_reverses|src/simd/xsimd_compat.hpp|s/_mm_shuffle_ps\(v, v, 0xB1\)/_mm_shuffle_ps(v, v, 0x1B)/|sse2|Tiers/LayerRows.PairRotationAndSumFollowTheirDefinitions/sse2
swap_pairs_neon_keeps_lanes|src/simd/xsimd_compat.hpp|s/return vrev64q_f32\(v\);/return v;/|neon|Tiers/LayerRows.PairRotationAndSumFollowTheirDefinitions/neon
rotate_drops_odd_last|src/simd/layer_rows.hpp|s/layer::rotate_pairs_row\(v \+ j, cos \+ j, sin \+ j, n - j, y \+ j\)/layer::rotate_pairs_row(v + j, cos + j, sin + j, (n - j) \/ 2 * 2, y + j)/|avx2|Tiers/LayerRows.PairRotationAndSumFollowTheirDefinitions/avx2
add_tail_skips_last|src/simd/layer_rows.hpp|s/for \(; j < n; \+\+j\) y\[j\] = a\[j\] \+ b\[j\];/for (; j + 1 < n; ++j) y[j] = a[j] + b[j];/|avx512|Tiers/LayerRows.PairRotationAndSumFollowTheirDefinitions/avx512
gelu_cubic_coefficient|src/simd/layer_rows.hpp|s/V\(0.044715f\)/V(0.04f)/|avx2|Tiers/LayerRows.GeluAndGatedSiluFollowTheirDefinition/avx2
silu_select_flipped|src/simd/layer_rows.hpp|s/x \* xsimd::select\(x < V\(0.0f\)/x * xsimd::select(x > V(0.0f)/|sse2|Tiers/LayerRows.GeluAndGatedSiluFollowTheirDefinition/sse2
norm_mean_drops_tail|src/simd/layer_rows.hpp|s/\(hsum<Arch>\(acc\) \+ tail\) \/ float\(n\)/hsum<Arch>(acc) \/ float(n)/|avx512|Tiers/LayerRows.ResidualNormFollowsTheDefinition/avx512
norm_variance_skips_first_vector|src/simd/layer_rows.hpp|s/sq = xsimd::fma\(d, d, sq\)/sq = j ? xsimd::fma(d, d, sq) : sq/|avx2|Tiers/LayerRows.ResidualNormFollowsTheDefinition/avx2
pair_dot_tail_mask_short|src/flash/flash_avx512bf16.cpp|s/__mmask32\(\(1ull << rest\) - 1\)/__mmask32((1ull << (rest - 1)) - 1)/|avx512bf16|Bf16Dot.DecodeScoresMatchTheDefinitionAtEveryTileEdge
pair_dot_fold_swaps_lanes|src/flash/flash_avx512bf16.cpp|s/s\[r \* lds \+ t\] = sums\[r \* KT \+ t\]/s[r * lds + t] = sums[(r * KT + t) ^ 1]/|avx512bf16|Bf16Dot.DecodeScoresMatchTheDefinitionAtEveryTileEdge
pair_dot_reads_first_query_only|src/flash/flash_avx512bf16.cpp|s/_mm512_maskz_loadu_epi32\(q_mask, q \+ r \* ldq \+ c \/ 2\)/_mm512_maskz_loadu_epi32(q_mask, q + c \/ 2)/|avx512bf16|Bf16Dot.DecodeScoresMatchTheDefinitionAtEveryTileEdge
pair_dot_skips_last_key|src/flash/flash_avx512bf16.cpp|s/for \(; j < bk; \+\+j\) pair_dot_tile<R, 1>/for (; j + 1 < bk; ++j) pair_dot_tile<R, 1>/|avx512bf16|Bf16Dot.DecodeScoresMatchTheDefinitionAtEveryTileEdge
pair_column_swaps_quads|src/flash/flash_avx512bf16.cpp|s/return i < 16 \? 8 \* \(i \/ 4\) \+ i % 4 : 8 \* \(\(i - 16\) \/ 4\) \+ 4 \+ i % 4;/return i < 16 ? 8 * (i \/ 4) + 4 + i % 4 : 8 * ((i - 16) \/ 4) + i % 4;/|avx512bf16|Bf16Dot.DecodeWeightedSumMatchesTheDefinition
pair_pv_drops_last_pairs_second|src/flash/flash_avx512bf16.cpp|s/const __m512i second = j \+ 1 < bk \?/const __m512i second = j + 2 < bk ?/|avx512bf16|Bf16Dot.DecodeWeightedSumMatchesTheDefinition
pair_pv_tail_reads_first_chunk|src/flash/flash_avx512bf16.cpp|s/x \+= s\[r \* lds \+ j0 \+ j\]/x += s[r * lds + j]/|avx512bf16|Bf16Dot.DecodeWeightedSumMatchesTheDefinition
decode_pairs_skip_last_row|src/flash/flash_avx512bf16.cpp|s/for \(i64 r = 0; r < rows; \+\+r\) round_to_bf16_pairs/for (i64 r = 0; r + 1 < rows; ++r) round_to_bf16_pairs/|avx512bf16|Bf16Dot.FlashDecodeBothPathsWithinBound
parallel_region_binds_to_callers_team|src/parallel.hpp|s/threads <= 1 && !omp_in_parallel\(\)/threads <= 1/|sse2|Determinism.OneThreadCallsFromTheCallersOwnThreadsGiveIdenticalBits
LIST
)
emulate=OFF configure=() run=()
case ${1:-} in
  --emulate-avx512) emulate=ON; work=$root/build/mutants-emu; shift ;;
  --aarch64)
    work=$root/build/mutants-aarch64; shift
    configure=(-DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake)
    run=(qemu-aarch64-static -L /) ;;
esac
want=("$@")
rm -rf "$work/src"
mkdir -p "$work/src" "$work/build"
git -C "$root" archive HEAD | tar -x -C "$work/src"
(cd "$work/src" && cmake -S . -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DATTN_EMULATE_AVX512=$emulate "${configure[@]}" >/dev/null)
# The tiers this CPU runs (avx512 on any AVX2 CPU when emulated; neon in the aarch64 build), and
# avx512bf16 for the bf16 products of CPUs with AVX512_BF16 (never emulated).
have=$(grep -o -w -E 'sse2|avx2|avx512f|avx512_bf16' /proc/cpuinfo | sort -u |
  sed 's/avx512f/avx512/; s/avx512_bf16/avx512bf16/')
if [[ $emulate == ON && $have == *avx2* ]]; then have+=$'\navx512'; fi
if ((${#run[@]})) || [[ $(uname -m) == aarch64 ]]; then have=neon; fi
cmake --build "$work/build" --target attn_tests -j"$(nproc)" >/dev/null 2>&1
survived=0 checked=0
while IFS='|' read -r name file subst tier filter; do
  if ((${#want[@]})) && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
  if ! grep -qw "$tier" <<<"$have"; then
    echo "not checked: $name (this CPU lacks $tier)"; continue
  fi
  cp "$work/src/$file" "$work/pristine"
  perl -0pi -e "$subst" "$work/src/$file"
  if cmp -s "$work/src/$file" "$work/pristine"; then
    echo "mutants.sh: $name: the substitution matches nothing in $file" >&2; exit 2
  fi
  if ! cmake --build "$work/build" --target attn_tests -j"$(nproc)" >"$work/build.log" 2>&1; then
    echo "mutants.sh: $name does not compile (see $work/build.log)" >&2; cp "$work/pristine" "$work/src/$file"; exit 2
  fi
  checked=$((checked + 1))
  if "${run[@]}" "$work/build/attn_tests" --gtest_filter="$filter" --gtest_brief=1 >"$work/$name.log" 2>&1; then
    echo "SURVIVED: $name ($tier): $filter passed"; survived=$((survived + 1))
  else
    echo "killed:   $name ($tier) by $filter"
  fi
  cp "$work/pristine" "$work/src/$file"
done <<<"$mutants"
cmake --build "$work/build" --target attn_tests -j"$(nproc)" >/dev/null 2>&1
echo "mutants: $checked checked, $survived survived"
((survived == 0))
