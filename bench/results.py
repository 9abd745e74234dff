"""Reading attnbench results (Google Benchmark's JSON): the one module that the gate, compare, the
report and the targets check use to load a result, name its benchmarks, pick their medians and
read their shape descriptors, refusing anything that is not a result in one line."""
import json
import math
import os
import re
import statistics

_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
_TO_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
_GFLOPS = "GFLOP/s"
_GBPS = "GB/s"  # a kernel's minimum bytes moved per call / time; the stream probe's bytes read / time

# The descriptor fields every row of a current result carries under "attnbench"; a peak probe's
# row (peak/fma, peak/stream) has only the first four. A kernel row may also carry "kv_heads" (the
# K/V heads of grouped-query attention), "dtype" (the storage type: f32, bf16 or f16) and "model";
# descriptor() gives a row written before kv_heads existed kv_heads = heads; a row without dtype is
# fp32.
PEAK_FIELDS = ("stage", "variant", "isa", "threads")
KERNEL_FIELDS = PEAK_FIELDS + ("shape", "batch", "heads", "n_q", "n_kv", "head_dim", "causal",
                               "similarity", "scale", "scale_given")

class ResultError(Exception):
    """A file that cannot serve as a result; str() is the one line to print."""


def isa_order():
    """The ISA names in the order the suite ranks them: scalar, the tiers of
    include/attn/isa_tiers_<arch>.inc narrowest first (x86-64's, then aarch64's: a result of
    either may be read), then best."""
    tiers = []
    for arch in ("x86_64", "aarch64"):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include", "attn",
                            f"isa_tiers_{arch}.inc")
        with open(path, encoding="utf-8") as f:
            tiers += re.findall(r"^ATTN_ISA\((\w+),", f.read(), re.MULTILINE)
    return ["scalar", *tiers, "best"]


