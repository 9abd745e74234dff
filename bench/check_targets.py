#!/usr/bin/env python3
"""Checks attnbench results against the performance targets of bench/targets.toml.

    /usr/bin/python3 bench/check_targets.py RESULT.json [MORE.json ...] [--tier avx2] [--strict]

bench/targets.sh runs what the table needs in one sitting and calls this. Every target is a value
computed from benchmarks of one run (its expression over their GFLOP/s, GB/s or seconds), compared
with the threshold of the ISA tier the runs dispatched to (their context's attnbench_isa, or
--tier). Each value is taken within the last file that measured all of its benchmarks, else across
files, marked so. Prints the tier, one line per check (PASS / FAIL / MISSING, the value and the
threshold), a Markdown table of the checks and one of the benchmarks they read (GFLOP/s and share
of the FMA peak, GB/s and share of the bandwidth probe, each probe of the same file and thread
count). Exits 1 when a check fails (with --strict also when one is missing), 2 on a table or a
result it cannot read.

    bench/check_targets.py --listed NAMES.txt

instead checks that every benchmark the table names is among those NAMES.txt lists (one per line,
as `bash bench/targets.sh --list` prints them): that targets.sh runs what the table needs.
"""

import argparse
import ast
import itertools
import os
import re
import sys
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import ResultError, display_name, isa_order, load_result, medians  # noqa: E402

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets.toml")
TIERS = tuple(isa_order()[1:-1])  # the ISA tiers, narrowest first
METRICS = ("gflops", "gbps", "seconds", "vs_steps_alone")
FUNCTIONS = {"max": max, "min": min}
FIELDS = {"name", "measures", "why", "metric", "benchmarks", "value", "each", "at_least", "at_most", "cpu"}
# A target's optional `cpu`: it applies only to runs on a CPU whose flash bf16 prefill multiplies
# in bf16, by vdpbf16ps or on AMX tiles ("bf16_dot"), or only to runs on one whose widens to fp32
# ("no_bf16_dot"); elsewhere it is N/A.
CPU_KINDS = ("bf16_dot", "no_bf16_dot")


class TargetError(Exception):
    """A table that cannot serve; str() is the one line to print."""


