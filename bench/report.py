#!/usr/bin/env python3
"""attnbench report: turns a result of `attnbench run` into a Markdown report with PNG plots.

    attnbench report RESULT.json [--out DIR]             -> DIR/REPORT.md, DIR/plots/*.png
    attnbench report BEFORE.json AFTER.json [--out DIR]  -> DIR/COMPARE.md, DIR/plots/compare-*.png

DIR defaults to the folder of the first result (results/<fingerprint>/ for a saved run). The
summary table is also printed. Every figure is the median over repetitions when the run had
repetitions. % of peak divides by the FMA peak the same run measured at the same thread count
(a kernel that did most of its work by vdpbf16ps, by its dot_share counter, by the bf16 dot-product
peak, peak/bf16dot; one that did most of it on AMX tiles, by its amx_share counter, by the tile
peak, peak/amx),
% of bw a kernel's GB/s (the least bytes a call must move / its time) by the memory bandwidth
probe (peak/stream) of the same run at the same thread count; "x naive" divides by the naive
kernel of the stage at the same shape. A roofline plot per thread count puts the fastest kernel of
every stage and shape against both ceilings. A result without the bandwidth probe (older runs)
reports the same without % of bw and without the bandwidth ceiling. Bad input gets one line on
stderr and exit status 2; the Markdown is written before the plots, so a missing matplotlib
loses no table.
"""

import argparse
import math
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import ResultError, isa_order, load_result, medians  # noqa: E402

STAGES = ["scores", "softmax", "weighted_sum", "attention", "projection", "multihead", "layer"]


class BadInput(Exception):
    """One line for the user: what is wrong with which file."""


class Family:
    """Shapes that differ only in sequence length: one table and one plot per stage. The length
    is n for square shapes; a rectangular family (n_q != n_kv) holds n_q and varies n_kv. The K/V
    heads are part of the family, so grouped-query and multi-head shapes never share one."""

    def __init__(self, h, d, b, causal, cosine, n_q=None, scale=None, kv=None, layer=""):
        """n_q: None for square shapes; scale: None for the default 1/sqrt(d); kv: the K/V heads,
        None for as many as the heads h; layer: the layer stage's own fields as labelled
        ("ff=11008 swiglu rope rms"), empty for the defaults and the other stages."""
        self.h, self.d, self.b, self.causal, self.cosine = h, d, b, causal, cosine
        self.n_q, self.scale = n_q, scale
        self.kv = h if kv is None else kv
        self.layer = layer if isinstance(layer, str) else ""

    @classmethod
    def of(cls, fields):
        """The family of a kernel's descriptor fields."""
        square = fields["n_q"] == fields["n_kv"]
        return cls(fields["heads"], fields["head_dim"], fields["batch"], fields["causal"],
                   fields["similarity"] == "cosine", None if square else fields["n_q"],
                   fields["scale"] if fields["scale_given"] else None, fields.get("kv_heads"),
                   fields.get("layer", ""))

    def key(self):
        # Square shapes (no n_q), the default scale and as many K/V heads as heads sort as 0:
        # families with none of them keep the order of their sizes, and come first.
        return (self.d, self.h, 0 if self.kv == self.h else self.kv, self.b, self.causal, self.cosine,
                self.n_q or 0, self.scale or 0.0, self.layer)

    def _rest(self):
        """The label's part after the sequence lengths."""
        s = f"h={self.h}" + (f" kv={self.kv}" if self.kv != self.h else "")
        s += f" d={self.d}" + (f" b={self.b}" if self.b != 1 else "")
        s += f" scale={self.scale:g}" if self.scale is not None else ""
        return s + (" causal" if self.causal else "") + (" cosine" if self.cosine else "") + \
            (" " + self.layer if self.layer else "")

    def label(self):
        return (f"nq={self.n_q} " if self.n_q is not None else "") + self._rest()

    def axis(self):
        """The name of the length the family varies: n, or nkv for a rectangular family."""
        return "n" if self.n_q is None else "nkv"

    def at(self, n):
        """The shape at length n, as tables and titles name it: n=… h=… or nq=… nkv=… h=…."""
        return (f"n={n} " if self.n_q is None else f"nq={self.n_q} nkv={n} ") + self._rest()

    def slug(self):
        return self.label().replace("=", "").replace(" ", "-")

    def __eq__(self, other):
        return self.key() == other.key()

    def __hash__(self):
        return hash(self.key())


def _rates(table):
    """{threads: rate} of a context table such as {"1": 98.5, "2": 195.3}, leaving out entries
    that are not a thread count and a positive number."""
    out = {}
    for t, v in (table.items() if isinstance(table, dict) else ()):
        if isinstance(t, str) and t.isdigit() and not isinstance(v, bool) and isinstance(v, (int, float)) \
                and math.isfinite(v) and v > 0:
            out[int(t)] = float(v)
    return out


