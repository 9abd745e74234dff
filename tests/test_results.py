"""bench/results.py, the one reader of result files: descriptor fields from the rows' "attnbench"
field; medians (GFLOP/s and GB/s); errors. Then report.py on synthetic results: grouped-query
families, bandwidth columns, roofline plots, the multi-head block against its parts and the
oneDNN machine line; hostile input (run by Debian's /usr/bin/python3: cd tests &&
/usr/bin/python3 -m unittest -v test_results). check_targets.py has tests/test_targets.py."""
import json
import subprocess
import math
import os
import re
import shutil
import sys
import tempfile
import unittest

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench")
sys.path.insert(0, BENCH)
import report  # noqa: E402
import results  # noqa: E402


def row(name, real_time=1.0, unit="ms", gflops=None, run_type="iteration", aggregate=None, error=None,
        fields=None, gbps=None):
    """A Google Benchmark row as attnbench writes it (name as given, run_name the same)."""
    r = {"name": name + (f"_{aggregate}" if aggregate else ""), "run_name": name, "run_type": run_type,
         "real_time": real_time, "cpu_time": real_time, "time_unit": unit, "iterations": 10}
    if aggregate:
        r["aggregate_name"] = aggregate
    if gflops is not None:
        r["GFLOP/s"] = gflops
    if gbps is not None:
        r["GB/s"] = gbps
    if error:
        r.update(error_occurred=True, error_message=error, real_time=0.0, iterations=0)
        r.pop("GFLOP/s", None)
        r.pop("GB/s", None)
    if fields is not None:
        r["attnbench"] = fields
    return r


def kernel_fields(**changes):
    """The "attnbench" field of attention/flash/best/n:128/h:8/d:64/t:2/causal, with changes."""
    f = {"stage": "attention", "variant": "flash", "isa": "best", "shape": "n:128/h:8/d:64/t:2/causal",
         "batch": 1, "heads": 8, "n_q": 128, "n_kv": 128, "head_dim": 64, "threads": 2, "causal": True,
         "similarity": "dot", "scale": 0.125, "scale_given": False}
    f.update(changes)
    f.setdefault("kv_heads", f["heads"])
    return f


class RowField(unittest.TestCase):
    """Files with the "attnbench" row field: the fields come from it, never from the name."""

    def test_the_field_wins_over_the_name(self):
        fields = kernel_fields(n_q=16, n_kv=4096, shape="nq:16/nkv:4096/h:8/d:64/t:2/causal")
        self.assertEqual(results.descriptor(row("attention/flash/best/n:128/h:8/d:64/t:2/causal", fields=fields)),
                         fields)
        self.assertEqual(results.descriptor(row("opaque", fields=fields))["n_kv"], 4096)

    def test_peak_field(self):
        fields = {"stage": "peak", "variant": "fma", "isa": "avx2", "threads": 1}
        self.assertEqual(results.descriptor(row("peak/fma/avx2/t:1/real_time", fields=fields)), fields)

    def test_incomplete_or_malformed_fields_are_refused(self):
        fields = kernel_fields()
        del fields["scale_given"], fields["n_kv"]
        with self.assertRaisesRegex(results.ResultError, r"r\.json: benchmark 'x' lacks the descriptor fields n_kv, scale_given"):
            results.descriptor(row("x", fields=fields), "r.json")
        with self.assertRaisesRegex(results.ResultError, "not an object"):
            results.descriptor(row("x", fields="n:128"))
        with self.assertRaisesRegex(results.ResultError, "threads"):
            results.descriptor(row("x", fields={"stage": "peak", "variant": "fma", "isa": "avx2"}))


