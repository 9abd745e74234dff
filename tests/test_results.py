"""bench/results.py, the one reader of result files: descriptor fields from the rows' "attnbench"
field and, for files written before it, from the names; medians; errors (run by Debian's
/usr/bin/python3: cd tests && /usr/bin/python3 -m unittest -v test_results)."""
import json
import subprocess
import math
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import check_targets  # noqa: E402
import report  # noqa: E402
import results  # noqa: E402


def row(name, real_time=1.0, unit="ms", gflops=None, run_type="iteration", aggregate=None, error=None,
        fields=None):
    """A Google Benchmark row as attnbench writes it (name as given, run_name the same)."""
    r = {"name": name + (f"_{aggregate}" if aggregate else ""), "run_name": name, "run_type": run_type,
         "real_time": real_time, "cpu_time": real_time, "time_unit": unit, "iterations": 10}
    if aggregate:
        r["aggregate_name"] = aggregate
    if gflops is not None:
        r["GFLOP/s"] = gflops
    if error:
        r.update(error_occurred=True, error_message=error, real_time=0.0, iterations=0)
        r.pop("GFLOP/s", None)
    if fields is not None:
        r["attnbench"] = fields
    return r


def kernel_fields(**changes):
    """The "attnbench" field of attention/flash/best/n:128/h:8/d:64/t:2/causal, with changes."""
    f = {"stage": "attention", "variant": "flash", "isa": "best", "shape": "n:128/h:8/d:64/t:2/causal",
         "batch": 1, "heads": 8, "n_q": 128, "n_kv": 128, "head_dim": 64, "threads": 2, "causal": True,
         "similarity": "dot", "scale": 0.125, "scale_given": False}
    f.update(changes)
    return f


class LegacyNames(unittest.TestCase):
    """Files written before rows carried the "attnbench" field: the fields come from the names."""

    def test_square_shape(self):
        self.assertEqual(results.legacy_descriptor("attention/flash/best/n:128/h:8/d:64/t:2/causal"),
                         kernel_fields())

    def test_rectangular_shape(self):
        f = results.legacy_descriptor("attention/flash/best/nq:16/nkv:4096/h:32/d:128/t:1/causal")
        self.assertEqual((f["n_q"], f["n_kv"], f["heads"], f["head_dim"], f["threads"]), (16, 4096, 32, 128, 1))
        self.assertEqual(f["shape"], "nq:16/nkv:4096/h:32/d:128/t:1/causal")
        self.assertTrue(f["causal"])
        self.assertAlmostEqual(f["scale"], 1 / math.sqrt(128))
        self.assertFalse(f["scale_given"])

    def test_batch_scale_and_cosine(self):
        f = results.legacy_descriptor("scores/simd/avx2/n:64/h:2/d:16/t:1/b:4/scale:0.5/cosine")
        self.assertEqual((f["stage"], f["variant"], f["isa"]), ("scores", "simd", "avx2"))
        self.assertEqual((f["batch"], f["n_q"], f["n_kv"], f["heads"], f["head_dim"]), (4, 64, 64, 2, 16))
        self.assertEqual((f["scale"], f["scale_given"]), (0.5, True))
        self.assertEqual((f["causal"], f["similarity"]), (False, "cosine"))
        f = results.legacy_descriptor("attention/naive/scalar/n:8/h:1/d:3/t:1/scale:1e-05/causal")
        self.assertEqual((f["scale"], f["scale_given"], f["causal"], f["similarity"]), (1e-05, True, True, "dot"))

    def test_google_benchmark_suffixes_are_ignored(self):
        plain = results.legacy_descriptor("attention/flash/best/n:128/h:8/d:64/t:2/causal")
        for suffix in ("/real_time", "/iterations:3", "/iterations:3/real_time"):
            self.assertEqual(results.legacy_descriptor("attention/flash/best/n:128/h:8/d:64/t:2/causal" + suffix),
                             plain, suffix)

    def test_peak_rows(self):
        self.assertEqual(results.legacy_descriptor("peak/fma/avx512/t:2/real_time"),
                         {"stage": "peak", "variant": "fma", "isa": "avx512", "threads": 2})
        self.assertEqual(results.legacy_descriptor("peak/fma/sse2/t:1")["isa"], "sse2")

    def test_names_that_are_no_kernel(self):
        for name in ("attention/flash/best/h:8/n:128/d:64/t:1",        # out of the canonical order
                     "attention/flash/best/n:128/h:8/d:64",              # no thread count
                     "attention/flash/best/n:128/nq:16/nkv:4/h:8/d:64/t:1",
                     "attention/flash/best/nq:16/h:8/d:64/t:1",          # nq: without nkv:
                     "attention/flash/best/n:128/h:8/d:64/t:1/scale:0",  # not a positive scale
                     "attention/flash/best/n:128/h:8/d:64/t:1/scale:x",
                     "attention/flash/best/n:128/h:8/d:64/t:1/cosine/causal",
                     "peak/fma/avx2", "BM_Something", ""):
            self.assertIsNone(results.legacy_descriptor(name), name)

    def test_model_of_a_legacy_row_comes_from_the_sweep(self):
        data = {"context": {"attnbench": {"sweep": {"models": {"n:512/h:32/d:128/causal": "Llama-2-7B"}}}},
                "benchmarks": [row("attention/flash/best/n:512/h:32/d:128/t:2/causal/real_time", 2.0, gflops=1)]}
        m = results.medians(data)["attention/flash/best/n:512/h:32/d:128/t:2/causal"]
        self.assertEqual(m["fields"]["model"], "Llama-2-7B")


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

    def test_without_the_field_the_name_is_read(self):
        self.assertEqual(results.descriptor(row("attention/flash/best/n:128/h:8/d:64/t:2/causal/real_time")),
                         kernel_fields())
        self.assertIsNone(results.descriptor(row("BM_Other")))