class Result:
    """One result file: kernel rows keyed (stage, family, n, kernel label), where n is the length
    the family varies, the FMA peak and the memory bandwidth probe by threads."""

    def __init__(self, path):
        self.path = path
        data = load_result(path)
        self.context = data.get("context", {})
        self.attn = self.context.get("attnbench", {})
        self.machine = self.attn.get("machine", {})
        self.models = self.attn.get("sweep", {}).get("models", {})
        self.rows = {}       # (stage, family, n, label) -> {"gflops", "gbps", "seconds", "skipped"}
        self.model_of = {}   # (family, n, dtype) -> the comment of the preset line of the shape
        self.peak = {}       # threads -> GFLOP/s of the FMA peak probe (peak/fma)
        self.bandwidth = {}  # threads -> GB/s of the memory bandwidth probe (peak/stream)
        self.bf16dot = {}    # threads -> GFLOP/s of the bf16 dot-product probe (peak/bf16dot)
        self.amx = {}        # threads -> GFLOP/s of the AMX tile probe (peak/amx)
        self.variants = {}   # label -> (variant, isa, t, dtype) for ordering
        self._load(medians(data, path))
        if not self.rows:
            raise BadInput(f"{path} holds no attnbench kernel rows")
        # Whether the run wrote dot_share counters (any row has one): runs from before it did not.
        self.counts_dot = any(row.get("dot_share") is not None for row in self.rows.values())
        # The probes' rows win; the context's tables fill in a run that kept only them.
        for t, v in _rates(self.attn.get("fma_peak_gflops", {})).items():
            self.peak.setdefault(t, v)
        for t, v in _rates(self.attn.get("stream_peak_gbps", {})).items():
            self.bandwidth.setdefault(t, v)

    def _load(self, benchmarks):
        for m in benchmarks.values():
            f = m["fields"]
            if f is None:
                continue
            if f["stage"] == "peak":
                if f["variant"] == "fma" and m["gflops"]:
                    self.peak[f["threads"]] = m["gflops"]
                elif f["variant"] == "stream" and m["gbps"]:
                    self.bandwidth[f["threads"]] = m["gbps"]
                elif f["variant"] == "bf16dot" and m["gflops"]:
                    self.bf16dot[f["threads"]] = m["gflops"]
                elif f["variant"] == "amx" and m["gflops"]:
                    self.amx[f["threads"]] = m["gflops"]
                continue
            fam, t, dtype = Family.of(f), f["threads"], f.get("dtype", "f32")
            # A 16-bit kernel is its own row beside the fp32 kernels of the same shape.
            label = f"{f['variant']}/{f['isa']}{'' if dtype == 'f32' else '/' + dtype} t:{t}"
            self.variants[label] = (f["variant"], f["isa"], t, dtype)
            key = (f["stage"], fam, f["n_kv"], label)
            self.rows[key] = {"gflops": m["gflops"], "gbps": m["gbps"], "seconds": m["seconds"],
                              "shares": m.get("shares", {}), "vs_steps_alone": m.get("vs_steps_alone"),
                              "amx_share": m.get("amx_share"), "dot_share": m.get("dot_share"),
                              "skipped": m["error"] if m["gflops"] is None else None}
            if f.get("model"):
                self.model_of[(fam, f["n_kv"], dtype)] = f["model"]

    def gflops(self, stage, fam, n, label):
        row = self.rows.get((stage, fam, n, label))
        return row["gflops"] if row else None

    def gbps(self, stage, fam, n, label):
        row = self.rows.get((stage, fam, n, label))
        return row["gbps"] if row else None

    def intensity(self, stage, fam, n, label):
        """Arithmetic intensity in FLOP per byte: GFLOP/s over GB/s of the same call."""
        g, b = self.gflops(stage, fam, n, label), self.gbps(stage, fam, n, label)
        return g / b if g and b else None

    def has_gbps(self):
        """Whether any kernel row carries the GB/s counter."""
        return any(row["gbps"] for row in self.rows.values())

    def naive_label(self):
        return "naive/scalar t:1"

    def speedup(self, stage, fam, n, label):
        g, base = self.gflops(stage, fam, n, label), self.gflops(stage, fam, n, self.naive_label())
        return g / base if g and base else None

    def on_tiles(self, key):
        """Whether the row at key (stage, family, n, label) did most of its work on AMX tiles: its
        amx_share counter, the share of its counted multiply-adds its AMX paths were called for."""
        return self._mostly(key, "amx_share")

    def _mostly(self, key, counter):
        """Whether the row at key carries `counter` (amx_share, dot_share) at a half or more."""
        row = self.rows.get(key) if key else None
        return bool(row and (row.get(counter) or 0) >= 0.5)

    def share(self, gflops, t, label=None, key=None):
        """GFLOP/s over the peak at t threads: the row at key (stage, family, n, label) that did most
        of its work on AMX tiles over the tile probe where the run measured it; one that did most
        of it by vdpbf16ps (its dot_share counter; in a run from before that counter, flash's
        avx512 kernel on bf16 where the run's bf16_products were vdpbf16ps) over the bf16
        dot-product probe where the run measured it; every other over the FMA peak (the widening
        path's products are FMAs)."""
        if self.counts_dot:
            own = self.bf16dot.get(t) if self._mostly(key, "dot_share") else None
        else:
            # A run from before the dot_share counter: flash's avx512 bf16 rows, as it measured.
            dot = str(self.machine.get("bf16_products", "")).startswith("vdpbf16ps")
            variant, isa, _, dtype = self.variants[label] if label else (None, None, None, None)
            own = (self.bf16dot.get(t) if dot and variant == "flash" and isa in ("avx512", "best")
                   and dtype == "bf16" else None)
        if self.on_tiles(key):
            own = self.amx.get(t) or own
        peak = own or self.peak.get(t)
        return gflops / peak if gflops and peak else None

    def bw_share(self, gbps, t):
        """GB/s over the bandwidth probe at the same thread count, None when either is missing."""
        bw = self.bandwidth.get(t)
        return gbps / bw if gbps and bw else None

    def fastest(self, stage, fam, n, threads=None, dtype="f32"):
        """(label, GFLOP/s) of the fastest kernel of a stage at a shape reading storage type dtype
        (among those at the thread count, when given), None when none was measured."""
        best = None
        for label in self.labels(stage, fam):
            g = self.gflops(stage, fam, n, label)
            if g and (threads is None or self.variants[label][2] == threads) \
                    and self.variants[label][3] == dtype and (best is None or g > best[1]):
                best = (label, g)
        return best

    def dtypes(self, stage, fam, n=None):
        """The storage types measured for a stage's family (at length n, when given), fp32 first."""
        found = {self.variants[k[3]][3] for k in self.rows if k[0] == stage and k[1] == fam and (n is None or k[2] == n)}
        return [d for d in DTYPES if d in found]

    def stages(self):
        return [s for s in STAGES if any(k[0] == s for k in self.rows)]

    def families(self, stage):
        fams = {k[1] for k in self.rows if k[0] == stage}
        return sorted(fams, key=Family.key)

    def ns(self, stage, fam):
        return sorted({k[2] for k in self.rows if k[0] == stage and k[1] == fam})

    def labels(self, stage, fam=None):
        found = {k[3] for k in self.rows if k[0] == stage and (fam is None or k[1] == fam)}
        order = {"naive": 0, "blocked": 1, "simd": 2, "omp": 3, "flash": 4, "openblas": 5, "onednn": 6}
        isa = {name: i for i, name in enumerate(isa_order())}
        dtypes = {"f32": 0, "bf16": 1, "f16": 2}
        return sorted(found, key=lambda l: (order.get(self.variants[l][0], 9), self.variants[l][0],
                                            isa.get(self.variants[l][1], 9),
                                            dtypes.get(self.variants[l][3], 9), self.variants[l][2]))

    def model(self, fam, n, short=False, dtype=None):
        """The comment of the preset line the shape came from in a storage type (None: the fp32
        line's, else any type's, as a preset may list a shape in one type only); short: the part
        before its colon."""
        found = [self.model_of.get((fam, n, t), "") for t in ([dtype] if dtype else DTYPES)]
        text = next((m for m in found if m), "")
        return text.split(":")[0].strip() if short else text

    def title(self):
        m = self.machine
        if not m:
            return os.path.basename(self.path)
        emulated = ", EMULATED: times measure the emulator" if m.get("emulated") else ""
        return (f"{m.get('cpu_model', '?')} ({self.attn.get('fingerprint', '?')}), "
                f"{m.get('date', '?')}, commit {m.get('commit', '?')}{emulated}")