class Medians(unittest.TestCase):
    def test_the_median_aggregate_when_the_run_had_repetitions(self):
        name, f = "attention/flash/best/n:128/h:8/d:64/t:2/causal/real_time", kernel_fields()
        data = {"benchmarks": [row(name, 300, "us", gflops=10, fields=f), row(name, 100, "us", gflops=30, fields=f),
                               row(name, 200, "us", gflops=20, fields=f),
                               row(name, 200, "us", gflops=20, run_type="aggregate", aggregate="mean", fields=f),
                               row(name, 250, "us", gflops=25, run_type="aggregate", aggregate="median", fields=f),
                               row(name, 5, "us", gflops=1, run_type="aggregate", aggregate="stddev", fields=f),
                               row(name, 0.1, "us", gflops=0.1, run_type="aggregate", aggregate="cv", fields=f)]}
        m = results.medians(data)
        self.assertEqual(list(m), ["attention/flash/best/n:128/h:8/d:64/t:2/causal"])
        m = m["attention/flash/best/n:128/h:8/d:64/t:2/causal"]
        # The aggregate's figures, not the median of the repetitions (20 GFLOP/s, 200 us).
        self.assertEqual(m["gflops"], 25)
        self.assertAlmostEqual(m["seconds"], 250e-6)
        self.assertIsNone(m["error"])
        self.assertEqual(m["fields"], kernel_fields())

    def test_the_median_of_the_iteration_rows_without_repetitions(self):
        data = {"benchmarks": [row("softmax/simd/avx2/n:64/h:2/d:16/t:1", 3.0, "ms", gflops=10),
                               row("softmax/simd/avx2/n:64/h:2/d:16/t:1", 1.0, "ms", gflops=30),
                               row("softmax/simd/avx2/n:64/h:2/d:16/t:1", 2.0, "ms", gflops=20),
                               row("peak/fma/avx2/t:1/real_time", 4000, "ns", gflops=50,
                                   fields={"stage": "peak", "variant": "fma", "isa": "avx2", "threads": 1}),
                               row("scores/naive/scalar/n:64/h:2/d:16/t:1", 2.0, "s")]}
        m = results.medians(data)
        self.assertEqual(list(m), ["softmax/simd/avx2/n:64/h:2/d:16/t:1", "peak/fma/avx2/t:1",
                                   "scores/naive/scalar/n:64/h:2/d:16/t:1"])
        self.assertEqual(m["softmax/simd/avx2/n:64/h:2/d:16/t:1"]["gflops"], 20)
        self.assertAlmostEqual(m["softmax/simd/avx2/n:64/h:2/d:16/t:1"]["seconds"], 0.002)
        self.assertEqual(m["peak/fma/avx2/t:1"]["gflops"], 50)
        self.assertAlmostEqual(m["peak/fma/avx2/t:1"]["seconds"], 4e-6)
        self.assertEqual(m["peak/fma/avx2/t:1"]["fields"]["stage"], "peak")
        # A row without the counter has seconds but no GFLOP/s.
        self.assertIsNone(m["scores/naive/scalar/n:64/h:2/d:16/t:1"]["gflops"])
        self.assertEqual(m["scores/naive/scalar/n:64/h:2/d:16/t:1"]["seconds"], 2.0)

    def test_errors_and_skips(self):
        skipped = "attention/naive/scalar/n:4096/h:32/d:128/t:1/causal"
        flaky = "attention/flash/best/n:128/h:8/d:64/t:1"
        naive = kernel_fields(variant="naive", isa="scalar", shape=skipped, heads=32, n_q=4096, n_kv=4096,
                              head_dim=128, threads=1)
        data = {"benchmarks": [row(skipped, error="skipped: a call would take about 9 s (max_call_time 2 s)",
                                   fields=naive),
                               row(flaky, 1.0, gflops=10), row(flaky, error="NaN in the output"),
                               row(flaky, 3.0, gflops=30)]}
        m = results.medians(data)
        self.assertEqual(m[skipped]["error"], "skipped: a call would take about 9 s (max_call_time 2 s)")
        self.assertIsNone(m[skipped]["gflops"])
        self.assertIsNone(m[skipped]["seconds"])
        self.assertEqual(m[skipped]["fields"]["n_q"], 4096)
        # The erred repetition is reported and left out of the medians.
        self.assertEqual(m[flaky]["error"], "NaN in the output")
        self.assertEqual(m[flaky]["gflops"], 20)
        self.assertAlmostEqual(m[flaky]["seconds"], 0.002)
        # The gate's reader skips what erred as well.
        self.assertEqual(results.times_ms(data), {flaky: [1.0, 3.0]})

    def test_fields_come_from_the_rows_that_carry_them(self):
        fields = kernel_fields(scale=0.5, scale_given=True, shape="n:128/h:8/d:64/t:2/scale:0.5/causal")
        name = "attention/flash/best/n:128/h:8/d:64/t:2/scale:0.5/causal/real_time"
        data = {"benchmarks": [row(name, 2.0, gflops=10, fields=fields),
                               row(name, 2.0, gflops=10, run_type="aggregate", aggregate="median", fields=fields)]}
        m = results.medians(data)["attention/flash/best/n:128/h:8/d:64/t:2/scale:0.5/causal"]
        self.assertIs(m["fields"], fields)

    def test_bad_rows_are_one_line(self):
        with self.assertRaisesRegex(results.ResultError, "r.json: a benchmark has no name"):
            results.medians({"benchmarks": [{"real_time": 1.0}]}, "r.json")
        with self.assertRaisesRegex(results.ResultError, "r.json: benchmark 'x' has no numeric real_time"):
            results.medians({"benchmarks": [row("x", "fast")]}, "r.json")
        with self.assertRaisesRegex(results.ResultError, "has real_time -1"):
            results.medians({"benchmarks": [row("x", -1)]}, "r.json")

    def test_times_ms_of_aggregates_alone(self):
        data = {"benchmarks": [row("x/real_time", 3.0, "us", run_type="aggregate", aggregate="mean"),
                               row("x/real_time", 2.0, "us", run_type="aggregate", aggregate="median")]}
        self.assertEqual(results.times_ms(data), {"x": [0.002]})


class Readers(unittest.TestCase):
    """report.py on a result whose rows carry the field."""

    def write(self, benchmarks, context=None):
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        self.addCleanup(os.remove, f.name)
        json.dump({"context": context or {}, "benchmarks": benchmarks}, f)
        f.close()
        return f.name

    def test_report_families(self):
        decode = "Llama-2-7B decoding: 16 new tokens"
        rows = [row("peak/fma/avx2/t:1", gflops=100.0, fields={"stage": "peak", "variant": "fma", "isa": "avx2",
                                                                  "threads": 1})]
        for nkv, g in ((1024, 40.0), (4096, 50.0)):
            shape = f"nq:16/nkv:{nkv}/h:32/d:128/t:1/causal"
            rows.append(row(f"opaque{nkv}", gflops=g, fields=kernel_fields(
                shape=shape, n_q=16, n_kv=nkv, heads=32, head_dim=128, threads=1, scale=0.08838834764831845,
                **({"model": decode} if nkv == 4096 else {}))))
        for n in (128, 512):
            rows.append(row(f"scaled{n}", gflops=n / 16, fields=kernel_fields(
                shape=f"n:{n}/h:8/d:64/t:2/scale:0.5/causal", n_q=n, n_kv=n, scale=0.5, scale_given=True)))
            rows.append(row(f"plain{n}", gflops=n / 8, fields=kernel_fields(shape=f"n:{n}/h:8/d:64/t:2/causal",
                                                                            n_q=n, n_kv=n)))
        path = self.write(rows)
        r = report.Result(path)
        self.assertEqual(r.peak, {1: 100.0})
        fams = r.families("attention")
        self.assertEqual([f.label() for f in fams], ["h=8 d=64 causal", "h=8 d=64 scale=0.5 causal",
                                                      "nq=16 h=32 d=128 causal"])
        plain, scaled, rect = fams
        self.assertEqual((r.ns("attention", plain), r.ns("attention", scaled), r.ns("attention", rect)),
                         ([128, 512], [128, 512], [1024, 4096]))
        self.assertEqual(r.gflops("attention", scaled, 512, "flash/best t:2"), 32.0)
        self.assertEqual(r.gflops("attention", plain, 512, "flash/best t:2"), 64.0)
        self.assertEqual(rect.at(4096), "nq=16 nkv=4096 h=32 d=128 causal")
        self.assertEqual(rect.axis(), "nkv")
        self.assertEqual(plain.at(128), "n=128 h=8 d=64 causal")
        self.assertEqual(r.model(rect, 4096), decode)
        self.assertEqual(r.model(rect, 1024), "")
        self.assertEqual(report.summary_rows(r)[-1],
                         ["attention", "nq=16 nkv=4096 h=32 d=128 causal (Llama-2-7B decoding)", "flash/best t:1",
                          "50.0", "50%", "—"])