def expression_names(text, where):
    """The names an expression reads; TargetError unless it is numbers and names joined by
    + - * /, unary minus, parentheses and calls of max() and min()."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise TargetError(f"{where}: value '{text}' is not an expression") from None
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS) or node.keywords:
                raise TargetError(f"{where}: value '{text}' calls something other than max() or min()")
        elif isinstance(node, ast.Name):
            if node.id not in FUNCTIONS:
                names.add(node.id)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise TargetError(f"{where}: value '{text}' holds a constant that is not a number")
        elif not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult,
                                   ast.Div, ast.USub, ast.Load)):
            raise TargetError(f"{where}: value '{text}' uses {type(node).__name__}, which a target may not")
    return names


def evaluate(text, values):
    """The expression's value with the names bound to values (numbers); float('inf') on a division
    by zero."""
    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return float(values[node.id])
        if isinstance(node, ast.UnaryOp):
            return -walk(node.operand)
        if isinstance(node, ast.Call):
            return FUNCTIONS[node.func.id](walk(a) for a in node.args)
        a, b = walk(node.left), walk(node.right)
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        return a / b if b else float("inf")
    return walk(ast.parse(text, mode="eval"))


def _threshold(target, where):
    """(at_least?, {tier: number}) of a target; one number applies to every tier."""
    keys = [k for k in ("at_least", "at_most") if k in target]
    if len(keys) != 1:
        raise TargetError(f"{where}: give one of at_least and at_most")
    limit = target[keys[0]]
    if isinstance(limit, dict):
        unknown = [t for t in limit if t not in TIERS]
        if unknown or not limit:
            raise TargetError(f"{where}: {keys[0]} names {', '.join(unknown) or 'no tier'} "
                              f"(tiers: {', '.join(TIERS)})")
        by_tier = limit
    else:
        by_tier = {t: limit for t in TIERS}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in by_tier.values()):
        raise TargetError(f"{where}: {keys[0]} is not a number")
    return keys[0] == "at_least", {t: float(v) for t, v in by_tier.items()}


def load_table(path=TABLE):
    """The targets of the table at path, each a dict with its fields plus "at_least" (bool),
    "limits" ({tier: threshold}) and "cases" ([(label, {short name: benchmark})], {tier} left in
    the benchmark names); TargetError naming the first problem."""
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except OSError as e:
        raise TargetError(f"cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise TargetError(f"{path} is not TOML: {e}") from None
    targets = table.get("target")
    if not isinstance(targets, list) or not targets:
        raise TargetError(f"{path} has no [[target]] entries")
    out, seen = [], set()
    for i, t in enumerate(targets):
        where = f"{path}: target {i + 1}" + (f" ({t['name']})" if isinstance(t.get("name"), str) else "")
        if not isinstance(t.get("name"), str) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", t["name"]):
            raise TargetError(f"{where}: name must be lowercase words joined by '-'")
        if t["name"] in seen:
            raise TargetError(f"{where}: the name is used twice")
        seen.add(t["name"])
        unknown = sorted(set(t) - FIELDS)
        if unknown:
            raise TargetError(f"{where}: unknown field {', '.join(unknown)}")
        for key in ("measures", "why", "value"):
            if not isinstance(t.get(key), str) or not t[key].strip():
                raise TargetError(f"{where}: {key} must be a sentence")
        if t.get("metric") not in METRICS:
            raise TargetError(f"{where}: metric must be one of {', '.join(METRICS)}")
        benchmarks = t.get("benchmarks")
        if not isinstance(benchmarks, dict) or not benchmarks or \
                not all(isinstance(v, str) for v in benchmarks.values()):
            raise TargetError(f"{where}: benchmarks must map short names to benchmark names")
        names = expression_names(t["value"], where)
        if names - set(benchmarks):
            raise TargetError(f"{where}: value reads {', '.join(sorted(names - set(benchmarks)))}, "
                              "which benchmarks does not name")
        each = t.get("each", {})
        if not isinstance(each, dict) or not all(isinstance(v, list) and v for v in each.values()):
            raise TargetError(f"{where}: each must map keys to lists of values")
        if t.get("cpu", CPU_KINDS[0]) not in CPU_KINDS:
            raise TargetError(f"{where}: cpu must be one of {', '.join(CPU_KINDS)}")
        at_least, limits = _threshold(t, where)
        # A case is labelled by its values, less those that another key's values spell out.
        shown = [k for k in each if not any(f"{{{k}}}" in str(v) for o in each if o != k for v in each[o])]
        cases = []
        for combo in itertools.product(*each.values()):
            subst = dict(zip(each, (str(v) for v in combo)))
            resolved = {k: _substitute(v, subst, where) for k, v in benchmarks.items()}
            label = ",".join(_substitute(subst[k], subst, where) for k in shown)
            cases.append((label, resolved))
        out.append(dict(t, at_least=at_least, limits=limits, cases=cases))
    return out


def _substitute(text, subst, where):
    """text with each {key} of subst replaced, repeatedly (a value may hold another key); {tier}
    is left for the run to resolve."""
    for _ in range(len(subst) + 1):
        new = re.sub(r"\{(\w+)\}", lambda m: subst.get(m[1], m[0]), text)
        if new == text:
            break
        text = new
    left = set(re.findall(r"\{(\w+)\}", text)) - {"tier"}
    if left:
        raise TargetError(f"{where}: {{{', '.join(sorted(left))}}} in '{text}' is in no each")
    return text


def load_runs(paths):
    """[(path, {benchmark: results.medians() entry}, dispatched tier or None, whether its bf16
    prefill multiplied in bf16: vdpbf16ps or AMX tiles)] of each file, with the benchmarks it measured (those that only erred
    or were skipped are left out)."""
    runs = []
    for path in paths:
        data = load_result(path)
        rows = {n: m for n, m in medians(data, path).items() if m["seconds"] is not None}
        context = data.get("context") if isinstance(data.get("context"), dict) else {}
        tier = context.get("attnbench_isa")
        machine = context.get("attnbench", {}).get("machine", {}) if isinstance(context.get("attnbench"), dict) else {}
        prefill = str(machine.get("bf16_prefill_products", machine.get("bf16_products", "")))
        bf16_dot = prefill.startswith(("vdpbf16ps", "AMX"))
        runs.append((path, rows, tier if tier in TIERS else None, bf16_dot))
    return runs


def resolve(name, runs):
    """name with {tier} replaced by the widest tier for which some run measured it (the widest
    tier when none did)."""
    if "{tier}" not in name:
        return name
    for tier in reversed(TIERS):
        candidate = name.replace("{tier}", tier)
        if any(candidate in rows for _, rows, *_ in runs):
            return candidate
    return name.replace("{tier}", TIERS[-1])


class Check:
    """One case of one target: its value, threshold and verdict."""

    def __init__(self, target, label, names, tier):
        self.target, self.label, self.names, self.tier = target, label, names, tier
        self.value, self.missing, self.across = None, [], False
        self.threshold = target["limits"].get(tier)
        self.applies = True  # false for a target of another kind of CPU (its `cpu`)

    def title(self):
        return self.target["name"] + (f"[{self.label}]" if self.label else "")

    def status(self):
        if not self.applies:
            return "N/A"
        if self.missing or self.threshold is None:
            return "MISSING"
        ok = self.value >= self.threshold if self.target["at_least"] else self.value <= self.threshold
        return "PASS" if ok else "FAIL"

    def limit_text(self):
        op = ">=" if self.target["at_least"] else "<="
        return f"{op} {self.threshold:g}" if self.threshold is not None else f"no threshold for {self.tier}"

    def line(self):
        if not self.applies:
            kind = "with" if self.target["cpu"] == "bf16_dot" else "without"
            return f"{self.status():7} {self.title()}: for CPUs {kind} bf16 products in flash's prefill (vdpbf16ps or AMX tiles)"
        if self.missing:
            shown = "- (no " + ", ".join(self.missing) + ")"
        elif self.threshold is None:
            shown = f"{self.value:.3f}"
        else:
            shown = f"{self.value:.3f}" + (" [across result files]" if self.across else "")
        return f"{self.status():7} {self.title()}: {shown} ({self.limit_text()})"


def check(targets, runs, tier):
    """The Check of every case of every target on load_runs()'s runs, at the thresholds of tier."""
    checks = []
    bf16_dot = any(run[3] for run in runs)
    for target in targets:
        for label, benchmarks in target["cases"]:
            names = {k: resolve(v, runs) for k, v in benchmarks.items()}
            c = Check(target, label, names, tier)
            if "cpu" in target and (target["cpu"] == "bf16_dot") != bf16_dot:
                c.applies = False
                checks.append(c)
                continue
            metric = target["metric"]
            found = None
            for _, rows, *_ in reversed(runs):  # the last run that measured them all
                values = {k: rows.get(n, {}).get(metric) for k, n in names.items()}
                if all(v is not None for v in values.values()):
                    found = values
                    break
            if found is None:  # else each from the last run that measured it, marked across
                found = {}
                for k, n in names.items():
                    v = next((rows[n][metric] for _, rows, *_ in reversed(runs)
                              if n in rows and rows[n][metric] is not None), None)
                    if v is None:
                        c.missing.append(n)
                    found[k] = v
                c.across = not c.missing
            if not c.missing:
                c.value = evaluate(target["value"], found)
            checks.append(c)
    return checks


