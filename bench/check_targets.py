#!/usr/bin/env python3
"""Checks an attnbench Google Benchmark JSON file against the project's performance targets.

    build/release/attnbench run --preset bench/targets_shapes.txt --heads 8 --stage peak,attention \
        --variant flash,openblas --benchmark_out=r.json --benchmark_out_format=json
    build/release/attnbench run --preset bench/targets_shapes.txt --heads 32,71 --stage peak,attention \
        --variant flash --threads 1,2 --benchmark_out=d.json --benchmark_out_format=json
    build/release/attnbench run --stage softmax,projection --seq 1024,2048 --dim 128 \
        --benchmark_out=s.json --benchmark_out_format=json [--benchmark_repetitions=5]
    build/release/attnbench run --preset bench/baseline_shapes.txt --stage attention \
        --variant flash,onednn --threads 1,2 --benchmark_out=b.json --benchmark_out_format=json
    build/release/attnbench run --stage projection --variant omp,onednn,openblas --threads 1,2 \
        --shape n:2048/h:8/d:128,n:2048/h:32/d:128 --benchmark_out=p.json --benchmark_out_format=json
    build/release/attnbench run --stage projection,attention,multihead --variant omp,flash --threads 2 \
        --shape n:2048/h:32/d:128/causal --benchmark_filter='^(projection/omp|attention/flash|multihead/flash)/' \
        --benchmark_out=m.json --benchmark_out_format=json
    /usr/bin/python3 bench/check_targets.py b.json p.json m.json r.json d.json s.json

(bench/targets.sh runs exactly what the targets need, with interleaved repetitions. The oneDNN
comparisons' runs, b.json and p.json, come first: a ratio is taken in the last file that measured both of
its benchmarks, so the targets keep reading the flash rows of their own runs.)

Prints one line per target (measured ratio, threshold, PASS / FAIL / MISSING), then a Markdown
table of the benchmarks involved with their GFLOP/s and share of the FMA peak, their GB/s and
share of the memory bandwidth probe (peak/stream), each probe of the same run at the same thread
count. Then a second section, "Against oneDNN (both GFLOP/s; ...)": one line per ratio of
GFLOP/s, flash / onednn attention at n 128, 512, 2048, d 64, 128, 1 and 2 threads, causal and not
(8 heads), and omp / onednn projection at n:2048 with d_model 1024 (h:8 d:128) and 4096 (h:32
d:128), 1 and 2 threads, then the same as a Markdown table (comparison, shape, ratio, both
GFLOP/s); a comparison without one of its benchmarks says missing. The section itself never
changes the exit status (target 15 holds the attention ratios to their thresholds). Exits 1 when
a target fails (with --strict also when one is missing). With repetitions the median aggregate
rows are used, else the median of the iteration rows of each name. Several files may be given:
each ratio is taken within the last file that measured all of its benchmarks (a ratio of one
run, as the targets mean), else across files, marked so, with a name found in more than one file
keeping the last. Standard library only.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import ResultError, isa_order, load_result, medians  # noqa: E402

PEAK_ISAS = tuple(reversed(isa_order()[1:-1]))  # the tiers, widest first


def load(paths):
    """[(path, {name: results.medians() entry: "gflops", "gbps", "seconds", "error", "fields"})]
    of each file in order, with the benchmarks it measured (those that only erred or were skipped
    are left out)."""
    runs = []
    for path in paths:
        runs.append((path, {name: m for name, m in medians(load_result(path), path).items()
                            if m["seconds"] is not None}))
    return runs


def shape(d, t, n=None, nq=None, nkv=None, h=8, kv=None, causal=False):
    """A shape's text as attnbench prints it: n: (or nq:/nkv:), h:, kv: when it differs from h:,
    d:, t:, causal."""
    s = f"n:{n}" if n is not None else f"nq:{nq}/nkv:{nkv}"
    s += f"/h:{h}" + (f"/kv:{kv}" if kv is not None and kv != h else "")
    return s + f"/d:{d}/t:{t}" + ("/causal" if causal else "")


def attention(variant, n, d, t, causal=False, stage="attention", isa="best"):
    """The benchmark name of a stage at n:n/h:8/d:d/t:t, the head count of targets 1-7."""
    return f"{stage}/{variant}/{isa}/" + shape(d, t, n=n, causal=causal)


def causal_flash(t, d=128, n=None, nq=None, nkv=None, h=32, kv=None):
    """The benchmark name of causal flash attention (best ISA) at a shape of targets 8-12."""
    return "attention/flash/best/" + shape(d, t, n=n, nq=nq, nkv=nkv, h=h, kv=kv, causal=True)


def plain(fields, n, t):
    """Whether kernel fields are a shape that attention() names without causal: n:n/h:8 at t
    threads, batch 1, as many K/V heads as heads, the dot product at the default scale."""
    return (fields["n_q"] == fields["n_kv"] == n and fields["heads"] == 8 and fields["threads"] == t
            and fields.get("kv_heads", fields["heads"]) == fields["heads"]
            and fields["batch"] == 1 and not fields["causal"] and fields["similarity"] == "dot"
            and not fields["scale_given"])


def widest_isa(fields, variant):
    """The widest ISA tier of the peak probe `variant` (fma, stream) that the fields hold, None
    when none."""
    isas = [i for i in PEAK_ISAS
            if any(f["stage"] == "peak" and f["variant"] == variant and f["isa"] == i for f in fields)]
    return isas[0] if isas else None


class Checker:
    def __init__(self, runs):
        """runs: load()'s list of (path, {name: entry}), or one {name: entry}."""
        self.runs = [("result", runs)] if isinstance(runs, dict) else list(runs)
        self.results = {}  # every run's benchmarks, a name in several runs keeping the last
        for _, run in self.runs:
            self.results.update(run)
        self.used = []  # benchmark names the targets read, in order, for the table
        self.lines = []
        self.failed = self.missing = False
        fields = [r["fields"] for r in self.results.values() if r["fields"]]
        self.peak_isa = widest_isa(fields, "fma")
        self.stream_isa = widest_isa(fields, "stream")

    def peak(self, t):
        return f"peak/fma/{self.peak_isa or PEAK_ISAS[0]}/t:{t}"

    def stream(self, t):
        return f"peak/stream/{self.stream_isa or PEAK_ISAS[0]}/t:{t}"

    def value(self, name, metric="gflops", run=None):
        """The metric ("gflops", "gbps" or "seconds") of a benchmark (in the run given, else the
        last that measured it), None when it is missing; notes the name for the table."""
        if name not in self.used:
            self.used.append(name)
        row = (self.results if run is None else run).get(name)
        return None if row is None else row[metric]

    def values(self, names, metric="gflops"):
        """(missing, [the metric of each name]): taken in the last run that measured them all,
        else across runs and then marked by self.across (which report() reads); missing lists the
        names without the metric (and the values are None)."""
        for _, run in reversed(self.runs):
            found = [self.value(n, metric, run) for n in names]
            if all(v is not None for v in found):
                self.across = False
                return [], found
        found = [self.value(n, metric) for n in names]
        missing = [n for n, v in zip(names, found) if v is None]
        self.across = not missing
        return (missing, None) if missing else ([], found)

    def ratio(self, num, den, metric="gflops"):
        """(missing, num / den of the metric), both of one run where a run has both (values())."""
        missing, found = self.values([num, den], metric)
        if missing:
            return missing, None
        return [], found[0] / found[1] if found[1] else float("inf")

    across = False  # whether the last ratio() paired benchmarks of different runs

    def report(self, label, missing, ratio, threshold, at_least=True, across=None):
        op = ">=" if at_least else "<="
        if missing:
            self.missing = True
            status, measured = "MISSING", "-"
            label += " (no " + ", ".join(missing) + ")"
        else:
            ok = ratio >= threshold if at_least else ratio <= threshold
            status, measured = ("PASS" if ok else "FAIL"), f"{ratio:.3f}"
            self.failed |= not ok
            if self.across if across is None else across:
                label += " [across result files]"
        self.lines.append(f"{status:7} {label}: ratio {measured} (target {op} {threshold})")

    def present(self, *names):
        return any(n in self.results for n in names)