def shape_text(n_q, n_kv, h, kv, d, t, causal):
    """A shape's text as attnbench prints it: kv: after h: only when it differs from the heads."""
    s = f"n:{n_q}" if n_q == n_kv else f"nq:{n_q}/nkv:{n_kv}"
    return s + f"/h:{h}" + (f"/kv:{kv}" if kv != h else "") + f"/d:{d}/t:{t}" + ("/causal" if causal else "")


def kernel_row(stage, variant, isa, t, n_q, n_kv, h, d, gflops, gbps=None, kv=None, causal=True, model=None,
               with_kv_field=True):
    """A kernel row of a current result (modelled on results/amd-epyc-f25m1-avx2-2c): the name with
    /real_time, "attnbench" with kv_heads (left out with with_kv_field=False, as in older files)."""
    kv = h if kv is None else kv
    text = shape_text(n_q, n_kv, h, kv, d, t, causal)
    fields = {"stage": stage, "variant": variant, "isa": isa, "shape": text, "batch": 1, "heads": h, "n_q": n_q,
              "n_kv": n_kv, "head_dim": d, "threads": t, "causal": causal, "similarity": "dot",
              "scale": 1 / math.sqrt(d), "scale_given": False}
    if with_kv_field:
        fields["kv_heads"] = kv
    if model:
        fields["model"] = model
    return row(f"{stage}/{variant}/{isa}/{text}/real_time", 2.0, gflops=gflops, gbps=gbps, fields=fields)


def probe_row(variant, t, value, isa="avx2"):
    """A peak/fma (GFLOP/s) or peak/stream (GB/s) probe's row."""
    counter = {"gflops": value} if variant == "fma" else {"gbps": value}
    return row(f"peak/{variant}/{isa}/t:{t}/real_time", 7.8, fields={"stage": "peak", "variant": variant, "isa": isa,
                                                                    "threads": t}, **counter)


MACHINE = {"cpu_model": "AMD EPYC", "logical_cpus": 2, "physical_cores": 2, "isa_dispatched": "avx2",
           "isa_available": ["sse2", "avx2"], "compiler": "g++ 12.2.0", "commit": "abc123", "date": "2026-11-26T10:00:00Z",
           "caches": []}


def synthetic(stream=True, gbps=True, context_stream=False):
    """A result as the C++ side writes it once it measures grouped-query shapes and the bandwidth
    probe: the probes at 1 and 2 threads, attention at Llama-2-7B (multi-head) and Llama-3-8B
    (grouped-query) prefill and decode shapes, softmax (memory-bound) at one of them. stream=False
    leaves out the peak/stream rows (an older result), gbps=False the kernels' GB/s counters too;
    context_stream puts the probe in the context only."""
    benchmarks = [probe_row("fma", 1, 100.0), probe_row("fma", 2, 200.0)]
    if stream:
        benchmarks += [probe_row("stream", 1, 12.0), probe_row("stream", 2, 20.0)]
    ctx = {"attnbench": {"fingerprint": "amd-epyc-f25m1-avx2-2c", "fma_peak_gflops": {"1": 100.0, "2": 200.0},
                         "machine": MACHINE, "sweep": {"command": "attnbench run"}}}
    if context_stream:
        ctx["attnbench"]["stream_peak_gbps"] = {"1": 11.0, "2": 19.0}
    for t, variants in ((1, (("naive", "scalar"), ("flash", "best"))), (2, (("flash", "best"),))):
        for variant, isa in variants:
            speed = 0.1 if variant == "naive" else 0.8 * t
            for n in (512, 2048):
                for kv in (32, 8):
                    # Prefill: n / 8 FLOPs per byte, bound by arithmetic.
                    benchmarks.append(kernel_row("attention", variant, isa, t, n, n, 32, 128, 90.0 * speed,
                                                 (90.0 * speed / (n / 8) if gbps else None), kv=kv,
                                                 model="Llama: prefill"))
            for nkv in (8192, 32768):
                # Decoding: about 1 FLOP per byte of K/V cache, bound by memory.
                benchmarks.append(kernel_row("attention", variant, isa, t, 1, nkv, 32, 128, 8.0 * speed,
                                             (8.0 * speed if gbps else None), kv=8, model="Llama-3-8B: decode"))
            benchmarks.append(kernel_row("softmax", variant, isa, t, 2048, 2048, 32, 128, 3.0 * speed,
                                         (9.0 * speed if gbps else None)))
    return {"context": ctx, "benchmarks": benchmarks}


class TempFiles(unittest.TestCase):
    def write(self, data, name=None):
        """The path of a temporary JSON file holding data."""
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        path = os.path.join(folder, name or "result.json")
        with open(path, "w") as f:
            json.dump(data, f)
        return path