def fmt(x, digits=1):
    return "—" if x is None else f"{x:.{digits}f}"


def pct(x):
    return "—" if x is None else f"{100 * x:.0f}%"


def times(x):
    if x is None:
        return "—"
    return f"{x:.0f}×" if x >= 10 else f"{x:.1f}×"


DTYPES = ("f32", "bf16", "f16")


def dtype_text(dtype):
    """What a shape's text gains for its storage type: nothing for fp32, " dt=bf16" otherwise."""
    return "" if dtype == "f32" else f" dt={dtype}"


def summary_header(r):
    """SUMMARY_HEADER, then GB/s when the kernel rows carry it and % of the bandwidth probe when
    the run measured that."""
    return SUMMARY_HEADER + (["GB/s"] if r.has_gbps() else []) + (["% of bw"] if r.has_gbps() and r.bandwidth else [])


def summary_rows(r):
    """Per stage and shape: the fastest kernel, its GFLOP/s, share of peak and speed-up over naive,
    then (see summary_header) its GB/s and share of the bandwidth probe."""
    rows = []
    gbps, bw = r.has_gbps(), r.has_gbps() and bool(r.bandwidth)
    for stage in r.stages():
        for fam in r.families(stage):
            for n in r.ns(stage, fam):
                for dtype in r.dtypes(stage, fam, n):
                    best = r.fastest(stage, fam, n, dtype=dtype)
                    if not best:
                        continue
                    label, g = best
                    t = r.variants[label][2]
                    model = r.model(fam, n, short=True, dtype=dtype)
                    row = [stage, fam.at(n) + dtype_text(dtype) + (f" ({model})" if model else ""), label,
                           fmt(g), pct(r.share(g, t, label, (stage, fam, n, label))),
                           times(r.speedup(stage, fam, n, label))]
                    b = r.gbps(stage, fam, n, label)
                    row += [fmt(b)] if gbps else []
                    row += [pct(r.bw_share(b, t))] if bw else []
                    rows.append(row)
    return rows


BLOCK_HEADER = ["shape", "block", "parts (fastest alone)", "block ms", "parts ms", "block / parts"]


def fastest_time(r, stage, fam, n, t, dtype="f32"):
    """(label, seconds) of the quickest kernel of a stage at a shape, thread count and storage
    type, None when none was measured there."""
    best = None
    for label in r.labels(stage, fam):
        row = r.rows.get((stage, fam, n, label))
        if row and row["gflops"] and row["seconds"] and r.variants[label][2] == t \
                and r.variants[label][3] == dtype and (best is None or row["seconds"] < best[1]):
            best = (label, row["seconds"])
    return best


def block_rows(r):
    """The multi-head block against its parts, per shape and thread count at which the run
    measured the multihead, projection and attention stages: the fastest block kernel's time, and
    the time of its parts each measured alone: two projections of d_model columns (Q and the
    output) and two of the K/V heads' width (K and V: kv/h of one) at the fastest projection
    kernel's time, plus the fastest attention kernel's time."""
    rows = []
    for fam in r.families("multihead"):
        for n in r.ns("multihead", fam):
            for t, dtype in sorted({r.variants[label][2:4] for label in r.labels("multihead", fam)},
                                   key=lambda td: (td[0], DTYPES.index(td[1]))):
                block, projection, attention = (fastest_time(r, stage, fam, n, t, dtype)
                                                for stage in ("multihead", "projection", "attention"))
                if not block or not projection or not attention:
                    continue
                projections = 2 + 2 * fam.kv / fam.h
                parts = projections * projection[1] + attention[1]
                model = r.model(fam, n, short=True, dtype=dtype)
                rows.append([fam.at(n) + dtype_text(dtype) + (f" ({model})" if model else ""), block[0],
                             f"{projections:g} × projection {projection[0].split(' ')[0]} + attention "
                             f"{attention[0].split(' ')[0]}", fmt(block[1] * 1e3), fmt(parts * 1e3),
                             f"{block[1] / parts:.2f}×"])
    return rows


def block_section(r):
    """The report's section on the multi-head block, empty when the run has no block to compare."""
    rows = block_rows(r)
    if not rows:
        return ""
    return ("## The multi-head block against its parts\n\n"
            "The fastest multihead kernel's time beside the time of its parts, each measured alone in this run at the "
            "same shape and thread count: the projections (Q and the output at d_model columns, K and V at "
            "the K/V heads' width) at the fastest projection kernel's time and the fastest attention kernel's. "
            "A block near 1.00× loses nothing between its steps.\n\n"
            + markdown_table(BLOCK_HEADER, rows, right_from=3) + "\n")


# The layer's steps in the order they run (attn/layer_steps.hpp's LayerStep).
LAYER_STEPS = ["embedding", "positions", "qkv", "rotary", "attention", "output", "norm1", "ffn_up", "activation", "ffn_down",
               "norm2"]


def layer_steps_of(r):
    """The steps the run's layer rows timed, in LAYER_STEPS order (any unknown step after them)."""
    found = {step for k, row in r.rows.items() if k[0] == "layer" for step in row.get("shares", {})}
    return [s for s in LAYER_STEPS if s in found] + sorted(found - set(LAYER_STEPS))


def layer_share_rows(r):
    """Per layer shape and thread count, the fastest layer kernel's time and each step's share of it
    (timed inside the call), then "other": the part of the call no step covers, and when the run
    measured the steps alone, the call's time over their sum."""
    steps, rows, alone = layer_steps_of(r), [], layer_has_steps_alone(r)
    for fam in r.families("layer"):
        for n in r.ns("layer", fam):
            for t in sorted({r.variants[label][2] for label in r.labels("layer", fam)}):
                best = fastest_time(r, "layer", fam, n, t)
                shares = r.rows[("layer", fam, n, best[0])].get("shares") if best else None
                if not shares:
                    continue
                model = r.model(fam, n, short=True)
                rest = 1.0 - sum(shares.values())
                rows.append([fam.at(n) + (f" ({model})" if model else ""), best[0], fmt(best[1] * 1e3, 2)]
                            + [pct(shares.get(s)) if shares.get(s, 0) >= 0.005 else "—" for s in steps]
                            + [pct(max(rest, 0.0))])
                if alone:
                    ratio = r.rows[("layer", fam, n, best[0])].get("vs_steps_alone")
                    rows[-1].append(f"{ratio:.2f}×" if ratio else "—")
    return rows