def check(runs):
    """The Checker of load()'s runs (or of one {name: entry}) with every target reported."""
    c = Checker(runs)
    flash128, flash64 = attention("flash", 2048, 128, 2), attention("flash", 2048, 64, 2)

    # 1, 2: flash attention against the FMA peak at two threads.
    for target, (name, d, threshold) in enumerate(((flash128, 128, 0.75), (flash64, 64, 0.65)), 1):
        missing, r = c.ratio(name, c.peak(2))
        c.report(f"{target}. flash attention n:2048 d:{d} t:2 / peak t:2", missing, r, threshold)

    # 3: flash against attention on OpenBLAS (d:64 only when the run has it).
    for d in (128, 64):
        blas = attention("openblas", 2048, d, 2)
        flash = flash128 if d == 128 else flash64
        if d == 64 and not c.present(flash, blas):
            continue
        missing, r = c.ratio(flash, blas)
        c.report(f"3. flash / openblas attention n:2048 d:{d} t:2 (GFLOP/s)", missing, r, 2.0)

    # 4: a causal mask must save nearly half the time (target 16 tightens it, on the same ratio).
    causal_missing, causal_ratio = c.ratio(attention("flash", 2048, 128, 2, causal=True), flash128, metric="seconds")
    causal_across = c.across
    c.report("4. flash attention n:2048 d:128 t:2 time causal / non-causal", causal_missing, causal_ratio, 0.55,
             at_least=False, across=causal_across)

    # 5: SIMD softmax against the naive one (d does not matter to softmax: prefer 128).
    def softmax(variant, isa, d):
        return attention(variant, 2048, d, 1, stage="softmax", isa=isa)

    dims = sorted({f["head_dim"] for r in c.results.values() if (f := r["fields"])
                   and f["stage"] == "softmax" and f["variant"] in ("simd", "naive") and plain(f, 2048, 1)},
                  key=lambda d: (d != 128, d))
    d = next((d for d in dims if c.present(softmax("simd", "avx512", d)) and c.present(softmax("naive", "scalar", d))),
             dims[0] if dims else 128)
    missing, r = c.ratio(softmax("simd", "avx512", d), softmax("naive", "scalar", d))
    c.report(f"5. softmax simd/avx512 / naive n:2048 d:{d} t:1", missing, r, 8.0)

    # 6: OpenMP projection against OpenBLAS (t:1 only when the run has it).
    for t in (2, 1):
        omp = attention("omp", 1024, 128, t, stage="projection")
        blas = attention("openblas", 1024, 128, t, stage="projection")
        if t == 1 and not c.present(omp, blas):
            continue
        missing, r = c.ratio(omp, blas)
        c.report(f"6. projection omp / openblas n:1024 d:128 t:{t}", missing, r, 0.85)

    # 7: flash scales from one thread to two as well as the FMA peak does.
    flash1 = attention("flash", 2048, 128, 1)
    missing_f, rf = c.ratio(flash128, flash1)
    across = c.across
    missing_p, rp = c.ratio(c.peak(2), c.peak(1))
    missing = missing_f + missing_p
    c.report("7. flash speed-up t:2/t:1 n:2048 d:128 / peak speed-up t:2/t:1", missing,
             None if missing else rf / rp, 0.90, across=across or c.across)

    # 8, 9: decoding one token of grouped-query attention (Llama-3-8B's 32 query heads on 8 K/V
    # heads of 128) streams the K/V cache: its GB/s against the bandwidth probe at two threads.
    for target, nkv in ((8, 8192), (9, 32768)):
        missing, r = c.ratio(causal_flash(2, nq=1, nkv=nkv, kv=8), c.stream(2), metric="gbps")
        c.report(f"{target}. flash decode nq:1 nkv:{nkv} h:32 kv:8 d:128 t:2 GB/s / stream t:2", missing, r, 0.80)

    # 10: grouped-query prefill is as fast per FLOP as multi-head prefill of the same query heads.
    missing, r = c.ratio(causal_flash(2, n=2048, kv=8), causal_flash(2, n=2048))
    c.report("10. flash GQA / MHA prefill n:2048 h:32 kv:8 / h:32 d:128 t:2 (GFLOP/s)", missing, r, 0.95)

    # 11: decoding with a single K/V head (Falcon-7B: 71 query heads, multi-query) splits the cache
    # across threads instead of giving each head a thread: two threads nearly double one.
    falcon = dict(d=64, nq=1, nkv=8192, h=71, kv=1)
    missing, r = c.ratio(causal_flash(2, **falcon), causal_flash(1, **falcon))
    c.report("11. flash split-KV decode nq:1 nkv:8192 h:71 kv:1 d:64 speed-up t:2/t:1", missing, r, 1.8)

    # 12: the multi-head block at Llama-2-7B widths (32 heads of 128, d_model 4096, causal) takes
    # little more than its parts: four projections and the attention, each measured alone.
    llama = dict(n=2048, h=32, causal=True)
    block = "multihead/flash/best/" + shape(128, 2, **llama)
    projection = "projection/omp/best/" + shape(128, 2, **llama)
    missing, found = c.values([block, projection, causal_flash(2, n=2048)], metric="seconds")
    c.report("12. multihead flash n:2048 h:32 d:128 t:2 causal time / (4 projections + attention)", missing,
             None if missing else found[0] / (4 * found[1] + found[2]), 1.15, at_least=False)

    # 13: the project's projection at d_model 4096 keeps up with OpenBLAS.
    for t in (1, 2):
        missing, r = c.ratio(*(f"projection/{v}/best/" + shape(128, t, n=2048, h=32) for v in ("omp", "openblas")))
        c.report(f"13. projection omp / openblas n:2048 h:32 d:128 (d_model 4096) t:{t}", missing, r, 0.95)

    # 14: flash attention nearer the FMA peak, the short BERT sentence included.
    for n, d, threshold in ((2048, 128, 0.85), (2048, 64, 0.80), (128, 64, 0.65), (128, 128, 0.65)):
        missing, r = c.ratio(attention("flash", n, d, 2), c.peak(2))
        c.report(f"14. flash attention n:{n} d:{d} t:2 / peak t:2", missing, r, threshold)

    # 15: flash against oneDNN's unfused attention (matmul, softmax, matmul) of the same run.
    for causal in (False, True):
        for n in (128, 512, 2048):
            if causal and n < 512:
                continue
            threshold = 2.0 if causal else 1.15 if n == 128 else 1.5
            for d in (64, 128):
                for t in (1, 2):
                    text = shape(d, t, n=n, causal=causal)
                    missing, r = c.ratio(f"attention/flash/best/{text}", f"attention/onednn/best/{text}")
                    c.report(f"15. flash / onednn attention {text.replace('/', ' ')} (GFLOP/s)", missing, r,
                             threshold)

    # 16: target 4 tightened: the causal mask saves more than 47% of the time.
    c.report("16. flash attention n:2048 d:128 t:2 time causal / non-causal", causal_missing, causal_ratio, 0.53,
             at_least=False, across=causal_across)
    return c


