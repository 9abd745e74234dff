#!/usr/bin/env python3
"""Figures from the gate runs of bench/gate_proof.sh: end-to-end verdicts, rates resampled from
the pool of real paired rounds, what a single-run threshold and an unpaired U test would have
decided on the same data, and the instruction-count lane.

    /usr/bin/python3 bench/gate_proof.py OUT_DIR    (writes OUT_DIR/PROOF.md and prints it)
"""
import glob
import json
import math
import os
import random
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gate  # noqa: E402
from scipy import stats  # noqa: E402

INJECTED = "attention/flash/best/"
KINDS = [("aa", "A/A, idle machine"), ("aa-loaded", "A/A, one core loaded half the time"),
         ("slow10", "attention/flash/best +10% work"), ("slow20", "attention/flash/best +20% work"),
         ("slow30", "attention/flash/best +30% work")]
RESAMPLED_GATES = 2000


def load(out):
    runs = {k: [] for k, _ in KINDS}
    for path in sorted(glob.glob(os.path.join(out, "*.json"))):
        kind = re.sub(r"-[0-9]+$", "", os.path.basename(path)[:-5])
        if kind in runs:
            with open(path) as f:
                runs[kind].append(json.load(f))
    return runs


def judged(doc):
    """(exit code, names the injected kernel, names another kernel) of one gate."""
    slower = [n for n, b in doc["benchmarks"].items() if b["verdict"] == "SLOWER"]
    return doc["exit_code"], any(n.startswith(INJECTED) for n in slower), any(not n.startswith(INJECTED) for n in slower)


def pct(k, n):
    return f"{k}/{n} ({100 * k / n:.0f}%)" if n else "—"