class Bandwidth(TempFiles):
    """GB/s medians, grouped-query families, the bandwidth probe in the report and the roofline."""

    def test_gbps_medians_follow_the_gflops_rules(self):
        name = "attention/flash/best/nq:1/nkv:8192/h:32/kv:8/d:128/t:2/causal/real_time"
        data = {"benchmarks": [row(name, 3, gflops=1, gbps=10), row(name, 1, gflops=3, gbps=30),
                               row(name, 2, gflops=2, gbps=20)]}
        m = results.medians(data)["attention/flash/best/nq:1/nkv:8192/h:32/kv:8/d:128/t:2/causal"]
        self.assertEqual((m["gflops"], m["gbps"]), (2, 20))
        # The median aggregate wins over the repetitions, as for GFLOP/s.
        data["benchmarks"].append(row(name, 2, gflops=2.5, gbps=25, run_type="aggregate", aggregate="median"))
        self.assertEqual(results.medians(data)["attention/flash/best/nq:1/nkv:8192/h:32/kv:8/d:128/t:2/causal"]["gbps"],
                         25)
        # The stream probe has GB/s alone; a row without the counter (or with a non-number) has None;
        # an erred row counts for neither.
        data = {"benchmarks": [probe_row("stream", 2, 19.5), row("x", 1.0, gflops=4.0),
                               row("y", 1.0, gflops=1.0, gbps=5.0), row("y", 3.0, gflops=3.0, gbps=7.0),
                               row("y", error="NaN in the output")]}
        data["benchmarks"][1]["GB/s"] = "fast"
        m = results.medians(data)
        self.assertEqual((m["peak/stream/avx2/t:2"]["gflops"], m["peak/stream/avx2/t:2"]["gbps"]), (None, 19.5))
        self.assertEqual(m["peak/stream/avx2/t:2"]["fields"]["variant"], "stream")
        self.assertIsNone(m["x"]["gbps"])
        self.assertEqual(m["y"]["gbps"], 6.0)
        skipped = results.medians({"benchmarks": [row("z", error="skipped: too slow")]})["z"]
        self.assertEqual((skipped["gflops"], skipped["gbps"], skipped["seconds"]), (None, None, None))

    def test_kv_heads_defaults_to_heads(self):
        old = kernel_fields()
        del old["kv_heads"]
        fields = results.descriptor(row("x", fields=old))
        self.assertEqual(fields["kv_heads"], 8)
        self.assertNotIn("kv_heads", old, "the row itself is left as it was")
        self.assertEqual(results.descriptor(row("x", fields=kernel_fields(kv_heads=0)))["kv_heads"], 8)
        gqa = kernel_fields(heads=32, kv_heads=8)
        self.assertIs(results.descriptor(row("x", fields=gqa)), gqa)

    def test_bad_kv_heads_are_one_line(self):
        for kv in (3, -1, "8", True, 1.5, [8]):
            with self.subTest(kv=kv), self.assertRaisesRegex(results.ResultError,
                                                             r"^r\.json: benchmark 'x' has kv_heads .*, not a positive "
                                                             r"divisor of its heads 8$"):
                results.descriptor(row("x", fields=kernel_fields(kv_heads=kv)), "r.json")

    def test_bad_kv_heads_refused_by_report(self):
        data = synthetic()
        data["benchmarks"][-1]["attnbench"]["kv_heads"] = 5
        path = self.write(data)
        for script in ("report.py",):
            with self.subTest(script=script):
                r = subprocess.run([sys.executable, os.path.join(BENCH, script), path], capture_output=True,
                                   text=True, timeout=120)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn("has kv_heads 5, not a positive divisor of its heads 32", r.stderr)

    def test_kv_heads_separate_families(self):
        r = report.Result(self.write(synthetic()))
        fams = r.families("attention")
        self.assertEqual([f.label() for f in fams], ["h=32 d=128 causal", "h=32 kv=8 d=128 causal",
                                                      "nq=1 h=32 kv=8 d=128 causal"])
        mha, gqa, decode = fams
        self.assertNotEqual(mha, gqa)
        self.assertNotEqual(hash(mha), hash(gqa))
        self.assertEqual(len({f.slug() for f in fams}), 3)
        self.assertEqual(gqa.slug(), "h32-kv8-d128-causal")
        self.assertEqual(decode.at(32768), "nq=1 nkv=32768 h=32 kv=8 d=128 causal")
        self.assertEqual(r.ns("attention", gqa), [512, 2048])
        self.assertEqual(r.ns("attention", decode), [8192, 32768])
        # A row written before kv_heads existed joins the multi-head family of a current one.
        old = kernel_row("attention", "flash", "best", 2, 512, 512, 32, 128, 1.0, with_kv_field=False)
        self.assertEqual(report.Family.of(results.descriptor(old)), mha)
        self.assertEqual(report.Family.of(results.descriptor(old)), report.Family(32, 128, 1, True, False, kv=32))

    def test_bandwidth_probe_rows_and_context(self):
        r = report.Result(self.write(synthetic()))
        self.assertEqual((r.peak, r.bandwidth), ({1: 100.0, 2: 200.0}, {1: 12.0, 2: 20.0}))
        # The context fills in a result whose rows lack the probe, and never overrides the rows.
        self.assertEqual(report.Result(self.write(synthetic(stream=False, context_stream=True))).bandwidth,
                         {1: 11.0, 2: 19.0})
        self.assertEqual(report.Result(self.write(synthetic(context_stream=True))).bandwidth, {1: 12.0, 2: 20.0})
        self.assertEqual(report.Result(self.write(synthetic(stream=False))).bandwidth, {})

    def test_bandwidth_columns(self):
        r = report.Result(self.write(synthetic()))
        self.assertEqual(report.summary_header(r), report.SUMMARY_HEADER + ["GB/s", "% of bw"])
        rows = {(x[0], x[1]): x for x in report.summary_rows(r)}
        decode = rows[("attention", "nq=1 nkv=32768 h=32 kv=8 d=128 causal (Llama-3-8B)")]
        # flash at 2 threads: 12.8 GFLOP/s (6% of 200), 12.8 GB/s (64% of the probe's 20 GB/s).
        self.assertEqual(decode, ["attention", "nq=1 nkv=32768 h=32 kv=8 d=128 causal (Llama-3-8B)", "flash/best t:2",
                                  "12.8", "6%", "16×", "12.8", "64%"])
        self.assertEqual(rows[("softmax", "n=2048 h=32 d=128 causal (Llama)")][6:], ["14.4", "72%"])
        md = report.stage_tables(r)
        self.assertIn("| flash/best t:2 | 12.8 (6%, 16×) | 12.8 (6%, 16×) |", md)
        self.assertIn("| ↳ GB/s | 12.8 (64%) | 12.8 (64%) |", md)
        self.assertIn("| ↳ GB/s | 6.4 (53%) | 6.4 (53%) |", md)  # flash t:1 against 12 GB/s at t:1
        # The lines tests/run_report_e2e.sh looks for keep their form.
        self.assertRegex(md, r"(?m)^\| flash/best t:2 \| [0-9.]+ \([0-9]+%, [0-9.]+×\) \|")
        text = report.text_table(report.summary_header(r), report.summary_rows(r))
        self.assertRegex(text, r"(?m)^attention +n=2048 h=32 d=128 causal \(Llama\) +[a-z]+/[a-z0-9]+ t:[12] +[0-9.]+ "
                               r"+[0-9]+% +[0-9.]+× +[0-9.]+ +[0-9]+%$")
        machine = report.machine_section(r)
        self.assertIn("- FMA peak measured in this run: 100.0 GFLOP/s at t:1, 200.0 GFLOP/s at t:2", machine)
        self.assertIn("measured in this run: 12.0 GB/s at t:1, 20.0 GB/s at t:2", machine)
        self.assertIn("% of the memory bandwidth probe", report.how_to_read(r))

    def test_an_older_result_reports_without_the_probe(self):
        r = report.Result(self.write(synthetic(stream=False)))
        self.assertEqual(report.summary_header(r), report.SUMMARY_HEADER + ["GB/s"])
        self.assertTrue(all(len(x) == 7 for x in report.summary_rows(r)))
        self.assertIn("| ↳ GB/s | 12.8 | 12.8 |", report.stage_tables(r))
        self.assertIn("bandwidth probe (peak/stream: GB read per second) measured in this run: not measured",
                      report.machine_section(r))
        self.assertIn("was not measured in this run", report.how_to_read(r))
        self.assertIn("not measured, so there is no bandwidth slope", report.roofline_section(r))
        # Without the kernels' counter as well: the table of an older report, no roofline.
        r = report.Result(self.write(synthetic(stream=False, gbps=False)))
        self.assertEqual(report.summary_header(r), report.SUMMARY_HEADER)
        self.assertNotIn("GB/s |", report.stage_tables(r))
        self.assertEqual(report.roofline_threads(r), [])
        self.assertIn("no roofline plot", report.roofline_section(r))

    def is_png(self, path):
        with open(path, "rb") as f:
            return f.read(8) == b"\x89PNG\r\n\x1a\n"

    def test_roofline_plots(self):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            self.skipTest("matplotlib is missing")
        for kind in ("probe", "no probe", "no GB/s"):
            with self.subTest(kind=kind):
                data = synthetic(stream=kind == "probe", gbps=kind != "no GB/s")
                path = self.write(data)
                out = os.path.dirname(path)
                r = report.Result(path)
                with open(report.write_report(r, out)) as f:
                    md = f.read()
                report.draw_report_plots(r, out)
                plots = sorted(os.listdir(os.path.join(out, "plots")))
                rooflines = [p for p in plots if p.startswith("roofline")]
                if kind == "no GB/s":
                    self.assertEqual(rooflines, [])
                    self.assertNotIn("plots/roofline", md)
                else:
                    self.assertEqual(rooflines, ["roofline.png"])
                    self.assertIn("![roofline](plots/roofline.png)", md)
                    self.assertTrue(self.is_png(os.path.join(out, "plots", "roofline.png")))
                # Every plot the report links to was drawn, and nothing else: one per stage (all its
                # shape families), the roofline and the thread scaling.
                self.assertEqual(sorted(re.findall(r"\]\(plots/([^)]+)\)", md)), plots)
                self.assertEqual(sorted(p for p in plots if p not in rooflines),
                                 ["attention.png", "softmax.png", "threads.png"])

    def test_roofline_points_are_the_fastest_at_each_thread_count(self):
        r = report.Result(self.write(synthetic()))
        decode = r.families("attention")[2]
        pts = report.roofline_points(r, "attention", 1)[(decode, "f32")]
        self.assertEqual([(n, label) for n, label, *_ in pts], [(8192, "flash/best t:1"), (32768, "flash/best t:1")])
        self.assertAlmostEqual(pts[0][2], 1.0)  # 6.4 GFLOP/s over 6.4 GB/s
        self.assertEqual(report.roofline_points(r, "attention", 2)[(decode, "f32")][0][3], 12.8)

    def test_compare_keeps_working(self):
        a = self.write(synthetic(), "a.json")
        b_data = synthetic(stream=False)
        for x in b_data["benchmarks"]:
            if "GFLOP/s" in x and x["attnbench"]["stage"] != "peak":
                x["GFLOP/s"] *= 1.1
        b = self.write(b_data, "b.json")
        out = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, out)
        r = subprocess.run([sys.executable, os.path.join(BENCH, "report.py"), a, b, "--out", out],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "COMPARE.md")) as f:
            md = f.read()
        self.assertIn("| attention | nq=1 nkv=8192 h=32 kv=8 d=128 causal | flash/best t:2 | 12.8 | 14.1 | 1.10 |", md)
        self.assertIn("| attention | n=2048 h=32 kv=8 d=128 causal | flash/best t:2 |", md)
        self.assertTrue(os.path.getsize(os.path.join(out, "plots", "compare-kernels.png")) > 0)

    def test_report_command_on_a_current_result(self):
        path = self.write(synthetic())
        r = subprocess.run([sys.executable, os.path.join(BENCH, "report.py"), path],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"stage +shape +fastest kernel +GFLOP/s +% of peak +× naive +GB/s +% of bw")