BASELINE_HEADER = "Against oneDNN (both GFLOP/s; target 15 judges the attention ratios)"


class Baseline:
    """One comparison with oneDNN: GFLOP/s of ours (num) over onednn's (den) at one shape."""

    def __init__(self, stage, ours, shape_text, note=""):
        self.stage, self.ours, self.shape, self.note = stage, ours, shape_text, note
        self.num = f"{stage}/{ours}/best/{shape_text}"
        self.den = f"{stage}/onednn/best/{shape_text}"
        self.a = self.b = None  # their GFLOP/s, None when missing
        self.across = False     # whether a and b come from different files

    def comparison(self):
        return f"{self.stage} {self.ours} / onednn"

    def shape_label(self):
        return self.shape.replace("/", " ") + (f" ({self.note})" if self.note else "")

    def missing(self):
        return [n for n, v in ((self.num, self.a), (self.den, self.b)) if v is None]

    def ratio(self):
        if self.missing():
            return None
        return self.a / self.b if self.b else float("inf")

    def line(self):
        label = f"{self.comparison()} {self.shape_label()}"
        if self.missing():
            return f"  {label}: missing (no {', '.join(self.missing())})"
        across = " [across result files]" if self.across else ""
        return (f"  {label}: ratio {self.ratio():.3f} ({self.ours} {self.a:.1f}, onednn {self.b:.1f} "
                f"GFLOP/s){across}")


