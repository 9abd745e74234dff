#!/usr/bin/env python3
"""attnbench gate and attnbench compare: is head slower than base?

gate     launches two attnbench builds as fresh processes, round after round in ABBA order, on the
         same benchmarks, and decides on the paired per-round ratios (README, "Regression check
         in CI"); --count-instructions counts instructions under callgrind instead.
compare  decides on two saved results: the repetitions' U test when both files have them, a
         stated threshold when they don't.

Exit status: 0 no regression, 1 regression confirmed, 2 bad input or usage, 3 inconclusive.
"""
import argparse
import glob
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import perfstats  # noqa: E402
from results import ResultError, display_name, load_result, times_ms  # noqa: E402

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_INCONCLUSIVE = 0, 1, 2, 3
# The fast variant of every stage: omp where it is the fastest (and so runs at 1 thread and every
# core), flash for the fused stages.
WATCHED = ("scores/omp/best,softmax/omp/best,weighted_sum/omp/best,attention/flash/best,"
           "projection/omp/best,multihead/flash/best")
PRESETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", "presets")


class UsageError(Exception):
    """Bad input: one line, exit 2."""


def die(message):
    print(f"attnbench: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def progress(text):
    """One progress line on stderr, redrawn in place on a terminal."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + text)
    else:
        sys.stderr.write(text + "\n")
    sys.stderr.flush()


def clear_progress():
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def executable(path, option):
    if not os.path.exists(path):
        raise UsageError(f"gate: {option} {path}: no such file")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise UsageError(f"gate: {option} {path}: not an executable file")
    return os.path.abspath(path)


def preset_path(name):
    path = name if ("/" in name or name.endswith(".txt")) else os.path.join(PRESETS, name + ".txt")
    if not os.path.isfile(path):
        valid = ", ".join(sorted(f[:-4] for f in os.listdir(PRESETS) if f.endswith(".txt")))
        raise UsageError(f"gate: unknown preset '{name}' (valid: {valid}, or a shape file's path)")
    return os.path.abspath(path)


def fmt_ms(ms):
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def fmt_ratio(log_ratio):
    return "inf" if log_ratio == math.inf else "0" if log_ratio == -math.inf else f"{math.exp(log_ratio):.3f}"


# ----------------------------------------------------------------------------------------------
# Launching the builds


class Build:
    """One attnbench executable and how it is launched."""

    def __init__(self, role, path, args):
        self.role, self.path, self.args = role, path, args

    def command(self, extra):
        # The stages and variants of the watched kernels (the layer too, when one is watched).
        return [self.path, "run", "--preset", self.args.preset, "--stage",
                ",".join(sorted({k.split("/")[0] for k in self.args.kernels})), "--variant",
                ",".join(sorted({k.split("/")[1] for k in self.args.kernels})), "--isa", "best",
                "--threads", self.args.threads, "--no-save"] + extra

    def run(self, extra, env=None, wrapper=()):
        cmd = list(wrapper) + self.command(extra)
        if env is None:
            # Unpinned, a fresh process's OpenMP worker may start on its master's CPU: spinning
            # there, it stalled 2-thread calls at 16 ms (a scheduler tick) for the first tenth of a
            # second; sleeping instead, some launches ran 1.6x slower than others throughout.
            # One thread per core, pinned, made short launches repeatable (README).
            env = dict(os.environ)
            env.setdefault("OMP_PROC_BIND", "true")
            env.setdefault("OMP_PLACES", "cores")
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env, check=False)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise UsageError(f"gate: {self.role} {self.path} exited with status {proc.returncode}: {last}")
        return proc

    def benchmarks(self):
        """Full Google Benchmark names of the watched benchmarks this build has."""
        out = self.run(["--benchmark_list_tests=true"]).stdout.split()
        return {n for n in out if any(n.startswith(k + "/") for k in self.args.kernels)}


def filter_flag(full_names):
    """Google Benchmark's filter for exactly these benchmarks (whose names gain /iterations:N
    under --iterations)."""
    names = sorted({re.escape(display_name(n)) for n in full_names})
    return "--benchmark_filter=^(" + "|".join(names) + ")(/iterations:[0-9]+)?(/real_time)?$"


def launch(build, full_names, args, workdir):
    """One fresh process of build measuring these benchmarks: {name: [ms of each repetition]}."""
    out = os.path.join(workdir, f"{build.role}.json")
    started = time.time()
    build.run([filter_flag(full_names), f"--benchmark_repetitions={args.repetitions}",
               "--benchmark_enable_random_interleaving=true", f"--benchmark_min_warmup_time={args.warmup}",
               f"--benchmark_out={out}",
               "--benchmark_out_format=json"])
    try:
        reps = times_ms(load_result(out), out)
    except ResultError as e:
        raise UsageError(f"gate: {build.role} wrote an unreadable result: {e}") from None
    return {"build": build.role, "seconds": round(time.time() - started, 3), "repetitions_ms": reps}


def measure_rounds(builds, full_names, rounds, phase, args, workdir, log, first_round=0):
    """rounds rounds of both builds. Each round visits the benchmarks in a seeded random order and
    launches base and head back to back on each one, base first and head first alternately (ABBA
    across benchmarks and rounds), so the two launches of a pair are a fraction of a second apart
    and what the host does to the machine for seconds at a time hits both alike."""
    rng = random.Random(args.seed * 1000003 + first_round)
    started = time.time()
    for r in range(rounds):
        index = first_round + r
        order = list(full_names)
        rng.shuffle(order)
        launches = {"base": {"seconds": 0.0, "repetitions_ms": {}}, "head": {"seconds": 0.0, "repetitions_ms": {}}}
        for k, name in enumerate(order):
            pair = builds if (index + k) % 2 == 0 else builds[::-1]
            elapsed = int(time.time() - started)
            progress(f"[gate {phase} round {r + 1}/{rounds}, benchmark {k + 1}/{len(order)}, "
                     f"{elapsed // 60}:{elapsed % 60:02d}] {display_name(name)}")
            for b in pair:
                one = launch(b, [name], args, workdir)
                launches[b.role]["seconds"] += one["seconds"]
                launches[b.role]["repetitions_ms"].update(one["repetitions_ms"])
        log.append({"round": index, "phase": phase,
                    "launches": [dict(build=role, **v) for role, v in launches.items()]})
    clear_progress()


def launch_time(repetitions_ms):
    """A launch's time for one benchmark: its fastest repetition, since what a shared machine does
    to a measurement only ever adds time."""
    return min(repetitions_ms)


def log_ratios(log, names, phases):
    """{name: [ln(head median / base median) of each round of these phases]}."""
    out = {n: [] for n in names}
    for rnd in log:
        if rnd["phase"] not in phases:
            continue
        med = {l["build"]: {k: launch_time(v) for k, v in l["repetitions_ms"].items()} for l in rnd["launches"]}
        for n in names:
            if n in med["base"] and n in med["head"]:
                out[n].append(math.log(med["head"][n] / med["base"][n]))
    return out


def medians_of(log, names, role):
    """{name: median over every round of the per-launch medians} of one build."""
    vals = {n: [] for n in names}
    for rnd in log:
        for l in rnd["launches"]:
            if l["build"] == role:
                for n in names:
                    if n in l["repetitions_ms"]:
                        vals[n].append(launch_time(l["repetitions_ms"][n]))
    return {n: (statistics.median(v) if v else math.nan) for n, v in vals.items()}


# ----------------------------------------------------------------------------------------------
# The decision


def summarize(x, margin):
    lo, hi = perfstats.signed_rank_ci(x)
    return {"rounds": len(x), "log_ratio": perfstats.hodges_lehmann(x), "ci": [lo, hi],
            "noise": perfstats.robust_noise(x),
            "p_slower": perfstats.slower_than_margin_p(x, margin),
            "p_faster": perfstats.faster_than_margin_p(x, margin)}


def clear_verdict(s, args):
    """'faster' or 'ok' when the 95% interval rules out a slowdown of --detect or more, else None.
    (A slowdown between the margin and --detect that is not confirmed passes: it is what the
    paired design cannot tell from noise in the rounds it was given.)"""
    if s["ci"][1] < math.log1p(args.detect):
        faster = s["p_faster"] < args.screen_alpha and s["log_ratio"] < -math.log1p(args.margin)
        return "faster" if faster else "ok"
    return None


def decide(log, names, args):
    """Screening on the first rounds, confirmation on fresh ones; returns {name: row}."""
    margin = args.margin
    first = log_ratios(log, names, {"screen"})
    rows = {}
    for n in names:
        s = summarize(first[n], margin)
        s["phase"] = "screen"
        if s["p_slower"] < args.screen_alpha:
            s["verdict"] = "suspect"
        else:
            s["verdict"] = clear_verdict(s, args) or "unclear"
        rows[n] = s
    return rows


def confirm(log, rows, args):
    """Holm over the suspects on the confirmation rounds alone (so the screening that chose them
    does not bias the test); everything else re-judged on all its rounds."""
    margin = args.margin
    retested = [n for n, r in rows.items() if r["verdict"] in ("suspect", "unclear")]
    if not retested:
        return
    fresh = log_ratios(log, retested, {"confirm"})
    pooled = log_ratios(log, retested, {"screen", "confirm"})
    suspects = [n for n in retested if rows[n]["verdict"] == "suspect"]
    p_fresh = [perfstats.slower_than_margin_p(fresh[n], margin) for n in suspects]
    adjusted = dict(zip(suspects, perfstats.holm(p_fresh)))
    for n in retested:
        s = summarize(pooled[n], margin)
        s["phase"] = "confirm"
        s["screen_verdict"] = rows[n]["verdict"]
        if n in adjusted:
            s["p_confirm"] = adjusted[n]
        if n in adjusted and adjusted[n] < args.alpha:
            s["verdict"] = "SLOWER"
        else:
            s["verdict"] = clear_verdict(s, args) or "unknown"
        rows[n] = s


def exit_code(rows):
    verdicts = {r["verdict"] for r in rows.values()}
    if "SLOWER" in verdicts:
        return EXIT_REGRESSION
    if verdicts & {"unknown", "suspect", "unclear"}:
        return EXIT_INCONCLUSIVE
    return EXIT_OK


VERDICT_WORD = {EXIT_OK: "no regression", EXIT_REGRESSION: "REGRESSION", EXIT_INCONCLUSIVE: "inconclusive"}


def gate_table(rows, base_ms, head_ms):
    """Rows of the verdict table, slowest first."""
    table = []
    for n in sorted(rows, key=lambda k: -rows[k]["log_ratio"] if not math.isnan(rows[k]["log_ratio"]) else 0):
        r = rows[n]
        p = r.get("p_confirm", r["p_slower"])
        table.append([n, fmt_ms(base_ms[n]), fmt_ms(head_ms[n]),
                      f"{fmt_ratio(r['log_ratio'])} [{fmt_ratio(r['ci'][0])}, {fmt_ratio(r['ci'][1])}]",
                      f"{p:.2g}", f"{100 * r['noise']:.1f}%", str(r["rounds"]), r["verdict"]])
    return table


GATE_HEADER = ["benchmark", "base ms", "head ms", "head/base [95% CI]", "p", "noise", "rounds", "verdict"]


def print_table(header, table):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *table)] if table else [len(h) for h in header]
    for row in [header] + table:
        print("  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths))))


def markdown_table(header, table):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] + [" ---: "] * (len(header) - 2) + [" --- "]) + "|"]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in table]
    return "\n".join(lines)


def write_text(path, text):
    """Writes atomically: a reader never sees half a file, and an earlier file survives a failure."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError(f"cannot write {path}: {e.strerror}") from None