class StorageTypes(TempFiles):
    """16-bit kernels beside the fp32 ones: their own labels, summary rows, share of their peak."""

    def result(self, products="vdpbf16ps (AVX512_BF16; vdpbf16ps measured at 2.01x the FMA's multiply-adds)"):
        data = synthetic()
        attn = data["context"]["attnbench"]
        attn["machine"] = dict(attn["machine"], bf16_products=products)
        data["benchmarks"].append(row("peak/bf16dot/avx512/t:2/real_time", 7.8, gflops=400.0,
                                      fields={"stage": "peak", "variant": "bf16dot", "isa": "avx512", "threads": 2}))
        for dtype, speed in (("bf16", 2.0), ("f16", 1.5)):
            r = kernel_row("attention", "flash", "best", 2, 1, 32768, 32, 128, 8.0 * 1.6 * speed, 8.0 * 1.6 * speed,
                           kv=8, model=f"Llama-3-8B in {dtype}: decode")
            r["name"] = r["run_name"] = r["name"].replace("/real_time", f"/dt:{dtype}/real_time")
            r["attnbench"] = dict(r["attnbench"], dtype=dtype, shape=r["attnbench"]["shape"] + f"/dt:{dtype}")
            data["benchmarks"].append(r)
        return report.Result(self.write(data))

    def test_types_sit_side_by_side_and_keep_their_own_fastest(self):
        r = self.result()
        decode = r.families("attention")[2]
        labels = r.labels("attention", decode)
        self.assertIn("flash/best t:2", labels)
        self.assertEqual(labels.index("flash/best/bf16 t:2"), labels.index("flash/best t:2") + 1)
        self.assertEqual(r.dtypes("attention", decode, 32768), ["f32", "bf16", "f16"])
        self.assertEqual(r.dtypes("attention", decode, 8192), ["f32"])
        # The faster bf16 kernel is not the fp32 shape's fastest.
        self.assertEqual(r.fastest("attention", decode, 32768)[0], "flash/best t:2")
        self.assertEqual(r.fastest("attention", decode, 32768, dtype="bf16")[0], "flash/best/bf16 t:2")
        shapes = [x[1] for x in report.summary_rows(r) if x[0] == "attention" and "nkv=32768" in x[1]]
        self.assertEqual([s.split(" (")[0] for s in shapes],
                         ["nq=1 nkv=32768 h=32 kv=8 d=128 causal", "nq=1 nkv=32768 h=32 kv=8 d=128 causal dt=bf16",
                          "nq=1 nkv=32768 h=32 kv=8 d=128 causal dt=f16"])
        self.assertEqual(set(report.roofline_points(r, "attention", 2)), {(f, d) for f in r.families("attention")
                                                                       for d in r.dtypes("attention", f)})

    def test_each_type_keeps_its_own_preset_comment(self):
        # The same shape listed in fp32 and in bf16 carries each line's comment, whichever came last.
        r = self.result()
        decode = r.families("attention")[2]
        self.assertEqual(r.model(decode, 32768, dtype="bf16"), "Llama-3-8B in bf16: decode")
        rows = {x[1].split(" (")[0]: x[1] for x in report.summary_rows(r) if x[0] == "attention" and "nkv=32768" in x[1]}
        self.assertTrue(rows["nq=1 nkv=32768 h=32 kv=8 d=128 causal"].endswith("(Llama-3-8B)"))
        self.assertTrue(rows["nq=1 nkv=32768 h=32 kv=8 d=128 causal dt=f16"].endswith("(Llama-3-8B in f16)"))

    def test_bf16_share_is_of_the_bf16_probe_where_its_products_ran(self):
        r = self.result()
        self.assertEqual(r.bf16dot, {2: 400.0})
        self.assertAlmostEqual(r.share(100.0, 2, "flash/best/bf16 t:2"), 0.25)
        self.assertAlmostEqual(r.share(100.0, 2, "flash/best/f16 t:2"), 0.5)  # f16: the FMA peak
        self.assertAlmostEqual(r.share(100.0, 2, "flash/best t:2"), 0.5)
        # Where the products were widened to fp32 FMAs (vdpbf16ps slower than them), the FMA peak.
        r = self.result("fp32 FMAs on widened inputs (vdpbf16ps measured at 0.50x the FMA's multiply-adds)")
        self.assertEqual(r.bf16dot, {2: 400.0})
        self.assertAlmostEqual(r.share(100.0, 2, "flash/best/bf16 t:2"), 0.5)

    def bf16_projection_rows(self, probe, probe_seconds, probe_gflops, counter, shares, gflops):
        """A result with the probe `probe` (peak/<probe>, t:2) and a bf16 omp projection row at
        n 2048, 4096 and 8192 (8 K/V heads of 32 x 128) carrying `counter` at each of `shares`
        (None: no counter); returns the result, the row key by n and the FMA peak at t:2."""
        data = synthetic()
        data["benchmarks"].append(row(f"peak/{probe}/avx512/t:2/real_time", probe_seconds, gflops=probe_gflops,
                                      fields={"stage": "peak", "variant": probe, "isa": "avx512", "threads": 2}))
        for share, n in zip(shares, (2048, 4096, 8192)):
            r = kernel_row("projection", "omp", "best", 2, n, n, 32, 128, gflops, kv=8)
            r["name"] = r["run_name"] = r["name"].replace("/real_time", "/dt:bf16/real_time")
            r["attnbench"] = dict(r["attnbench"], dtype="bf16", shape=r["attnbench"]["shape"] + "/dt:bf16")
            if share is not None:
                r[counter] = share
            data["benchmarks"].append(r)
        result = report.Result(self.write(data))
        fam = next(f for f in result.families("projection") if f.kv == 8)
        return result, (lambda n: ("projection", fam, n, "omp/best/bf16 t:2")), result.peak[2]

    def test_a_row_mostly_on_tiles_is_read_against_the_tile_probe(self):
        result, key, fma = self.bf16_projection_rows("amx", 5.0, 2000.0, "amx_share", (0.97, 0.3, None), 500.0)
        self.assertEqual(result.amx, {2: 2000.0})
        self.assertAlmostEqual(result.share(500.0, 2, "omp/best/bf16 t:2", key(2048)), 0.25)
        self.assertAlmostEqual(result.share(500.0, 2, "omp/best/bf16 t:2", key(4096)), 500.0 / fma)
        self.assertAlmostEqual(result.share(500.0, 2, "omp/best/bf16 t:2", key(8192)), 500.0 / fma)
        self.assertIn("AMX tile peak (peak/amx", report.machine_section(result))

    def test_a_row_mostly_on_vdpbf16ps_is_read_against_the_bf16_probe(self):
        # With dot_share counters in the run, they decide, whatever the variant: the bf16 projection
        # that ran vdpbf16ps reads against the bf16 probe, a row that mostly widened against the FMA's.
        result, key, fma = self.bf16_projection_rows("bf16dot", 7.8, 400.0, "dot_share", (1.0, 0.3, None), 100.0)
        self.assertTrue(result.counts_dot)
        self.assertAlmostEqual(result.share(100.0, 2, "omp/best/bf16 t:2", key(2048)), 0.25)
        self.assertAlmostEqual(result.share(100.0, 2, "omp/best/bf16 t:2", key(4096)), 100.0 / fma)
        self.assertAlmostEqual(result.share(100.0, 2, "omp/best/bf16 t:2", key(8192)), 100.0 / fma)