def layer_has_steps_alone(r):
    """Whether any layer row carries the vs_steps_alone counter (run --steps-alone)."""
    return any(row.get("vs_steps_alone") for k, row in r.rows.items() if k[0] == "layer")


def layer_section(r):
    """The report's section on where a layer call's time goes, empty without layer step shares."""
    rows = layer_share_rows(r)
    if not rows:
        return ""
    header = ["shape", "fastest layer kernel", "ms"] + layer_steps_of(r) + ["other"] \
        + (["÷ steps alone"] if layer_has_steps_alone(r) else [])
    return ("## Where the layer's time goes\n\n"
            "Each step's share of the fastest layer kernel's call at each shape and thread count, timed by the "
            "kernel between its steps as the layer runs (so each step finds the caches as the previous one left "
            "them). qkv is the three input projections with the head split, output the merge and the output "
            "projection, ffn_up the feed-forward's first product (SwiGLU's two), activation GELU or the gated SiLU "
            "(— where the kernel fuses it into ffn_up), norm1 and norm2 the residual sums with their norms; other "
            "is what no step covers; ÷ steps alone (runs with --steps-alone) is the call's time over the sum of its "
            "steps each timed by itself, with its own data in the caches: what chaining them costs. The plot follows attention's share of each layer kernel's call as the "
            "sequence grows.\n\n"
            + markdown_table(header, rows, right_from=2) + "\n\n![layer steps](plots/layer_steps.png)\n")