def finite(x):
    """JSON has no infinity: unbounded interval ends are written as null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, list):
        return [finite(v) for v in x]
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    return x


def run_gate(args):
    if args.rounds < 5 or args.confirm_rounds < 5:
        which = "--rounds" if args.rounds < 5 else "--confirm-rounds"
        value = args.rounds if args.rounds < 5 else args.confirm_rounds
        raise UsageError(f"gate: {which} {value}: the signed-rank test needs at least 5 rounds to reach p < 0.05")
    if args.iterations < 1:
        raise UsageError(f"gate: --iterations {args.iterations}: needs at least 1")
    if args.repetitions < 1:
        raise UsageError(f"gate: --repetitions {args.repetitions}: needs at least 1")
    if not 0 < args.margin < 1 or not args.margin <= args.detect < 1:
        raise UsageError(f"gate: --margin {args.margin} --detect {args.detect}: give fractions, "
                         "0 < margin <= detect < 1, such as 0.03 and 0.10")
    for path in (args.markdown, args.json):
        folder = os.path.dirname(os.path.abspath(path)) if path else None
        if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
            raise UsageError(f"gate: cannot write {path}: {folder} is not a writable folder")
    base = Build("base", executable(args.base, "--base"), args)
    head = Build("head", executable(args.head, "--head"), args)
    args.preset = preset_path(args.preset or ("ci-count" if args.count_instructions else "ci"))
    args.kernels = [k for k in args.kernels.split(",") if k]
    if args.count_instructions:
        return count_instructions(base, head, args)

    base_names, head_names = base.benchmarks(), head.benchmarks()
    common = sorted(base_names & head_names)
    added, removed = sorted(head_names - base_names), sorted(base_names - head_names)
    if not common:
        raise UsageError("gate: the two builds have no benchmark in common "
                         f"(base {len(base_names)}, head {len(head_names)} of the watched kernels)")
    started = time.time()
    log = []
    with tempfile.TemporaryDirectory(prefix="attnbench-gate-") as workdir:
        measure_rounds([base, head], common, args.rounds, "screen", args, workdir, log)
        names = [display_name(n) for n in common]
        rows = decide(log, names, args)
        retest = [f for f in common if rows[display_name(f)]["verdict"] in ("suspect", "unclear")]
        if retest:
            measure_rounds([base, head], retest, args.confirm_rounds, "confirm", args, workdir, log,
                           first_round=args.rounds)
            confirm(log, rows, args)
    code = exit_code(rows)
    base_ms, head_ms = medians_of(log, names, "base"), medians_of(log, names, "head")
    table = gate_table(rows, base_ms, head_ms)
    minutes = (time.time() - started) / 60
    slower = [n for n, r in rows.items() if r["verdict"] == "SLOWER"]
    unknown = [n for n, r in rows.items() if r["verdict"] == "unknown"]
    summary = (f"attnbench gate: {VERDICT_WORD[code]} — {len(common)} benchmarks, "
               f"{args.rounds} rounds + {args.confirm_rounds} confirmation rounds for {len(retest)}, "
               f"margin {100 * args.margin:g}%, alpha {args.alpha:g} (Holm), {minutes:.1f} min")
    legend = ("head/base: Hodges-Lehmann estimate of the per-round time ratio, 95% signed-rank interval; "
              "p: one-sided signed-rank p that head is slower by more than the margin (Holm-adjusted, on "
              "the confirmation rounds alone, where they ran); noise: spread of the per-round ratios (1.4826 MAD)")
    notes = [f"slower than base by more than {100 * args.margin:g}%, confirmed: {', '.join(slower)}" if slower else "",
             f"too noisy to rule out a slowdown of {100 * args.detect:g}%: {', '.join(unknown)}" if unknown else "",
             f"only in head (not gated): {', '.join(display_name(n) for n in added)}" if added else "",
             f"only in base (not gated): {', '.join(display_name(n) for n in removed)}" if removed else ""]
    notes = [n for n in notes if n]
    print_table(GATE_HEADER, table)
    for n in notes:
        print(n)
    print(summary)
    if args.markdown:
        md = [f"### {summary}", "", f"base `{base.path}` · head `{head.path}` · preset `{args.preset}`", "",
              markdown_table(GATE_HEADER, table), ""] + [f"- {n}" for n in notes] + ["", legend]
        write_text(args.markdown, "\n".join(md) + "\n")
    if args.json:
        doc = {"verdict": VERDICT_WORD[code], "exit_code": code, "base": base.path, "head": head.path,
               "preset": args.preset, "kernels": args.kernels, "threads": args.threads,
               "rounds": args.rounds, "confirm_rounds": args.confirm_rounds, "repetitions": args.repetitions,
               "margin": args.margin, "detect": args.detect, "alpha": args.alpha,
               "screen_alpha": args.screen_alpha, "seed": args.seed, "minutes": round(minutes, 2),
               "added": [display_name(n) for n in added], "removed": [display_name(n) for n in removed],
               "benchmarks": {n: dict(rows[n], base_ms=base_ms[n], head_ms=head_ms[n]) for n in names},
               "launches": log}
        write_text(args.json, json.dumps(finite(doc), indent=1) + "\n")
    return code


# ----------------------------------------------------------------------------------------------
# The deterministic lane: instructions under callgrind


def callgrind_counts(build, full_names, args, workdir):
    """{name: instructions of its timed loop} from one callgrind run of build on the AVX2 path."""
    valgrind = shutil.which("valgrind")
    if not valgrind:
        raise UsageError("gate: --count-instructions needs valgrind (apt-get install valgrind)")
    outdir = os.path.join(workdir, build.role)
    os.makedirs(outdir)
    env = dict(os.environ, ATTNBENCH_MAX_ISA="avx2", OMP_NUM_THREADS="1", OMP_WAIT_POLICY="passive",
               OPENBLAS_CORETYPE=os.environ.get("OPENBLAS_CORETYPE", "Haswell"))
    wrapper = [valgrind, "--tool=callgrind", "--collect-atstart=no", "--dump-instr=no",
               f"--callgrind-out-file={outdir}/callgrind.out.%p"]
    build.run([filter_flag(full_names), f"--iterations={args.iterations}", "--benchmark_repetitions=1"],
              env=env, wrapper=wrapper)
    counts = {}
    for path in glob.glob(os.path.join(outdir, "callgrind.out.*")):
        name, total = None, None
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("desc: Trigger: Client Request: "):
                    name = line.split("Client Request: ", 1)[1].strip()
                elif line.startswith("summary:") or line.startswith("totals:"):
                    total = int(line.split()[1])
        if name and total is not None:
            counts[display_name(name)] = total
    if not counts:
        raise UsageError(f"gate: {build.role} counted nothing: was it built without valgrind/callgrind.h?")
    return counts


def count_instructions(base, head, args):
    args.threads = "1"  # one thread: OpenMP's spinning would make counts vary
    common = sorted(base.benchmarks() & head.benchmarks())
    if not common:
        raise UsageError("gate: the two builds have no benchmark in common")
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="attnbench-count-") as workdir:
        counts = {}
        for b in (base, head):
            progress(f"[gate --count-instructions] {b.role} under callgrind, {len(common)} benchmarks")
            counts[b.role] = callgrind_counts(b, common, args, workdir)
    clear_progress()
    names = sorted(set(counts["base"]) & set(counts["head"]))
    table, grew, rows = [], [], {}
    for n in names:
        ratio = counts["head"][n] / counts["base"][n]
        verdict = "MORE" if ratio > 1 + args.instr_threshold else "fewer" if ratio < 1 - args.instr_threshold else "same"
        if verdict == "MORE":
            grew.append(n)
        rows[n] = {"base": counts["base"][n], "head": counts["head"][n], "ratio": ratio, "verdict": verdict}
    for n in sorted(names, key=lambda k: -rows[k]["ratio"]):
        r = rows[n]
        table.append([n, f"{r['base'] / args.iterations:,.0f}", f"{r['head'] / args.iterations:,.0f}",
                      f"{r['ratio']:.4f}", r["verdict"]])
    header = ["benchmark", "base instr/call", "head instr/call", "head/base", "verdict"]
    code = EXIT_REGRESSION if grew else EXIT_OK
    summary = (f"attnbench gate --count-instructions: {'REGRESSION' if grew else 'no regression'} — "
               f"{len(names)} benchmarks, {args.iterations} iterations each at 1 thread, threshold "
               f"{100 * args.instr_threshold:g}%, {(time.time() - started) / 60:.1f} min. Counted under "
               "valgrind on the AVX2 path (ATTNBENCH_MAX_ISA=avx2): valgrind cannot execute AVX-512, and "
               "instruction counts do not see memory stalls or vector width")
    print_table(header, table)
    if grew:
        print(f"more instructions than base by over {100 * args.instr_threshold:g}%: {', '.join(grew)}")
    print(summary)
    if args.markdown:
        write_text(args.markdown, f"### {summary}\n\n{markdown_table(header, table)}\n")
    if args.json:
        write_text(args.json, json.dumps({"verdict": "REGRESSION" if grew else "no regression", "exit_code": code,
                                          "iterations": args.iterations, "threshold": args.instr_threshold,
                                          "isa": "avx2", "benchmarks": rows}, indent=1) + "\n")
    return code


# ----------------------------------------------------------------------------------------------
# compare: two saved results


def run_compare(args):
    if not 0 < args.margin < 1:
        raise UsageError(f"compare: --margin {args.margin}: give a fraction such as 0.10")
    try:
        a = times_ms(load_result(args.base), args.base)
        b = times_ms(load_result(args.head), args.head)
    except ResultError as e:
        raise UsageError(f"compare: {e}") from None
    names = sorted(set(a) & set(b))
    if not names:
        raise UsageError(f"compare: {args.base} and {args.head} have no benchmark in common")
    tested = [n for n in names if min(len(a[n]), len(b[n])) >= args.min_repetitions]
    p_slow = dict(zip(tested, perfstats.holm([perfstats.unpaired_slower_p(a[n], b[n], args.margin) for n in tested])))
    p_fast = dict(zip(tested, perfstats.holm([perfstats.unpaired_faster_p(a[n], b[n], args.margin) for n in tested])))
    rows = {}
    for n in names:
        ratio = statistics.median(b[n]) / statistics.median(a[n])
        if n in p_slow:
            mode = f"U test ({min(len(a[n]), len(b[n]))} reps)"
            if p_slow[n] < args.alpha:
                verdict = "SLOWER"
            elif p_fast[n] < args.alpha:
                verdict = "faster"
            else:
                verdict = "unknown" if ratio > 1 + args.margin else "same"
            p = f"{p_slow[n]:.2g}"
        else:
            mode, p = "threshold", "—"
            verdict = "SLOWER" if ratio > 1 + args.margin else "faster" if ratio < 1 / (1 + args.margin) else "same"
        rows[n] = {"base_ms": statistics.median(a[n]), "head_ms": statistics.median(b[n]), "ratio": ratio,
                   "p": p_slow.get(n), "mode": mode, "verdict": verdict}
    code = exit_code(rows)
    header = ["benchmark", "A ms", "B ms", "B/A", "p", "decided by", "verdict"]
    table = [[n, fmt_ms(r["base_ms"]), fmt_ms(r["head_ms"]), f"{r['ratio']:.3f}",
              "—" if r["p"] is None else f"{r['p']:.2g}", r["mode"], r["verdict"]]
             for n, r in sorted(rows.items(), key=lambda kv: -kv[1]["ratio"])]
    used = (f"the Mann-Whitney U test on log times (Holm, alpha {args.alpha:g}) for the {len(tested)} benchmarks "
            f"with at least {args.min_repetitions} repetitions in both files, " if tested else "") + \
           (f"a {100 * args.margin:g}% threshold on the median ratio for the other {len(names) - len(tested)}"
            if len(tested) < len(names) else "")
    only = [f"only in A: {len(set(a) - set(b))}" if set(a) - set(b) else "",
            f"only in B: {len(set(b) - set(a))}" if set(b) - set(a) else ""]
    summary = (f"attnbench compare: {VERDICT_WORD[code]} — {len(names)} common benchmarks, margin "
               f"{100 * args.margin:g}%; decided by {used.rstrip(', ')}. Two separate runs drift by several "
               "percent on a shared machine: for a fine check, gate two builds in one job instead")
    print_table(header, table)
    for o in only:
        if o:
            print(o)
    print(summary)
    if args.markdown:
        write_text(args.markdown, f"### {summary}\n\n{markdown_table(header, table)}\n")
    if args.json:
        write_text(args.json, json.dumps(finite({"verdict": VERDICT_WORD[code], "exit_code": code, "a": args.base,
                                                 "b": args.head, "margin": args.margin, "alpha": args.alpha,
                                                 "benchmarks": rows}), indent=1) + "\n")
    return code


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def main(argv):
    top = Parser(prog="attnbench", add_help=False)
    sub = top.add_subparsers(dest="command", parser_class=Parser)
    g = sub.add_parser("gate", prog="attnbench gate", description=__doc__.split("\n\n")[0],
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    g.add_argument("--base", required=True, help="the attnbench executable before the change")
    g.add_argument("--head", required=True, help="the attnbench executable after the change")
    g.add_argument("--preset", help="shapes: a preset of bench/presets or a shape file's path "
                   "(default: ci, and ci-count with --count-instructions)")
    g.add_argument("--kernels", default=WATCHED, help="the stage/variant/isa kernels watched")
    g.add_argument("--threads", default=str(os.cpu_count() or 1) if (os.cpu_count() or 1) == 1
                   else f"1,{os.cpu_count()}", help="thread counts of the parallel kernels")
    g.add_argument("--rounds", type=int, default=12, help="screening rounds (each launches both builds)")
    g.add_argument("--confirm-rounds", type=int, default=12,
                   help="fresh rounds for the suspects and the undecided, decided on their own")
    g.add_argument("--repetitions", type=int, default=2, help="in-process repetitions per launch, interleaved")
    g.add_argument("--warmup", type=float, default=0.01,
                   help="seconds each repetition runs untimed first (OpenMP's threads start in a fresh process)")
    g.add_argument("--margin", type=float, default=0.03, help="smallest slowdown that counts (fraction)")
    g.add_argument("--detect", type=float, default=0.10,
                   help="slowdown the gate must be able to see: a benchmark whose 95%% interval reaches it "
                        "without a confirmed regression is 'unknown' (inconclusive)")
    g.add_argument("--alpha", type=float, default=0.01, help="false-alarm rate of the confirmation (Holm)")
    g.add_argument("--screen-alpha", type=float, default=0.05, help="p below which screening suspects a benchmark")
    g.add_argument("--seed", type=int, default=1, help="seed of the benchmark order within rounds")
    g.add_argument("--markdown", help="also write the table as Markdown (for $GITHUB_STEP_SUMMARY)")
    g.add_argument("--json", help="also write every launch's raw numbers and the verdicts as JSON")
    g.add_argument("--count-instructions", action="store_true",
                   help="instead of timing: count each benchmark's instructions under callgrind on the AVX2 path")
    g.add_argument("--iterations", type=int, default=2, help="--count-instructions: iterations per benchmark")
    g.add_argument("--instr-threshold", type=float, default=0.01,
                   help="--count-instructions: relative growth flagged")
    c = sub.add_parser("compare", prog="attnbench compare", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="The gate's table for two saved results A and B (B/A > 1: B slower).")
    c.add_argument("base", metavar="A.json")
    c.add_argument("head", metavar="B.json")
    c.add_argument("--margin", type=float, default=0.10,
                   help="smallest slowdown that counts; two separate runs drift 4-6%% here")
    c.add_argument("--alpha", type=float, default=0.01, help="false-alarm rate of the U tests (Holm)")
    c.add_argument("--min-repetitions", type=int, default=5, help="repetitions needed to use the U test")
    c.add_argument("--markdown", help="also write the table as Markdown")
    c.add_argument("--json", help="also write the verdicts as JSON")
    try:
        args = top.parse_args(argv)
        if args.command == "gate":
            return run_gate(args)
        if args.command == "compare":
            return run_compare(args)
        raise UsageError("expected gate or compare")
    except UsageError as e:
        die(str(e))
    except KeyboardInterrupt:
        clear_progress()
        print("attnbench: gate interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