class BlockAgainstParts(TempFiles):
    """report.py's table of the multi-head block against its parts measured alone."""

    def rows(self, kv=32, attention_t2=True):
        timed = lambda stage, variant, t, ms, n=2048: dict(kernel_row(stage, variant, "best", t, n, n, 32, 128, 1.0,
                                                                      kv=kv, model="Llama-2-7B: prompt"),
                                                           real_time=ms, cpu_time=ms)
        rows = [timed("multihead", "flash", 2, 2300.0), timed("multihead", "omp", 2, 2500.0),
                timed("multihead", "flash", 1, 4400.0),
                timed("projection", "omp", 2, 460.0), timed("projection", "openblas", 2, 430.0),
                timed("projection", "omp", 1, 900.0), timed("attention", "flash", 1, 520.0),
                timed("multihead", "flash", 2, 300.0, n=512)]
        if attention_t2:
            rows += [timed("attention", "flash", 2, 260.0), timed("attention", "omp", 2, 400.0)]
        return rows

    def test_fastest_block_against_fastest_parts(self):
        r = report.Result(self.write({"context": {}, "benchmarks": self.rows()}))
        self.assertEqual(report.block_rows(r), [
            ["n=2048 h=32 d=128 causal (Llama-2-7B)", "flash/best t:1", "4 × projection omp/best + attention flash/best",
             "4400.0", "4120.0", "1.07×"],
            ["n=2048 h=32 d=128 causal (Llama-2-7B)", "flash/best t:2",
             "4 × projection openblas/best + attention flash/best", "2300.0", "1980.0", "1.16×"]])
        section = report.block_section(r)
        self.assertTrue(section.startswith("## The multi-head block against its parts\n\n"), section)
        self.assertIn("| n=2048 h=32 d=128 causal (Llama-2-7B) | flash/best t:2 | 4 × projection openblas/best + "
                      "attention flash/best | 2300.0 | 1980.0 | 1.16× |", section)
        self.assertIn(section, report_text(self, r))

    def test_grouped_heads_count_narrower_projections(self):
        r = report.Result(self.write({"context": {}, "benchmarks": self.rows(kv=8)}))
        row = report.block_rows(r)[1]
        self.assertEqual(row[2], "2.5 × projection openblas/best + attention flash/best")
        self.assertEqual(row[4], report.fmt(2.5 * 430.0 + 260.0))

    def test_nothing_to_compare(self):
        # No attention at t:2: that thread count has no row; no multihead stage: no section.
        r = report.Result(self.write({"context": {}, "benchmarks": self.rows(attention_t2=False)}))
        self.assertEqual([row[1] for row in report.block_rows(r)], ["flash/best t:1"])
        r = report.Result(self.write({"context": {}, "benchmarks": [
            dict(kernel_row("attention", "flash", "best", 2, 512, 512, 8, 64, 10.0))]}))
        self.assertEqual(report.block_rows(r), [])
        self.assertEqual(report.block_section(r), "")
        self.assertNotIn("multi-head block", report_text(self, r))