def baselines(runs):
    """The oneDNN comparisons of load()'s runs (or of one {name: entry}), in the order printed:
    flash / onednn attention, then omp / onednn projection. Each pair of GFLOP/s comes from the last
    run that measured both, else from the last run that measured each (then marked across)."""
    c = Checker(runs)  # a Checker of its own: the targets' table keeps to the targets' benchmarks
    rows = []
    for n in (128, 512, 2048):
        for d in (64, 128):
            for t in (1, 2):
                for causal in (False, True):
                    rows.append(Baseline("attention", "flash", shape(d, t, n=n, causal=causal)))
    for h in (8, 32):
        for t in (1, 2):
            rows.append(Baseline("projection", "omp", shape(128, t, n=2048, h=h), f"d_model {h * 128}"))
    for row in rows:
        for _, run in reversed(c.runs):
            a, b = c.value(row.num, run=run), c.value(row.den, run=run)
            if a is not None and b is not None:
                row.a, row.b = a, b
                break
        else:
            row.a, row.b = c.value(row.num), c.value(row.den)
            row.across = not row.missing()
    return rows


def baseline_table(rows):
    """The Markdown table of the oneDNN comparisons."""
    out = ["| comparison | shape | ratio | GFLOP/s (ours) | GFLOP/s (oneDNN) |",
           "| --- | --- | ---: | ---: | ---: |"]
    number = lambda v: "-" if v is None else f"{v:.1f}"
    for row in rows:
        r = row.ratio()
        ratio = "missing" if r is None else f"{r:.3f}" + (" (across files)" if row.across else "")
        out.append(f"| {row.comparison()} | {row.shape_label()} | {ratio} | {number(row.a)} | {number(row.b)} |")
    return "\n".join(out)


