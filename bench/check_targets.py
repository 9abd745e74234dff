#!/usr/bin/env python3
"""Checks an attnbench Google Benchmark JSON file against the project's performance targets.

    build/release/attnbench run --preset bench/targets_shapes.txt --stage peak,attention \
        --variant flash,openblas --benchmark_out=r.json --benchmark_out_format=json
    build/release/attnbench run --stage softmax,projection --seq 1024,2048 --dim 128 \
        --benchmark_out=s.json --benchmark_out_format=json [--benchmark_repetitions=5]
    /usr/bin/python3 bench/check_targets.py r.json s.json

(bench/targets.sh runs exactly what the targets need, with interleaved repetitions.)

Prints one line per target (measured ratio, threshold, PASS / FAIL / MISSING), then a Markdown
table of the benchmarks involved with their share of the FMA peak at the same thread count.
Exits 1 when a target fails (with --strict also when one is missing). With repetitions the median
aggregate rows are used, else the median of the iteration rows of each name. Several files may be
given; a name found in more than one keeps the last.
Standard library only.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import ResultError, isa_order, load_result, medians  # noqa: E402

PEAK_ISAS = tuple(reversed(isa_order()[1:-1]))  # the tiers, widest first


def load(paths):
    """{name: results.medians() entry: "gflops", "seconds", "error", "fields"} of the benchmarks
    that one or more files measured (those that only erred or were skipped are left out)."""
    results = {}
    for path in paths:
        for name, m in medians(load_result(path), path).items():
            if m["seconds"] is not None:
                results[name] = m
    return results


def attention(variant, n, d, t, causal=False, stage="attention", isa="best"):
    """The benchmark name of a stage at n:n/h:8/d:d/t:t, the one head count the targets use."""
    return f"{stage}/{variant}/{isa}/n:{n}/h:8/d:{d}/t:{t}" + ("/causal" if causal else "")


def plain(fields, n, t):
    """Whether kernel fields are a shape that attention() names without causal: n:n/h:8 at t
    threads, batch 1, the dot product at the default scale."""
    return (fields["n_q"] == fields["n_kv"] == n and fields["heads"] == 8 and fields["threads"] == t
            and fields["batch"] == 1 and not fields["causal"] and fields["similarity"] == "dot"
            and not fields["scale_given"])


class Checker:
    def __init__(self, results):
        self.results = results
        self.used = []  # benchmark names the targets read, in order, for the table
        self.lines = []
        self.failed = self.missing = False
        fields = [r["fields"] for r in results.values() if r["fields"]]
        isas = [i for i in PEAK_ISAS
                if any(f["stage"] == "peak" and f["variant"] == "fma" and f["isa"] == i for f in fields)]
        self.peak_isa = isas[0] if isas else None

    def peak(self, t):
        return f"peak/fma/{self.peak_isa or PEAK_ISAS[0]}/t:{t}"

    def value(self, name, metric="gflops"):
        """The metric ("gflops" or "seconds") of a benchmark, None when it is missing; notes the
        name for the table."""
        if name not in self.used:
            self.used.append(name)
        row = self.results.get(name)
        return None if row is None else row[metric]

    def ratio(self, num, den, metric="gflops"):
        """num / den of the metric, or the list of names that are missing."""
        a, b = self.value(num, metric), self.value(den, metric)
        missing = [n for n, v in ((num, a), (den, b)) if v is None]
        return (missing, None) if missing else ([], a / b if b else float("inf"))

    def report(self, label, missing, ratio, threshold, at_least=True):
        op = ">=" if at_least else "<="
        if missing:
            self.missing = True
            status, measured = "MISSING", "-"
            label += " (no " + ", ".join(missing) + ")"
        else:
            ok = ratio >= threshold if at_least else ratio <= threshold
            status, measured = ("PASS" if ok else "FAIL"), f"{ratio:.3f}"
            self.failed |= not ok
        self.lines.append(f"{status:7} {label}: ratio {measured} (target {op} {threshold})")

    def present(self, *names):
        return any(n in self.results for n in names)


def check(results):
    c = Checker(results)
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

    # 4: a causal mask must save nearly half the time.
    missing, r = c.ratio(attention("flash", 2048, 128, 2, causal=True), flash128, metric="seconds")
    c.report("4. flash attention n:2048 d:128 t:2 time causal / non-causal", missing, r, 0.55, at_least=False)

    # 5: SIMD softmax against the naive one (d does not matter to softmax: prefer 128).
    def softmax(variant, isa, d):
        return attention(variant, 2048, d, 1, stage="softmax", isa=isa)

    dims = sorted({f["head_dim"] for r in results.values() if (f := r["fields"])
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
    missing_p, rp = c.ratio(c.peak(2), c.peak(1))
    missing = missing_f + missing_p
    c.report("7. flash speed-up t:2/t:1 n:2048 d:128 / peak speed-up t:2/t:1", missing,
             None if missing else rf / rp, 0.90)
    return c


def table(c):
    """The Markdown table of the benchmarks the targets read that have GFLOP/s, the peak first."""
    rows = ["| kernel | shape | GFLOP/s | % of peak |", "| --- | --- | ---: | ---: |"]
    found = {n: c.results[n] for n in c.used if n in c.results and c.results[n]["gflops"] is not None}
    for name in sorted(found, key=lambda n: (found[n]["fields"]["stage"] != "peak", n)):
        row, f = found[name], found[name]["fields"]
        kernel = f"{f['stage']}/{f['variant']}/{f['isa']}"
        shape = f"t:{f['threads']}" if f["stage"] == "peak" else f["shape"].replace("/", " ")
        peak = c.results.get(c.peak(f["threads"])) if c.peak_isa else None
        share = f"{100 * row['gflops'] / peak['gflops']:.0f} %" if peak and peak["gflops"] else "-"
        rows.append(f"| {kernel} | {shape} | {row['gflops']:.1f} | {share} |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", help="Google Benchmark JSON output of attnbench run")
    parser.add_argument("--strict", action="store_true", help="a missing benchmark fails as well")
    args = parser.parse_args()
    try:
        results = load(args.results)
    except ResultError as e:
        print(f"check_targets: cannot read results: {e}", file=sys.stderr)
        return 2
    c = check(results)
    print(f"peak: peak/fma/{c.peak_isa}" if c.peak_isa else "peak: no peak/fma rows (run with --stage peak)")
    print("\n".join(c.lines))
    print()
    print(table(c))
    return 1 if c.failed or (args.strict and c.missing) else 0


if __name__ == "__main__":
    sys.exit(main())