class LayerSteps(TempFiles):
    """report.py's section on where a layer call's time goes, read from the rows' share counters."""

    def rows(self):
        def layer(variant, t, ms, n, shares):
            r = dict(kernel_row("layer", variant, "best", t, n, n, 12, 64, 1.0, causal=False, model="BERT-base: x"),
                     real_time=ms, cpu_time=ms)
            r.update({"share:" + step: v for step, v in shares.items()})
            return r
        fast = {"positions": 0.01, "qkv": 0.2, "attention": 0.1, "output": 0.1, "norm1": 0.01, "ffn_up": 0.3,
                "activation": 0.0, "ffn_down": 0.25, "norm2": 0.01}
        long = dict(fast, attention=0.4, ffn_up=0.15, ffn_down=0.1)
        return [layer("flash", 1, 10.0, 128, fast), layer("onednn", 1, 12.0, 128, dict(fast, attention=0.5)),
                layer("flash", 1, 90.0, 1024, long),
                # A layer row without the counters (an older file) adds no line.
                dict(kernel_row("layer", "omp", "best", 2, 128, 128, 12, 64, 1.0, causal=False), real_time=5.0)]

    def test_fastest_kernel_shares_with_the_rest_as_other(self):
        r = report.Result(self.write({"context": {}, "benchmarks": self.rows()}))
        self.assertEqual(report.layer_steps_of(r), ["positions", "qkv", "attention", "output", "norm1", "ffn_up",
                                                    "activation", "ffn_down", "norm2"])
        self.assertEqual(report.layer_share_rows(r), [
            ["n=128 h=12 d=64 (BERT-base)", "flash/best t:1", "10.00", "1%", "20%", "10%", "10%", "1%", "30%", "—",
             "25%", "1%", "2%"],
            ["n=1024 h=12 d=64 (BERT-base)", "flash/best t:1", "90.00", "1%", "20%", "40%", "10%", "1%", "15%", "—",
             "10%", "1%", "2%"]])
        section = report.layer_section(r)
        self.assertTrue(section.startswith("## Where the layer's time goes\n\n"), section)
        self.assertIn(section, report_text(self, r))

    def test_steps_alone_column_when_measured(self):
        rows = self.rows()
        rows[0]["vs_steps_alone"] = 1.07
        r = report.Result(self.write({"context": {}, "benchmarks": rows}))
        self.assertEqual([row[-1] for row in report.layer_share_rows(r)], ["1.07×", "—"])
        self.assertIn("| ÷ steps alone |", report.layer_section(r))
        self.assertNotIn("÷ steps alone |", report.layer_section(report.Result(
            self.write({"context": {}, "benchmarks": self.rows()}))))

    def test_median_of_the_shares_over_iterations(self):
        rows = []
        for share in (0.1, 0.5, 0.3):
            r = dict(kernel_row("layer", "flash", "best", 1, 128, 128, 12, 64, 1.0, causal=False))
            r["share:attention"] = share
            rows.append(r)
        r = report.Result(self.write({"context": {}, "benchmarks": rows}))
        self.assertEqual(report.layer_share_rows(r)[0][3:], ["30%", "70%"])

    def test_no_layer_no_section(self):
        r = report.Result(self.write({"context": {}, "benchmarks": [
            dict(kernel_row("attention", "flash", "best", 2, 512, 512, 8, 64, 10.0))]}))
        self.assertEqual(report.layer_section(r), "")
        self.assertNotIn("layer's time", report_text(self, r))