def end_to_end(runs):
    lines = ["| runs | gates | exit 1 | exit 1 naming attention/flash/best | naming another kernel | exit 3 | exit 0 "
             "| minutes (median) | attention/flash/best head/base (median) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for kind, label in KINDS:
        docs = runs[kind]
        if not docs:
            continue
        j = [judged(d) for d in docs]
        est = [math.exp(b["log_ratio"]) for d in docs for n, b in d["benchmarks"].items() if n.startswith(INJECTED)]
        lines.append(f"| {label} | {len(docs)} | {pct(sum(c == 1 for c, _, _ in j), len(j))} "
                     f"| {pct(sum(c == 1 and a for c, a, _ in j), len(j))} | {pct(sum(o for _, _, o in j), len(j))} "
                     f"| {pct(sum(c == 3 for c, _, _ in j), len(j))} | {pct(sum(c == 0 for c, _, _ in j), len(j))} "
                     f"| {statistics.median(d['minutes'] for d in docs):.1f} "
                     f"| {statistics.median(est):.3f} |")
    return lines


def pool(docs):
    """Every screening round of these gates (each has every benchmark), with its gate's settings."""
    return [r for d in docs for r in d["launches"] if r["phase"] == "screen"]


def resample(docs, rng):
    """Gates simulated by drawing screening and confirmation rounds from the pool of real rounds,
    decided by the gate's own code: (exit code, names injected, names another) each."""
    rounds = pool(docs)
    names = sorted(docs[0]["benchmarks"])
    a = docs[0]
    args = type("Args", (), dict(margin=a["margin"], detect=a["detect"], alpha=a["alpha"],
                                 screen_alpha=a["screen_alpha"]))()
    out = []
    for _ in range(RESAMPLED_GATES):
        log = [dict(rng.choice(rounds), phase="screen") for _ in range(a["rounds"])]
        rows = gate.decide(log, names, args)
        if any(r["verdict"] in ("suspect", "unclear") for r in rows.values()):
            log += [dict(rng.choice(rounds), phase="confirm") for _ in range(a["confirm_rounds"])]
            gate.confirm(log, rows, args)
        code = gate.exit_code(rows)
        slower = [n for n, r in rows.items() if r["verdict"] == "SLOWER"]
        out.append((code, any(n.startswith(INJECTED) for n in slower), any(not n.startswith(INJECTED) for n in slower)))
    return out


def resampled(runs):
    rng = random.Random(2026)
    lines = [f"| runs | pool of real rounds | exit 1 | exit 1 naming attention/flash/best | naming another kernel "
             f"| exit 3 |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for kind, label in KINDS:
        if not runs[kind]:
            continue
        j = resample(runs[kind], rng)
        n = len(j)
        lines.append(f"| {label} | {len(pool(runs[kind]))} | {100 * sum(c == 1 for c, _, _ in j) / n:.1f}% "
                     f"| {100 * sum(c == 1 and a for c, a, _ in j) / n:.1f}% | {100 * sum(o for _, _, o in j) / n:.1f}% "
                     f"| {100 * sum(c == 3 for c, _, _ in j) / n:.1f}% |")
    return lines


def alternatives(runs):
    """What two common alternatives decide on the same launches: one launch of each build against
    a 10% threshold (a nightly job comparing one run with one stored value), and an uncorrected
    two-sided Mann-Whitney U test at p < 0.05 on the two builds' launch times (compare.py's test)."""
    lines = ["| runs | single run, 10% threshold: rounds flagging anything | … flagging attention/flash/best "
             "| … flagging another kernel | U test: gates flagging anything | … flagging attention/flash/best "
             "| … flagging another kernel |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for kind, label in KINDS:
        docs = runs[kind]
        if not docs:
            continue
        single = [0, 0, 0, 0]
        utest = [0, 0, 0, 0]
        for d in docs:
            names = sorted(d["benchmarks"])
            times = {"base": {n: [] for n in names}, "head": {n: [] for n in names}}
            for r in pool([d]):
                flagged = []
                for l in r["launches"]:
                    for n in names:
                        times[l["build"]][n].append(min(l["repetitions_ms"][n]))
                med = {l["build"]: l["repetitions_ms"] for l in r["launches"]}
                flagged = [n for n in names if min(med["head"][n]) / min(med["base"][n]) > 1.10]
                single = [single[0] + 1, single[1] + bool(flagged), single[2] + any(n.startswith(INJECTED) for n in flagged),
                          single[3] + any(not n.startswith(INJECTED) for n in flagged)]
            flagged = [n for n in names if stats.mannwhitneyu(times["head"][n], times["base"][n]).pvalue < 0.05]
            utest = [utest[0] + 1, utest[1] + bool(flagged), utest[2] + any(n.startswith(INJECTED) for n in flagged),
                     utest[3] + any(not n.startswith(INJECTED) for n in flagged)]
        lines.append(f"| {label} | {pct(single[1], single[0])} | {pct(single[2], single[0])} | {pct(single[3], single[0])} "
                     f"| {pct(utest[1], utest[0])} | {pct(utest[2], utest[0])} | {pct(utest[3], utest[0])} |")
    return lines


def count_lane(out):
    lines = []
    docs = {os.path.basename(p)[:-5]: json.load(open(p)) for p in glob.glob(os.path.join(out, "count-*.json"))}
    if {"count-aa-1", "count-aa-2"} <= docs.keys():
        a, b = docs["count-aa-1"]["benchmarks"], docs["count-aa-2"]["benchmarks"]
        same = a == b and all(r["base"] == r["head"] for r in a.values())
        lines.append(f"- Two runs of the lane on two builds of one source: {len(a)} benchmarks, counts "
                     f"{'identical in both runs and between the builds' if same else 'NOT identical'}; "
                     f"verdicts {docs['count-aa-1']['verdict']} / {docs['count-aa-2']['verdict']}.")
    if "count-slow2" in docs:
        d = docs["count-slow2"]
        grew = {n: r["ratio"] for n, r in d["benchmarks"].items() if r["verdict"] == "MORE"}
        others = [abs(r["ratio"] - 1) for n, r in d["benchmarks"].items() if n not in grew]
        lines.append(f"- attention/flash/best doing 2% extra work (in FLOPs; its extra call also packs K and V "
                     f"again, so more in instructions): {d['verdict']} (exit {d['exit_code']}); flagged: "
                     + ", ".join(f"{n} (x{r:.4f})" for n, r in sorted(grew.items())) + "; every other benchmark "
                     f"within {100 * max(others, default=0):.2f}% (the proof build compares each kernel's name "
                     "with the injected one on every call) and not flagged.")
    return lines


def main(out):
    runs = load(out)
    md = ["# Gate proof", "", f"Made by `bash bench/gate_proof.sh {out}` then `/usr/bin/python3 bench/gate_proof.py "
          f"{out}`: real builds of one source, real launches; every gate's JSON, with every launch's times, is "
          "beside this file.", "", "## End to end: every gate run as CI would run it", ""] + end_to_end(runs) + [
          "", f"## Resampled: {RESAMPLED_GATES} gates per row drawn from the pool of real paired rounds", "",
          "Each simulated gate draws its screening and confirmation rounds (whole rounds, all benchmarks) with "
          "replacement from the screening rounds that the end-to-end gates of that row recorded, and is decided by "
          "the gate's own code.", ""] + resampled(runs) + [
          "", "## The same launches judged by a single run against a 10% threshold, and by an unpaired U test", ""] + \
        alternatives(runs) + ["", "## The instruction-count lane", ""] + count_lane(out)
    text = "\n".join(md) + "\n"
    with open(os.path.join(out, "PROOF.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: gate_proof.py OUT_DIR", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