def table(c):
    """The Markdown table of the benchmarks the targets read that have GFLOP/s or GB/s, the probes
    first: GFLOP/s and % of the FMA peak, GB/s and % of the bandwidth probe, each probe of the same
    file at the same thread count; with several files, a first column names the file."""
    several = len(c.runs) > 1
    rows = ["| " + ("file | " if several else "") + "kernel | shape | GFLOP/s | % of peak | GB/s | % of bandwidth |",
            "| " + ("--- | " if several else "") + "--- | --- | ---: | ---: | ---: | ---: |"]

    def share(value, probe, metric):
        return f"{100 * value / probe[metric]:.0f} %" if value is not None and probe and probe[metric] else "-"

    for path, run in c.runs:
        found = {n: run[n] for n in c.used if n in run and run[n]["fields"]
                 and (run[n]["gflops"] is not None or run[n]["gbps"] is not None)}
        for name in sorted(found, key=lambda n: (found[n]["fields"]["stage"] != "peak", n)):
            row, f = found[name], found[name]["fields"]
            kernel = f"{f['stage']}/{f['variant']}/{f['isa']}"
            shape = f"t:{f['threads']}" if f["stage"] == "peak" else f["shape"].replace("/", " ")
            peak = run.get(c.peak(f["threads"])) if c.peak_isa else None
            stream = run.get(c.stream(f["threads"])) if c.stream_isa else None
            number = lambda v: "-" if v is None else f"{v:.1f}"
            rows.append("| " + (f"{os.path.basename(path)} | " if several else "")
                        + f"{kernel} | {shape} | {number(row['gflops'])} | {share(row['gflops'], peak, 'gflops')} | "
                        + f"{number(row['gbps'])} | {share(row['gbps'], stream, 'gbps')} |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", help="Google Benchmark JSON output of attnbench run")
    parser.add_argument("--strict", action="store_true",
                        help="a missing benchmark of a target fails as well (the oneDNN comparisons never fail)")
    args = parser.parse_args()
    try:
        results = load(args.results)
    except ResultError as e:
        print(f"check_targets: cannot read results: {e}", file=sys.stderr)
        return 2
    c = check(results)
    print(f"peak: peak/fma/{c.peak_isa}" if c.peak_isa else "peak: no peak/fma rows (run with --stage peak)")
    print(f"bandwidth: peak/stream/{c.stream_isa}" if c.stream_isa
          else "bandwidth: no peak/stream rows (run with --stage peak)")
    print("\n".join(c.lines))
    print()
    print(table(c))
    rows = baselines(results)
    print()
    print(BASELINE_HEADER + ":")
    print("\n".join(row.line() for row in rows))
    print()
    print(baseline_table(rows))
    return 1 if c.failed or (args.strict and c.missing) else 0


if __name__ == "__main__":
    sys.exit(main())