def markdown_table(header, rows, right_from=1):
    out = ["| " + " | ".join(header) + " |",
           "| " + " | ".join("---" if i < right_from else "---:" for i in range(len(header))) + " |"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def text_table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda row: "  ".join(str(x).ljust(w) if i < 3 else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


SUMMARY_HEADER = ["stage", "shape", "fastest kernel", "GFLOP/s", "% of peak", "× naive"]


def rates_text(rates, unit):
    return ", ".join(f"{rates[t]:.1f} {unit} at t:{t}" for t in sorted(rates)) or "not measured"


def onednn_text(m):
    """The oneDNN build of a machine context: "oneDNN 2.6.3 (OpenMP, avx2)" (version, threading
    runtime, ISA it dispatches), "oneDNN not built" when the build had none or the context predates
    the onednn variant."""
    version = m.get("onednn_version")
    if not version or version == "not built":
        return "oneDNN not built"
    return f"oneDNN {version} ({m.get('onednn_runtime') or '?'}, {m.get('onednn_isa') or '?'})"


def machine_section(r):
    m = r.machine
    probes = [f"- FMA peak measured in this run: {rates_text(r.peak, 'GFLOP/s')}",
              f"- Memory bandwidth probe (peak/stream: GB read per second) measured in this run: "
              f"{rates_text(r.bandwidth, 'GB/s')}"]
    if r.bf16dot:
        probes.append(f"- bf16 dot-product peak (peak/bf16dot: vdpbf16ps, the ceiling a bf16 kernel's % of "
                      f"peak is read against where its products ran on it) measured in this run: {rates_text(r.bf16dot, 'GFLOP/s')}")
    if r.amx:
        probes.append(f"- AMX tile peak (peak/amx: tdpbf16ps, the ceiling of a kernel that did most of its work on "
                      f"tiles) measured in this run: {rates_text(r.amx, 'GFLOP/s')}")
    if not m:
        return ("_The result carries no attnbench machine context (it was not saved by `attnbench run`)._\n\n"
                + "\n".join(probes) + "\n")
    caches = ", ".join(f"L{c.get('level')} {c.get('type', '').lower()} {c.get('size')}" for c in m.get("caches", []))
    lines = []
    if m.get("emulated") or m.get("isa_emulated"):
        # An emulator's times measure the emulator: say so before any figure.
        what = m.get("emulated") or f"the {m.get('isa_emulated')} tier"
        lines.append(f"- **Emulated: {what}. The times below measure the emulator, not the code; "
                     f"they check that the run works, nothing about speed.**")
    lines += [
        f"- CPU: {m.get('cpu_model', '?')} ({m.get('architecture', 'x86_64')}) — {m.get('logical_cpus', '?')} logical CPUs, "
        f"{m.get('physical_cores', '?')} cores{', virtualised' if m.get('virtualized') else ''}; caches {caches}",
        f"- ISA tier dispatched: {m.get('isa_dispatched', '?')} (available: {', '.join(m.get('isa_available', []))}); "
        f"bf16 products: {m.get('bf16_products', 'fp32 FMAs on widened inputs')}"
        + (f"; bf16 projection: {m['bf16_projection_products']}" if m.get("bf16_projection_products") else "")
        + (f"; flash bf16 prefill: {m['bf16_prefill_products']}"
           if m.get("bf16_prefill_products") and m.get("bf16_prefill_products") != m.get("bf16_products") else "")
        + (f"; decode fetches {m['decode_fetch']}" if m.get("decode_fetch") else ""),
        *probes,
        f"- Build: {m.get('compiler', '?')}, {m.get('build_type', '?')} `{m.get('cxx_flags', '')}`; xsimd "
        f"{m.get('xsimd', '?')}, Google Benchmark {m.get('google_benchmark', '?')}, OpenMP {m.get('openmp', '?')}, "
        f"OpenBLAS core {m.get('openblas_core', '?')}; {onednn_text(m)}",
        f"- Memory {m.get('memory_gib', '?')} GiB, transparent huge pages `{m.get('transparent_hugepages', '?')}`, "
        f"{m.get('os', '?')}, {m.get('kernel', '?')}",
        f"- Commit {m.get('commit', '?')}, {m.get('date', '?')}; command `{r.attn.get('sweep', {}).get('command', '?')}`",
    ]
    return "\n".join(lines) + "\n"


def stage_tables(r):
    parts = []
    for stage in r.stages():
        parts.append(f"### {stage}\n")
        parts.append(f"![{stage}](plots/{stage}.png)\n")
        for fam in r.families(stage):
            ns = r.ns(stage, fam)
            models = sorted({r.model(fam, n, dtype=t) for n in ns for t in DTYPES} - {""})
            parts.append(f"**{fam.label()}**" + (f" — {'; '.join(models)}" if models else "") + "\n")
            header = ["kernel"] + [f"{fam.axis()}={n}" for n in ns]
            rows = []
            for label in r.labels(stage, fam):
                t = r.variants[label][2]
                cells = [label]
                for n in ns:
                    row = r.rows.get((stage, fam, n, label))
                    if row is None:
                        cells.append("")
                    elif row["gflops"] is None:
                        cells.append("skipped" if (row["skipped"] or "").startswith("skipped") else "error")
                    else:
                        g = row["gflops"]
                        cells.append(f"{fmt(g)} ({pct(r.share(g, t, label, (stage, fam, n, label)))}, "
                                     f"{times(r.speedup(stage, fam, n, label))})")
                rows.append(cells)
                # The kernel's memory traffic on a row of its own under it, so that each cell
                # stays one figure with its two ratios.
                if any(r.gbps(stage, fam, n, label) for n in ns):
                    cells = [MEMORY_ROW]
                    for n in ns:
                        b = r.gbps(stage, fam, n, label)
                        cells.append("" if not b else fmt(b) + (f" ({pct(r.bw_share(b, t))})" if r.bandwidth else ""))
                    rows.append(cells)
            parts.append(markdown_table(header, rows) + "\n")
    return "\n".join(parts)


MEMORY_ROW = "↳ GB/s"


def how_to_read(r):
    """The report's explanation of its cells, saying what this result lacks."""
    text = ("Cells read `GFLOP/s (% of the FMA peak at the same thread count, speed-up over the naive "
            "kernel at the same shape)`, the peak being the bf16 dot-product or AMX tile probe's for a kernel whose "
            "products ran there (the probes listed above); \"skipped\" marks a shape whose call was predicted to exceed the "
            "run's max_call_time. Medians when the run had repetitions.")
    if not r.has_gbps():
        return text + " The kernel rows carry no GB/s counter, so memory traffic is not shown.\n"
    text += (f" GB/s is the least memory a call must move (its inputs read and its outputs written once) "
             f"over its time. In the summary it has its own columns; in the tables by stage the row "
             f"`{MEMORY_ROW}` under each kernel reads ")
    if r.bandwidth:
        text += ("`GB/s (% of the memory bandwidth probe at the same thread count)`. A kernel near the "
                 "FMA peak is compute-bound, one near the bandwidth probe memory-bound (decoding is); the "
                 "roofline plots show both ceilings at once.\n")
    else:
        text += ("`GB/s` alone: the memory bandwidth probe (peak/stream) was not measured in this run, "
                 "so there is no % of bandwidth and no bandwidth ceiling on the roofline plots.\n")
    return text


def roofline_threads(r):
    """The thread counts with a kernel row that has both GFLOP/s and GB/s: a row of the roofline
    plot each."""
    return sorted({r.variants[k[3]][2] for k, row in r.rows.items() if row["gflops"] and row["gbps"]})


def roofline_section(r):
    ts = roofline_threads(r)
    if not ts:
        return "_No kernel row carries both GFLOP/s and GB/s, so there is no roofline plot._\n"
    ceilings = ("the FMA peak (horizontal) and the memory bandwidth probe (the slope, GB/s × FLOP/byte) of "
                "this run at the same thread count" if r.bandwidth else
                "the FMA peak of this run at the same thread count (horizontal); the memory bandwidth probe "
                "was not measured, so there is no bandwidth slope")
    text = ("Each point is the fastest kernel at that thread count for one stage and shape, at its arithmetic "
            "intensity (GFLOP/s ÷ GB/s: FLOPs per byte of least memory traffic) and its GFLOP/s, both log "
            f"scales; points of a family are joined in order of length and labelled with it. The ceilings are "
            f"{ceilings}: a point under the slope is bound by memory, one under the horizontal by arithmetic.\n")
    return text + "\n![roofline](plots/roofline.png)\n"


def write_report(r, out):
    lines = [f"# attnbench report: {r.machine.get('cpu_model', os.path.basename(r.path))}\n",
             f"Result: `{os.path.relpath(r.path, out)}` — {r.title()}\n",
             how_to_read(r),
             "## Machine\n", machine_section(r),
             "## Summary: the fastest kernel of each stage and shape\n",
             markdown_table(summary_header(r), summary_rows(r), right_from=3) + "\n",
             block_section(r),
             layer_section(r),
             "## Roofline\n", roofline_section(r),
             "## Thread scaling\n", "![thread scaling](plots/threads.png)\n",
             "## Every kernel, by stage\n", stage_tables(r)]
    path = os.path.join(out, "REPORT.md")
    write_atomically(path, "\n".join(lines))
    return path


def write_atomically(path, text):
    tmp = os.path.join(os.path.dirname(path) or ".", f".{os.path.basename(path)}.partial-{os.getpid()}")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------- plots

def pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        raise BadInput("matplotlib is missing, so no plots were drawn: install python3-matplotlib "
                       "(Debian) and run attnbench report again")


STYLE_MARKERS = "osD^v<>phX*"


def styles(labels):
    """A colour per variant/isa and a line style per thread count, stable across plots."""
    import matplotlib
    colours = matplotlib.colormaps["tab10"].colors
    kernels = sorted({l.split(" ")[0] for l in labels})
    out = {}
    for l in labels:
        k, t = l.split(" ")
        i = kernels.index(k)
        out[l] = dict(color=colours[i % 10], marker=STYLE_MARKERS[i % len(STYLE_MARKERS)],
                      linestyle="-" if t == "t:1" else "--")
    return out


def clear_plots(folder, prefix):
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        if f.endswith(".png") and (f.startswith("compare-") == (prefix == "compare-")):
            os.remove(os.path.join(folder, f))


def plot_stage(plt, r, stage, path):
    """One row per shape family of the stage: GFLOP/s, speed-up over naive and % of the FMA peak
    against sequence length, one line per kernel (dashed at 2 threads)."""
    from matplotlib import ticker
    fams = r.families(stage)
    st = styles(r.labels(stage))
    fig, grid = plt.subplots(len(fams), 3, figsize=(17, 4.4 * len(fams)), squeeze=False)
    for axes, fam in zip(grid, fams):
        ns, labels = r.ns(stage, fam), r.labels(stage, fam)
        panels = [("GFLOP/s", lambda n, l: r.gflops(stage, fam, n, l), True),
                  ("speed-up over naive (×)", lambda n, l: r.speedup(stage, fam, n, l), True),
                  ("% of peak (same threads)",
                   lambda n, l: (lambda s: s and 100 * s)(r.share(r.gflops(stage, fam, n, l), r.variants[l][2], l,
                                                                  (stage, fam, n, l))),
                   False)]
        for ax, (ylabel, value, log) in zip(axes, panels):
            drawn = 0
            for label in labels:
                pts = [(n, value(n, label)) for n in ns]
                pts = [(n, v) for n, v in pts if v]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], label=label, **st[label])
                    drawn += 1
            if not drawn:
                ax.text(0.5, 0.5, "no naive kernel measured at these shapes\n(skipped by max_call_time or filtered out)",
                        ha="center", va="center", transform=ax.transAxes)
                ax.set_yticks([])
                log = False
            ax.set_xscale("log", base=2)
            ax.set_xlim(min(ns) / 1.25, max(ns) * 1.25)
            ax.set_xticks(ns, [str(n) for n in ns])
            ax.minorticks_off()
            if log:
                # Plain numbers at 1, 2 and 5 times each power of ten: a span of less than a decade
                # would otherwise show a single "10^2" tick.
                ax.set_yscale("log")
                ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1, 2, 5)))
                ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
                ax.yaxis.set_minor_formatter(ticker.NullFormatter())
            elif drawn:
                ax.set_ylim(0, 100)
            ax.set_xlabel("sequence length n (tokens)" if fam.n_q is None
                          else f"key sequence length n_kv (tokens), n_q = {fam.n_q}")
            ax.set_ylabel(ylabel)
            ax.grid(True, which="major", alpha=0.3)
        models = sorted({r.model(fam, n, short=True, dtype=t) for n in ns for t in DTYPES} - {""})
        axes[0].set_title(f"{stage} — {fam.label()}" + (f" ({'; '.join(models)})" if models else ""),
                          fontsize=11, loc="left")
    handles = {}
    for ax in grid[:, 0]:
        for h, name in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(name, h)
    fig.legend(list(handles.values()), list(handles), loc="upper right", fontsize=9,
               title="kernel (variant/isa threads)")
    fig.tight_layout(rect=(0, 0, 0.84, 1))
    save_png(fig, path)
    plt.close(fig)


