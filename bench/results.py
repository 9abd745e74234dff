"""Reading attnbench results (Google Benchmark's JSON): the one loader that the gate and compare
use, refusing anything that is not a result in one line."""
import json
import math
import re

_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


class ResultError(Exception):
    """A file that cannot serve as a result; str() is the one line to print."""


def load_result(path):
    """The parsed result at path, with a 'benchmarks' list of objects; ResultError otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ResultError(f"cannot read {path}: {e.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ResultError(f"{path} is not JSON ({e.__class__.__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ResultError(f"{path} has no 'benchmarks' list: not an attnbench result")
    if not all(isinstance(b, dict) for b in data["benchmarks"]):
        raise ResultError(f"{path}: an entry of 'benchmarks' is not an object")
    return data


def display_name(full_name):
    """The benchmark's name as attnbench prints it: Google Benchmark's name without the
    /iterations:N and /real_time suffixes that --iterations and UseRealTime add."""
    return re.sub(r"(/iterations:[0-9]+)?(/real_time)?$", "", full_name)


def benchmark_name(row):
    """The display name of a result row (its run name, else its name)."""
    name = row.get("run_name") or row.get("name") or ""
    return display_name(name) if isinstance(name, str) else ""


def _ms(row, path):
    unit = row.get("time_unit", "ns")
    value = row.get("real_time")
    if unit not in _TO_MS or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResultError(f"{path}: benchmark '{benchmark_name(row)}' has no numeric real_time")
    ms = float(value) * _TO_MS[unit]
    if not math.isfinite(ms) or ms <= 0:
        raise ResultError(f"{path}: benchmark '{benchmark_name(row)}' has real_time {value}")
    return ms


def times_ms(data, path="result"):
    """{benchmark: [milliseconds per call of each repetition]} from the iteration rows, skipping
    benchmarks that erred or were skipped; a file holding only aggregates gives its median (or
    mean) as the one value."""
    reps, aggregates = {}, {}
    for row in data["benchmarks"]:
        if row.get("error_occurred"):
            continue
        name = benchmark_name(row)
        if not isinstance(name, str) or not name:
            raise ResultError(f"{path}: a benchmark has no name")
        if row.get("run_type", "iteration") == "iteration":
            reps.setdefault(name, []).append(_ms(row, path))
        elif row.get("aggregate_name") in ("median", "mean"):
            aggregates.setdefault(name, {})[row["aggregate_name"]] = _ms(row, path)
    for name, agg in aggregates.items():
        if name not in reps:
            reps[name] = [agg.get("median", agg.get("mean"))]
    return reps