def load_result(path):
    """The parsed result at path, with a 'benchmarks' list of objects; ResultError otherwise."""
    if re.search(r"\.partial-[0-9]+$", os.path.basename(path)):
        # attnbench run writes here until it finishes: a run killed by SIGKILL leaves it behind.
        raise ResultError(f"{path} is the partial file of a run that did not finish, not a result")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ResultError(f"cannot read {path}: {e.strerror}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # ValueError: JSONDecodeError, huge integers
        raise ResultError(f"{path} is not JSON ({e.__class__.__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ResultError(f"{path} has no 'benchmarks' list: not an attnbench result")
    if not all(isinstance(b, dict) for b in data["benchmarks"]):
        raise ResultError(f"{path}: an entry of 'benchmarks' is not an object")
    if not all(isinstance(b.get("attnbench", {}), dict) for b in data["benchmarks"]):
        raise ResultError(f"{path}: a benchmark's 'attnbench' field is not an object")
    return data


def display_name(full_name):
    """The benchmark's name as attnbench prints it: Google Benchmark's name without the
    /iterations:N and /real_time suffixes that --iterations and UseRealTime add."""
    return re.sub(r"(/iterations:[0-9]+)?(/real_time)?$", "", full_name)


def benchmark_name(row):
    """The display name of a result row (its run name, else its name)."""
    name = row.get("run_name") or row.get("name") or ""
    return display_name(name) if isinstance(name, str) else ""


def _time(row, path, scale):
    """The row's real_time in the unit of scale (_TO_MS or _TO_SECONDS); ResultError unless it is
    a positive number."""
    unit = row.get("time_unit", "ns")
    value = row.get("real_time")
    if unit not in scale or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResultError(f"{path}: benchmark '{benchmark_name(row)}' has no numeric real_time")
    t = float(value) * scale[unit]
    if not math.isfinite(t) or t <= 0:
        raise ResultError(f"{path}: benchmark '{benchmark_name(row)}' has real_time {value}")
    return t


def _counter(row, key):
    """The row's counter key (GFLOP/s or GB/s), None when it has none."""
    value = row.get(key)
    return None if isinstance(value, bool) or not isinstance(value, (int, float)) else value


def _gflops(row):
    """The row's GFLOP/s counter, None when it has none."""
    return _counter(row, _GFLOPS)


def _gbps(row):
    """The row's GB/s counter, None when it has none."""
    return _counter(row, _GBPS)


def _median_counter(rows, counter):
    """The median of a counter over iteration rows, None when none of them has it."""
    values = [v for v in map(counter, rows) if v is not None]
    return statistics.median(values) if values else None


SHARE_PREFIX = "share:"
# A layer row's time per call over the sum of its steps each measured alone (run --steps-alone).
VS_STEPS_ALONE = "vs_steps_alone"
# The share of a kernel row's counted work its AMX paths were called for (absent where none ran).
AMX_SHARE = "amx_share"
# The same for its vdpbf16ps paths (the bf16 projection, flash's bf16 prefill by vector dots).
DOT_SHARE = "dot_share"


def _shares(rows):
    """{step: median share of the call's time} over rows carrying the layer's "share:<step>"
    counters (attn/layer_steps.hpp), empty when none does."""
    steps = {k[len(SHARE_PREFIX):] for r in rows for k in r if k.startswith(SHARE_PREFIX)}
    out = {}
    for step in steps:
        share = _median_counter(rows, lambda r: _counter(r, SHARE_PREFIX + step))
        if share is not None and math.isfinite(share):
            out[step] = max(0.0, share)
    return out


def times_ms(data, path="result"):
    """{benchmark: [milliseconds per call of each repetition]} from the iteration rows, skipping
    benchmarks that erred or were skipped; a file holding only aggregates gives its median (or
    mean) as the one value."""
    reps, aggregates = {}, {}
    for row in data["benchmarks"]:
        if row.get("error_occurred"):
            continue
        name = benchmark_name(row)
        if not name:
            raise ResultError(f"{path}: a benchmark has no name")
        if row.get("run_type", "iteration") == "iteration":
            reps.setdefault(name, []).append(_time(row, path, _TO_MS))
        elif row.get("aggregate_name") in ("median", "mean"):
            aggregates.setdefault(name, {})[row["aggregate_name"]] = _time(row, path, _TO_MS)
    for name, agg in aggregates.items():
        if name not in reps:
            reps[name] = [agg.get("median", agg.get("mean"))]
    return reps


def medians(data, path="result"):
    """{benchmark: {"gflops", "gbps", "seconds", "shares", "error", "fields"}} of a loaded result,
    in file order: the median GFLOP/s and GB/s (each None without that counter: a stream probe has GB/s
    alone) and median seconds per call (None when every row erred or was skipped), from the
    "median" aggregate row when the run had repetitions, else over the iteration rows; "error" is
    the message of a row that erred or was skipped (None when none did), "shares" a layer row's
    step shares (_shares, from the same rows) and "vs_steps_alone" its median VS_STEPS_ALONE
    counter (None without one), "amx_share" and "dot_share" its median AMX_SHARE and DOT_SHARE
    counters (None without one),
    "fields" the benchmark's descriptor() (None for a row that is no kernel or peak probe)."""
    found = {}
    for row in data["benchmarks"]:
        name = benchmark_name(row)
        if not name:
            raise ResultError(f"{path}: a benchmark has no name")
        b = found.setdefault(name, {"rows": [], "median": None, "iterations": [], "error": None})
        b["rows"].append(row)
        if row.get("error_occurred"):
            b["error"] = row.get("error_message", "error")
        elif row.get("run_type") == "aggregate":
            if row.get("aggregate_name") == "median":
                b["median"] = row
        else:
            b["iterations"].append(row)
    out = {}
    for name, b in found.items():
        if b["median"] is not None:
            gflops, gbps = _gflops(b["median"]), _gbps(b["median"])
            seconds = _time(b["median"], path, _TO_SECONDS)
            shares = _shares([b["median"]])
            alone = _counter(b["median"], VS_STEPS_ALONE)
            amx = _counter(b["median"], AMX_SHARE)
            dot = _counter(b["median"], DOT_SHARE)
        elif b["iterations"]:
            gflops, gbps = _median_counter(b["iterations"], _gflops), _median_counter(b["iterations"], _gbps)
            seconds = statistics.median(_time(r, path, _TO_SECONDS) for r in b["iterations"])
            shares = _shares(b["iterations"])
            alone = _median_counter(b["iterations"], lambda r: _counter(r, VS_STEPS_ALONE))
            amx = _median_counter(b["iterations"], lambda r: _counter(r, AMX_SHARE))
            dot = _median_counter(b["iterations"], lambda r: _counter(r, DOT_SHARE))
        else:
            gflops = gbps = seconds = alone = amx = dot = None
            shares = {}
        # Every row of a benchmark has the same descriptor: take one that carries it.
        carrier = next((r for r in b["rows"] if "attnbench" in r), b["rows"][0])
        fields = descriptor(carrier, path)
        out[name] = {"gflops": gflops, "gbps": gbps, "seconds": seconds, "shares": shares,
                     "vs_steps_alone": alone, "amx_share": amx, "dot_share": dot,
                     "error": b["error"], "fields": fields}
    return out


def descriptor(row, path="result"):
    """The descriptor fields of a result row: its "attnbench" object (KERNEL_FIELDS, or
    PEAK_FIELDS for a peak probe); None for a row without one (no kernel or peak probe). A kernel's
    fields always hold "kv_heads": a row without it, or with 0 (the shape's "as many as heads"),
    gets a copy with kv_heads = heads. A "dtype" it carries must name a storage type; a row
    without one is fp32 (read it as fields.get("dtype", "f32"))."""
    if "attnbench" not in row:
        return None
    fields = row["attnbench"]
    if not isinstance(fields, dict):
        raise ResultError(f"{path}: benchmark '{benchmark_name(row)}' has an 'attnbench' field that is not an object")
    missing = [k for k in (PEAK_FIELDS if fields.get("stage") == "peak" else KERNEL_FIELDS) if k not in fields]
    if missing:
        raise ResultError(f"{path}: benchmark '{benchmark_name(row)}' lacks the descriptor fields {', '.join(missing)}")
    if fields["stage"] == "peak":
        return fields
    heads, kv = fields["heads"], fields.get("kv_heads", 0)
    if isinstance(kv, bool) or not isinstance(kv, int) or kv < 0 or \
            (kv and (isinstance(heads, bool) or not isinstance(heads, int) or heads % kv)):
        shown = lambda v: v if isinstance(v, int) else f"of type {type(v).__name__}"
        raise ResultError(f"{path}: benchmark '{benchmark_name(row)}' has kv_heads {shown(kv)}, "
                          f"not a positive divisor of its heads {shown(heads)}")
    if fields.get("dtype", "f32") not in ("f32", "bf16", "f16"):
        raise ResultError(f"{path}: benchmark '{benchmark_name(row)}' has dtype {fields['dtype']!r}, "
                          "not f32, bf16 or f16")
    return fields if kv else dict(fields, kv_heads=heads)