class Medians(unittest.TestCase):
    def test_the_median_aggregate_when_the_run_had_repetitions(self):
        name = "attention/flash/best/n:128/h:8/d:64/t:2/causal/real_time"
        data = {"benchmarks": [row(name, 300, "us", gflops=10), row(name, 100, "us", gflops=30),
                               row(name, 200, "us", gflops=20),
                               row(name, 200, "us", gflops=20, run_type="aggregate", aggregate="mean"),
                               row(name, 250, "us", gflops=25, run_type="aggregate", aggregate="median"),
                               row(name, 5, "us", gflops=1, run_type="aggregate", aggregate="stddev"),
                               row(name, 0.1, "us", gflops=0.1, run_type="aggregate", aggregate="cv")]}
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
                               row("peak/fma/avx2/t:1/real_time", 4000, "ns", gflops=50),
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
        data = {"benchmarks": [row(skipped, error="skipped: a call would take about 9 s (max_call_time 2 s)"),
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
    """report.py and check_targets.py on a result whose rows carry the field."""

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

    def test_check_targets_reads_fields(self):
        peak = {"stage": "peak", "variant": "fma", "isa": "avx2", "threads": 2}
        flash = kernel_fields(shape="n:2048/h:8/d:128/t:2", n_q=2048, n_kv=2048, head_dim=128, causal=False)
        softmax = kernel_fields(stage="softmax", variant="naive", isa="scalar", shape="n:2048/h:8/d:96/t:1",
                                n_q=2048, n_kv=2048, head_dim=96, threads=1, causal=False)
        path = self.write([row("peak/fma/avx2/t:2/real_time", gflops=200.0, fields=peak),
                           row("attention/flash/best/n:2048/h:8/d:128/t:2/real_time", gflops=160.0, fields=flash),
                           row("softmax/naive/scalar/n:2048/h:8/d:96/t:1", gflops=1.0, fields=softmax)])
        c = check_targets.check(check_targets.load([path]))
        self.assertEqual(c.peak_isa, "avx2")
        self.assertEqual(c.lines[0], "PASS    1. flash attention n:2048 d:128 t:2 / peak t:2: ratio 0.800 (target >= 0.75)")
        # The only softmax shape measured decides the head size of target 5.
        target5 = next(line for line in c.lines if " 5. " in line)
        self.assertTrue(target5.startswith("MISSING 5. softmax simd/avx512 / naive n:2048 d:96 t:1 (no "), target5)
        self.assertIn("| attention/flash/best | n:2048 h:8 d:128 t:2 | 160.0 | 80 % |", check_targets.table(c))

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