def save_png(fig, path):
    """Saves the figure as a PNG of at most 64 colours at 60 dpi: line plots use a few dozen
    colours, and the file takes a sixth of the bytes of matplotlib's true-colour one at 90 dpi,
    so that the reports committed under results/ stay small."""
    import io
    from PIL import Image
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    buf.seek(0)
    with Image.open(buf) as image:
        image.convert("RGB").quantize(colors=64).save(path, optimize=True)


def plot_threads(plt, r, path):
    """Speed at t threads over speed at one, for each parallel kernel at each stage's largest shape."""
    stages = r.stages()
    cols = 3
    rows_n = max(1, math.ceil(len(stages) / cols))
    fig, axes = plt.subplots(rows_n, cols, figsize=(15, 4.2 * rows_n), squeeze=False)
    peak_t = sorted(r.peak)
    for ax, stage in zip(axes.flat, stages):
        # The largest shape (by n·h·d, with n the geometric mean of n_q and n_kv for a rectangular
        # shape, so a decoding shape ranks by its work) measured at more than one thread count.
        best = None
        for fam in r.families(stage):
            for n in r.ns(stage, fam):
                ts = {r.variants[l][2] for l in r.labels(stage, fam) if r.gflops(stage, fam, n, l)}
                size = (n if fam.n_q is None else math.sqrt(fam.n_q * n)) * fam.h * fam.d
                if len(ts) > 1 and (best is None or size > best[0]):
                    best = (size, fam, n)
        if best is None:
            ax.text(0.5, 0.5, "measured at one thread count only", ha="center", va="center", transform=ax.transAxes)
            ax.set_title(stage)
            continue
        _, fam, n = best
        kernels = sorted({l.split(" ")[0] for l in r.labels(stage, fam) if r.variants[l][2] != 1})
        for k in kernels:
            base = r.gflops(stage, fam, n, f"{k} t:1")
            pts = sorted((t, r.gflops(stage, fam, n, f"{k} t:{t}") / base) for t in sorted(set(peak_t) | {1, 2})
                         if base and r.gflops(stage, fam, n, f"{k} t:{t}"))
            if len(pts) > 1:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=k)
        if len(peak_t) > 1 and 1 in r.peak:
            ax.plot(peak_t, [r.peak[t] / r.peak[1] for t in peak_t], "k--", label="FMA peak (compute-bound ceiling)")
        bw_t = sorted(r.bandwidth)
        if len(bw_t) > 1 and 1 in r.bandwidth:
            ax.plot(bw_t, [r.bandwidth[t] / r.bandwidth[1] for t in bw_t], "k:",
                    label="bandwidth probe (memory-bound ceiling)")
        ax.set_title(f"{stage}: {fam.at(n)}")
        ax.set_xlabel("threads")
        ax.set_ylabel("speed-up over 1 thread (×)")
        ax.set_xticks(sorted(set(peak_t) | set(r.bandwidth) | {1}))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(stages):]:
        ax.axis("off")
    fig.suptitle("Thread scaling of the parallel kernels", fontsize=12)
    fig.tight_layout()
    save_png(fig, path)
    plt.close(fig)


def roofline_points(r, stage, t):
    """{(family, storage type): [(n, label, FLOP/byte, GFLOP/s)]} of the fastest kernel at t
    threads of every shape and type of a stage that has both counters (a 16-bit kernel's bytes
    are its real ones), each family's points in order of length."""
    out = {}
    for fam in r.families(stage):
        for dtype in r.dtypes(stage, fam):
            pts = []
            for n in r.ns(stage, fam):
                best = r.fastest(stage, fam, n, threads=t, dtype=dtype)
                ai = best and r.intensity(stage, fam, n, best[0])
                if ai:
                    pts.append((n, best[0], ai, best[1]))
            if pts:
                out[(fam, dtype)] = pts
    return out


def label_placer(fig, ax, points):
    """place(x, y, text) -> the offset in points of the point's label: the first of a few spots
    around it whose box overlaps no label placed before and no marker, so that points that nearly
    coincide keep legible labels. Works on the axes' log scales and limits, set before."""
    width, height = (v * 72 for v in fig.get_size_inches())
    box = ax.get_position()
    (lx0, lx1), (ly0, ly1) = (map(math.log, ax.get_xlim())), (map(math.log, ax.get_ylim()))

    def at(x, y):  # the point's position in points from the axes' corner
        return ((math.log(x) - lx0) / (lx1 - lx0) * box.width * width,
                (math.log(y) - ly0) / (ly1 - ly0) * box.height * height)

    taken = [(px - 3.5, py - 3.5, 7.0, 7.0) for px, py in (at(x, y) for x, y in points)]

    def free(b):
        return not any(b[0] < o[0] + o[2] and o[0] < b[0] + b[2] and b[1] < o[1] + o[3] and o[1] < b[1] + b[3]
                       for o in taken)

    def place(x, y, text):
        px, py = at(x, y)
        w, h = 4.3 * len(text) + 1, 8.0
        spots = [(4, 3), (4, -11), (-4 - w, 3), (-4 - w, -11), (4, 13), (-4 - w, 13), (4, -21), (-4 - w, -21),
                 (-w / 2, 6), (-w / 2, -15)]
        dx, dy = next((s for s in spots if free((px + s[0], py + s[1], w, h))), spots[0])
        taken.append((px + dx, py + dy, w, h))
        return dx, dy

    return place