def report_text(case, r):
    """The REPORT.md that report.py writes for r, in a temporary folder."""
    folder = tempfile.mkdtemp()
    case.addCleanup(shutil.rmtree, folder)
    with open(report.write_report(r, folder)) as f:
        return f.read()


class OnednnReport(TempFiles):
    """report.py: the onednn variant's place and the oneDNN build in the machine section."""

    def test_machine_line(self):
        data = synthetic()
        machine = data["context"]["attnbench"]["machine"]
        machine.update(openblas_core="Zen", onednn_version="2.6.3", onednn_runtime="OpenMP", onednn_isa="avx2")
        build = next(line for line in report.machine_section(report.Result(self.write(data))).splitlines()
                     if line.startswith("- Build:"))
        self.assertTrue(build.endswith("OpenBLAS core Zen; oneDNN 2.6.3 (OpenMP, avx2)"), build)
        for version in ("not built", None):
            with self.subTest(onednn_version=version):
                for key in ("onednn_version", "onednn_runtime", "onednn_isa"):
                    machine.pop(key, None)
                if version:
                    machine["onednn_version"] = version
                self.assertIn("OpenBLAS core Zen; oneDNN not built\n",
                              report.machine_section(report.Result(self.write(data))))

    def test_onednn_comes_after_openblas(self):
        # "accel" stands for a variant the report does not know: those come last, by name.
        rows = [kernel_row("attention", v, isa, t, 512, 512, 8, 64, g, causal=False)
                for v, isa, t, g in (("onednn", "best", 2, 50.0), ("openblas", "best", 2, 40.0),
                                     ("accel", "best", 2, 60.0), ("flash", "best", 2, 90.0),
                                     ("naive", "scalar", 1, 1.0), ("onednn", "best", 1, 25.0))]
        r = report.Result(self.write({"context": {}, "benchmarks": rows}))
        self.assertEqual(r.labels("attention"), ["naive/scalar t:1", "flash/best t:2", "openblas/best t:2",
                                                 "onednn/best t:1", "onednn/best t:2", "accel/best t:2"])
        self.assertIn("| onednn/best t:2 | 50.0 (—, 50×) |", report.stage_tables(r))


class HostileInput(unittest.TestCase):
    """Malformed, truncated and hostile JSON given to report and compare: each refused with exit
    status 2 and one line on stderr, never a traceback."""

    CASES = {
        "empty": b"",
        "truncated": b'{"benchmarks": [{"name": "softmax/naive/scalar/n:8/h:1/d:4/t:1", "real_ti',
        "deep nesting": b"[" * 100000 + b"]" * 100000,
        "deep object nesting": b'{"benchmarks": ' + b'{"a": ' * 50000 + b"1" + b"}" * 50001,
        "huge number": b'{"benchmarks": [{"name": "softmax/naive/scalar/n:8/h:1/d:4/t:1", "real_time": 1e999}]}',
        "huge integer": b'{"benchmarks": [{"name": "x", "real_time": ' + b"9" * 5000 + b"}]}",
        "NaN literal": b'{"benchmarks": [{"name": "softmax/naive/scalar/n:8/h:1/d:4/t:1", "real_time": NaN}]}',
        "benchmarks not a list": b'{"benchmarks": "all of them"}',
        "row not an object": b'{"benchmarks": [1, 2]}',
        "name not a string": b'{"benchmarks": [{"name": 5, "real_time": 1.0}]}',
        "time not a number": b'{"benchmarks": [{"name": "softmax/naive/scalar/n:8/h:1/d:4/t:1", "real_time": "1"}]}',
        "fields not an object": b'{"benchmarks": [{"name": "x", "real_time": 1.0, "attnbench": 7}]}',
        "not UTF-8": b'{"benchmarks": [{"name": "\xff\xfe"}]}'.replace(b"\\x", b"\\x") + b"\xff",
        "top level a list": b"[]",
    }

    def run_script(self, args):
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120)

    def test_each_is_refused_in_one_line(self):
        bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench")
        with tempfile.TemporaryDirectory() as folder:
            for label, content in self.CASES.items():
                path = os.path.join(folder, label.replace(" ", "_") + ".json")
                with open(path, "wb") as f:
                    f.write(content)
                for args in ([os.path.join(bench, "report.py"), path, "--out", folder],
                             [os.path.join(bench, "gate.py"), "compare", path, path]):
                    with self.subTest(case=label, script=os.path.basename(args[0])):
                        r = self.run_script(args)
                        self.assertEqual(r.returncode, 2, r.stderr)
                        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                        self.assertNotIn("Traceback", r.stderr)


if __name__ == "__main__":
    unittest.main()