def run_tier(runs, override=None):
    """The tier whose thresholds apply: override, else the one tier the runs dispatched to;
    TargetError when they disagree or none says."""
    if override:
        if override not in TIERS:
            raise TargetError(f"--tier {override}: not a tier ({', '.join(TIERS)})")
        return override
    tiers = {t for _, _, t, _ in runs if t}
    if len(tiers) != 1:
        raise TargetError("the results dispatched to " + (", ".join(sorted(tiers)) if tiers else "no known tier")
                          + ": give --tier")
    return tiers.pop()


def checks_table(checks):
    """The Markdown table of the checks."""
    out = ["| target | case | measured | threshold | verdict |", "| --- | --- | ---: | ---: | --- |"]
    for c in checks:
        measured = "-" if c.value is None else f"{c.value:.3f}" + (" (across files)" if c.across else "")
        out.append(f"| {c.target['name']} | {c.label or '-'} | {measured} | {c.limit_text()} | {c.status()} |")
    return "\n".join(out)


def benchmarks_table(checks, runs):
    """The Markdown table of the benchmarks the checks read, per file, the probes first: GFLOP/s
    and % of the FMA peak, GB/s and % of the bandwidth probe, each probe of the same file at the
    same thread count; with several files a first column names the file."""
    used = list(dict.fromkeys(n for c in checks for n in c.names.values()))
    several = len(runs) > 1
    out = ["| " + ("file | " if several else "") + "kernel | shape | GFLOP/s | % of peak | GB/s | % of bandwidth |",
           "| " + ("--- | " if several else "") + "--- | --- | ---: | ---: | ---: | ---: |"]
    number = lambda v: "-" if v is None else f"{v:.1f}"
    for path, rows, *_ in runs:
        found = [n for n in used if n in rows and rows[n]["fields"]]
        # The widest tier's probe of each kind and thread count (narrower ones first, overwritten).
        peak_rows = [rows[n] for n in rows if (f := rows[n]["fields"]) and f["stage"] == "peak"]
        order = lambda r: TIERS.index(r["fields"]["isa"]) if r["fields"]["isa"] in TIERS else -1
        probes = {(r["fields"]["variant"], r["fields"]["threads"]): r for r in sorted(peak_rows, key=order)}

        def share(value, probe, metric):
            return f"{100 * value / probe[metric]:.0f} %" if value is not None and probe and probe[metric] else "-"

        for name in sorted(found, key=lambda n: (rows[n]["fields"]["stage"] != "peak", n)):
            r, f = rows[name], rows[name]["fields"]
            kernel = f"{f['stage']}/{f['variant']}/{f['isa']}"
            shape = f"t:{f['threads']}" if f["stage"] == "peak" else f["shape"].replace("/", " ")
            out.append("| " + (f"{os.path.basename(path)} | " if several else "")
                       + f"{kernel} | {shape} | {number(r['gflops'])} | "
                       + f"{share(r['gflops'], probes.get(('fma', f['threads'])), 'gflops')} | {number(r['gbps'])} | "
                       + f"{share(r['gbps'], probes.get(('stream', f['threads'])), 'gbps')} |")
    return "\n".join(out)