def plot_roofline(plt, r, path):
    """A block of panels per thread count, one panel per stage: the fastest kernels at t threads
    against the FMA peak and the bandwidth probe of the same run at t threads (log-log)."""
    from matplotlib import ticker
    from matplotlib.lines import Line2D
    import matplotlib
    cols = 3
    blocks = [(t, [s for s in r.stages() if roofline_points(r, s, t)]) for t in roofline_threads(r)]
    rows_n = sum(max(1, math.ceil(len(stages) / cols)) for _, stages in blocks)
    fig, axes = plt.subplots(rows_n, cols, figsize=(6.2 * cols, 5.4 * rows_n), squeeze=False)
    colours = matplotlib.colormaps["tab10"].colors
    row = 0
    for t, stages in blocks:
        panels = list(axes[row:row + max(1, math.ceil(len(stages) / cols))].flat)
        row += max(1, math.ceil(len(stages) / cols))
        for ax in panels[len(stages):]:
            ax.axis("off")
        roofline_panels(r, t, stages, panels, fig, colours, ticker, Line2D)
    fig.suptitle("Roofline: the fastest kernel of each stage and shape at each thread count (marker: kernel; "
                 "colour: shape family; each point labelled with its length, n or n_kv)", fontsize=11)
    fig.tight_layout()
    save_png(fig, path)
    plt.close(fig)


def roofline_panels(r, t, stages, axes, fig, colours, ticker, Line2D):
    """The roofline panels of the stages at t threads, one per axis of axes."""
    peak, bw = r.peak.get(t), r.bandwidth.get(t)
    ridge = peak / bw if peak and bw else None
    kernels = sorted({p[1].split(" ")[0] for s in stages for pts in roofline_points(r, s, t).values() for p in pts})
    marker = {k: STYLE_MARKERS[i % len(STYLE_MARKERS)] for i, k in enumerate(kernels)}
    for ax, stage in zip(axes, stages):
        points = roofline_points(r, stage, t)
        ais = [p[2] for pts in points.values() for p in pts] + ([ridge] if ridge else [])
        gs = [p[3] for pts in points.values() for p in pts] + ([peak] if peak else [])
        x0, x1 = min(ais) / 2.5, max(ais) * 2.5
        y0, y1 = min(gs) / 2.5, max(gs) * 2
        if bw:
            # The bandwidth slope up to the ridge (solid), beyond it faint: the roof is the lower.
            xr = min(ridge, x1) if ridge else x1
            ax.plot([x0, xr], [bw * x0, bw * xr], color="black", linewidth=1.5,
                    label=f"bandwidth probe {bw:.1f} GB/s")
            if xr < x1:
                ax.plot([xr, x1], [bw * xr, bw * x1], color="black", linewidth=0.8, linestyle=":", alpha=0.5)
        if peak:
            xr = max(ridge, x0) if ridge else x0
            ax.plot([xr, x1], [peak, peak], color="black", linewidth=1.5, linestyle="--",
                    label=f"FMA peak {peak:.1f} GFLOP/s")
            if xr > x0:
                ax.plot([x0, xr], [peak, peak], color="black", linewidth=0.8, linestyle=":", alpha=0.5)
        if not bw:
            ax.text(0.02, 0.98, "bandwidth probe not measured", transform=ax.transAxes, ha="left", va="top",
                    fontsize=8, color="dimgray")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        place = label_placer(fig, ax, [(p[2], p[3]) for pts in points.values() for p in pts])
        for i, ((fam, dtype), pts) in enumerate(points.items()):
            colour = colours[i % 10]
            ax.plot([p[2] for p in pts], [p[3] for p in pts], color=colour, linewidth=0.8, alpha=0.6)
            for n, label, ai, g in pts:
                ax.plot(ai, g, marker=marker[label.split(" ")[0]], color=colour, linestyle="none", markersize=6)
                ax.annotate(str(n), (ai, g), textcoords="offset points", xytext=place(ai, g, str(n)), fontsize=7,
                            color=colour, ha="left", va="bottom")
            model = sorted({r.model(fam, n, short=True, dtype=dtype) for n, *_ in pts} - {""})
            ax.plot([], [], color=colour,
                    label=fam.label() + dtype_text(dtype) + (f" ({'; '.join(model)})" if model else ""))
        for k in sorted({p[1].split(" ")[0] for pts in points.values() for p in pts}):
            ax.add_line(Line2D([], [], color="gray", marker=marker[k], linestyle="none", label=k))
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(ticker.LogLocator(base=10, subs=(1, 2, 5)))
            axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel("arithmetic intensity (FLOP/byte) = GFLOP/s ÷ GB/s")
        ax.set_ylabel("GFLOP/s")
        ax.set_title(f"{stage}, t:{t}")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7, loc="best")


def plot_layer_steps(plt, r, path):
    """One row per layer family: the fastest kernel's step shares as stacked bars per length (at the
    most threads measured), and the attention step's share of each layer kernel's call against
    sequence length (dashed at 2 threads)."""
    steps = layer_steps_of(r)
    fams = [f for f in r.families("layer") if any(r.rows[k].get("shares") for k in r.rows if k[:2] == ("layer", f))]
    colours = plt.get_cmap("tab20").colors
    fig, grid = plt.subplots(len(fams), 2, figsize=(15, 4.6 * len(fams)), squeeze=False)
    for (bars, lines), fam in zip(grid, fams):
        ns = r.ns("layer", fam)
        t = max(r.variants[label][2] for label in r.labels("layer", fam))
        bottoms = [0.0] * len(ns)
        picked = [fastest_time(r, "layer", fam, n, t) for n in ns]
        for i, step in enumerate(steps + ["other"]):
            heights = []
            for n, best in zip(ns, picked):
                shares = r.rows[("layer", fam, n, best[0])].get("shares", {}) if best else {}
                share = (max(0.0, 1.0 - sum(shares.values())) if shares else 0.0) if step == "other" \
                    else shares.get(step, 0.0)
                heights.append(100 * share)
            bars.bar([str(n) for n in ns], heights, bottom=bottoms, label=step, color=colours[i % 20])
            bottoms = [b + h for b, h in zip(bottoms, heights)]
        bars.set_title(f"{fam.label()}: fastest layer kernel's steps at t:{t}", fontsize=10)
        bars.set_xlabel(fam.axis())
        bars.set_ylabel("% of the call")
        bars.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        st = styles(r.labels("layer", fam))
        for label in r.labels("layer", fam):
            xs = [n for n in ns if r.rows.get(("layer", fam, n, label), {}).get("shares")]
            if xs:
                lines.plot(xs, [100 * r.rows[("layer", fam, n, label)]["shares"].get("attention", 0.0) for n in xs],
                           label=label, **st[label])
        lines.set_xscale("log", base=2)
        lines.set_title(f"{fam.label()}: attention's share of the layer", fontsize=10)
        lines.set_xlabel(fam.axis())
        lines.set_ylabel("% of the call in attention")
        lines.set_ylim(bottom=0)
        lines.legend(fontsize=7)
    fig.tight_layout()
    save_png(fig, path)