def unlisted(targets, listed):
    """The benchmark names the targets read that are not in listed (a set of names; {tier}
    resolved against it), in table order."""
    runs = [("listed", {n: {} for n in listed}, None, False)]
    names = (resolve(n, runs) for t in targets for _, b in t["cases"] for n in b.values())
    # The bf16 dot-product probe exists only on CPUs with AVX512_BF16: a listing made elsewhere
    # lacks it, and the targets reading it are N/A there.
    bf16dot_listed = any(n.startswith("peak/bf16dot/") for n in listed)
    return [n for n in dict.fromkeys(names)
            if n not in listed and (bf16dot_listed or not n.startswith("peak/bf16dot/"))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="*", help="Google Benchmark JSON output of attnbench run")
    parser.add_argument("--table", default=TABLE, help="the targets table (default: bench/targets.toml)")
    parser.add_argument("--tier", help="apply this tier's thresholds (default: the tier the runs dispatched)")
    parser.add_argument("--strict", action="store_true", help="a missing benchmark fails as well")
    parser.add_argument("--listed", help="check that every benchmark of the table is in this list of names")
    args = parser.parse_args()
    try:
        targets = load_table(args.table)
        if args.listed:
            with open(args.listed, encoding="utf-8") as f:
                listed = {display_name(line.strip()) for line in f if line.strip()}
            missing = unlisted(targets, listed)
            for name in missing:
                print(f"not run by bench/targets.sh: {name}")
            print(f"{len(listed)} benchmarks listed; {len(missing)} the table reads are not among them")
            return 1 if missing else 0
        if not args.results:
            parser.error("give result files, or --listed")
        runs = load_runs(args.results)
        tier = run_tier(runs, args.tier)
    except (TargetError, ResultError) as e:
        print(f"check_targets: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"check_targets: cannot read {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    checks = check(targets, runs, tier)
    how = "given by --tier" if args.tier else "the tier these runs dispatched to"
    print(f"thresholds of the {tier} tier ({how}); {len(targets)} targets, {len(checks)} checks")
    print("\n".join(c.line() for c in checks))
    print()
    print(checks_table(checks))
    print()
    print(benchmarks_table(checks, runs))
    statuses = [c.status() for c in checks]
    print(f"\n{statuses.count('PASS')} passed, {statuses.count('FAIL')} failed, {statuses.count('MISSING')} missing"
          + (f", {statuses.count('N/A')} for another kind of CPU" if "N/A" in statuses else ""))
    return 1 if "FAIL" in statuses or (args.strict and "MISSING" in statuses) else 0


if __name__ == "__main__":
    sys.exit(main())