def draw_report_plots(r, out):
    plt = pyplot()
    folder = os.path.join(out, "plots")
    clear_plots(folder, "")
    for stage in r.stages():
        plot_stage(plt, r, stage, os.path.join(folder, f"{stage}.png"))
    plot_threads(plt, r, os.path.join(folder, "threads.png"))
    if layer_share_rows(r):
        plot_layer_steps(plt, r, os.path.join(folder, "layer_steps.png"))
    if roofline_threads(r):
        plot_roofline(plt, r, os.path.join(folder, "roofline.png"))


# ----------------------------------------------------------------------------------- comparison

def compare_rows(a, b):
    """(stage, shape, kernel, A GFLOP/s, B GFLOP/s, B/A, A % peak, B % peak) for every common row."""
    rows = []
    for key in sorted(set(a.rows) & set(b.rows), key=lambda k: (STAGES.index(k[0]) if k[0] in STAGES else 9,
                                                                  k[1].key(), k[2], k[3])):
        ga, gb = a.rows[key]["gflops"], b.rows[key]["gflops"]
        stage, fam, n, label = key
        t = a.variants[label][2]
        rows.append((stage, fam.at(n), label, ga, gb, gb / ga if ga and gb else None,
                     a.share(ga, t, label, key), b.share(gb, t, label, key)))
    return rows


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def write_compare(a, b, out):
    rows = compare_rows(a, b)
    if not rows:
        raise BadInput(f"{a.path} and {b.path} have no benchmark in common")
    per_stage = defaultdict(list)
    for row in rows:
        per_stage[row[0]].append(row[5])
    lines = [f"# attnbench comparison\n",
             f"- A: `{os.path.relpath(a.path, out)}` — {a.title()}",
             f"- B: `{os.path.relpath(b.path, out)}` — {b.title()}\n",
             "B/A above 1 means B is faster. % of peak is each run's own peak at the same thread count (FMA, or the bf16 or AMX probe where the kernel's products ran there), "
             "so it compares how well each machine is used, not how fast it is.\n",
             "## Geometric mean of B/A by stage\n",
             markdown_table(["stage", "benchmarks", "B/A"],
                            [[s, str(len([x for x in v if x])), fmt(geomean(v), 2)] for s, v in per_stage.items()]) + "\n",
             "![B/A by kernel](plots/compare-kernels.png)\n",
             "## Every benchmark in both\n",
             markdown_table(["stage", "shape", "kernel", "A GFLOP/s", "B GFLOP/s", "B/A", "A % peak", "B % peak"],
                            [[r[0], r[1], r[2], fmt(r[3]), fmt(r[4]), fmt(r[5], 2), pct(r[6]), pct(r[7])] for r in rows],
                            right_from=3) + "\n"]
    path = os.path.join(out, "COMPARE.md")
    write_atomically(path, "\n".join(lines))
    return path, per_stage, rows


def draw_compare_plot(rows, out):
    plt = pyplot()
    from matplotlib import ticker
    folder = os.path.join(out, "plots")
    clear_plots(folder, "compare-")
    by_kernel = defaultdict(list)
    for stage, _, label, _, _, ratio, _, _ in rows:
        by_kernel[f"{stage}: {label}"].append(ratio)
    names = list(by_kernel)
    values = [geomean(by_kernel[k]) or float("nan") for k in names]
    fig, ax = plt.subplots(figsize=(10, 0.28 * len(names) + 1.5))
    # Bars grow from 1 (no change) toward B/A, so a slowdown points left instead of filling the axis.
    ax.barh(range(len(names)), [v - 1.0 for v in values], left=1.0,
            color=["tab:green" if v >= 1 else "tab:red" for v in values])
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.xaxis.set_minor_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel("B/A GFLOP/s, geometric mean over shapes (log scale; right of 1: B faster)")
    ax.set_title("B against A by kernel")
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    save_png(fig, os.path.join(folder, "compare-kernels.png"))
    plt.close(fig)


# ----------------------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(prog="attnbench report", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", help="RESULT.json [OTHER.json]")
    parser.add_argument("--out", help="folder for the report (default: the first result's folder)")
    args = parser.parse_args()
    try:
        if len(args.results) > 2:
            raise BadInput("give one result to report, or two to compare")
        results = [Result(p) for p in args.results]
        out = args.out or os.path.dirname(os.path.abspath(args.results[0]))
        try:
            os.makedirs(out, exist_ok=True)
        except OSError as e:
            raise BadInput(f"cannot create {out}: {e.strerror}")
        if len(results) == 1:
            r = results[0]
            print(f"\nattnbench summary — {r.title()}\n")
            print(text_table(summary_header(r), summary_rows(r)))
            blocks = block_rows(r)
            if blocks:
                print("\nthe multi-head block against its parts (each measured alone)\n")
                print(text_table(BLOCK_HEADER, blocks))
            path = write_report(r, out)
            draw_report_plots(r, out)
            print(f"\nattnbench: report {path}, plots in {os.path.join(out, 'plots')}")
        else:
            a, b = results
            path, per_stage, rows = write_compare(a, b, out)
            print(f"\nattnbench comparison — A: {a.title()}\n                        B: {b.title()}\n")
            print(text_table(["stage", "benchmarks", "B/A (geomean)"],
                             [[s, str(len([x for x in v if x])), fmt(geomean(v), 2)] for s, v in per_stage.items()]))
            draw_compare_plot(rows, out)
            print(f"\nattnbench: comparison {path}, plot in {os.path.join(out, 'plots')}")
    except (BadInput, ResultError) as e:
        print(f"attnbench report: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"attnbench report: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
