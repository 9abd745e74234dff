"""bench/check_targets.py and bench/targets.toml: the table parses and says what each target is,
the checker reads any target the same way (expressions, cases, per-tier thresholds, one run per
value), and made-up results pass and fail the right targets on each tier (run by Debian's
/usr/bin/python3: cd tests && /usr/bin/python3 -m unittest -v test_targets). That bench/targets.sh
runs every benchmark the table reads is tests/targets_listed.sh, which needs the built driver."""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench")
sys.path.insert(0, BENCH)
import check_targets  # noqa: E402


def fields_of(name):
    """The "attnbench" field attnbench writes for a benchmark name (what the checker's table reads:
    stage, variant, isa, threads, and for a kernel its shape)."""
    stage, variant, isa, shape = name.split("/", 3)
    threads = int(next(p for p in shape.split("/") if p.startswith("t:"))[2:])
    if stage == "peak":
        return {"stage": stage, "variant": variant, "isa": isa, "threads": threads}
    parts = dict(p.split(":") for p in shape.split("/") if ":" in p)
    n_q, n_kv = (int(parts["n"]),) * 2 if "n" in parts else (int(parts["nq"]), int(parts["nkv"]))
    d, h = int(parts["d"]), int(parts["h"])
    return {"stage": stage, "variant": variant, "isa": isa, "shape": shape, "batch": 1, "heads": h,
            "kv_heads": int(parts.get("kv", h)), "n_q": n_q, "n_kv": n_kv, "head_dim": d, "threads": threads,
            "causal": shape.endswith("/causal"), "similarity": "dot", "scale": 1 / math.sqrt(d), "scale_given": False}


def result(values, tier="avx2"):
    """A result holding a benchmark per {name: (GFLOP/s, GB/s, ms)} (None: no such counter), as a
    run that dispatched to tier writes it."""
    rows = []
    for name, (gflops, gbps, ms) in values.items():
        r = {"name": name + "/real_time", "run_name": name + "/real_time", "run_type": "iteration",
             "real_time": ms, "cpu_time": ms, "time_unit": "ms", "iterations": 1, "attnbench": fields_of(name)}
        if gflops is not None:
            r["GFLOP/s"] = gflops
        if gbps is not None:
            r["GB/s"] = gbps
        rows.append(r)
    return {"context": {"attnbench_isa": tier}, "benchmarks": rows}


class TempFiles(unittest.TestCase):
    def write(self, data, name="result.json"):
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        path = os.path.join(folder, name)
        with open(path, "w") as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
        return path

    def verdicts(self, datas, tier=None):
        """{check title: status} of the repository's table on results datas."""
        runs = check_targets.load_runs([self.write(d, f"r{i}.json") for i, d in enumerate(datas)])
        checks = check_targets.check(check_targets.load_table(), runs, check_targets.run_tier(runs, tier))
        return {c.title(): c for c in checks}


class Table(unittest.TestCase):
    """bench/targets.toml as the checker reads it."""

    def test_every_target_says_what_it_measures_and_why(self):
        targets = check_targets.load_table()
        self.assertGreaterEqual(len(targets), 15)
        for t in targets:
            with self.subTest(target=t["name"]):
                self.assertRegex(t["name"], r"^[a-z0-9]+(-[a-z0-9]+)*$")
                for key in ("measures", "why"):
                    self.assertGreater(len(t[key].split()), 5, key)
                self.assertTrue(t["cases"])
                for _, names in t["cases"]:
                    for name in names.values():
                        self.assertNotIn("{", name.replace("{tier}", ""), name)
                        self.assertRegex(name, r"^(peak|scores|softmax|weighted_sum|attention|projection|multihead|layer)/")

    def test_cases_expand_each(self):
        by_name = {t["name"]: t for t in check_targets.load_table()}
        onednn = by_name["flash-vs-onednn"]["cases"]
        self.assertEqual(len(onednn), 24)
        self.assertIn(("n:2048/h:8/d:128/t:2/causal", {"flash": "attention/flash/best/n:2048/h:8/d:128/t:2/causal",
                                                       "onednn": "attention/onednn/best/n:2048/h:8/d:128/t:2/causal"}),
                      onednn)
        self.assertEqual([label for label, _ in by_name["decode-bandwidth"]["cases"]], ["8192", "32768"])
        self.assertEqual(by_name["decode-bandwidth"]["limits"], {"avx2": 0.80, "avx512": 0.85})
        self.assertEqual(by_name["gqa-vs-mha-prefill"]["limits"], {t: 0.95 for t in check_targets.TIERS})

    def test_bad_tables_are_one_line(self):
        good = '[[target]]\nname = "x"\nmeasures = "a b c d e f"\nwhy = "a b c d e f"\nmetric = "gflops"\n' \
               'benchmarks = { a = "peak/fma/{tier}/t:1" }\nvalue = "a"\nat_least = 1.0\n'
        cases = {
            "no target": ("", "no [[target]]"),
            "not TOML": ("[[target]\n", "is not TOML"),
            "name": (good.replace('"x"', '"Flash 1"'), "lowercase words"),
            "metric": (good.replace('"gflops"', '"flops"'), "metric must be"),
            "unknown field": (good + 'colour = "red"\n', "unknown field colour"),
            "two thresholds": (good + "at_most = 2.0\n", "one of at_least and at_most"),
            "unknown tier": (good.replace("at_least = 1.0", "at_least = { avx10 = 1.0 }"), "names avx10"),
            "unknown name": (good.replace('value = "a"', 'value = "a / b"'), "value reads b"),
            "not arithmetic": (good.replace('value = "a"', 'value = "__import__(a)"'), "other than max"),
            "attribute": (good.replace('value = "a"', 'value = "a.real"'), "uses Attribute"),
            "stray key": (good.replace("t:1", "t:{t}"), "{t} in 'peak/fma/{tier}/t:{t}' is in no each"),
            "twice": (good + good, "the name is used twice"),
        }
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        for label, (text, message) in cases.items():
            with self.subTest(case=label):
                path = os.path.join(folder, "t.toml")
                with open(path, "w") as f:
                    f.write(text)
                with self.assertRaises(check_targets.TargetError) as e:
                    check_targets.load_table(path)
                self.assertIn(message, str(e.exception))
                self.assertEqual(len(str(e.exception).splitlines()), 1)
        with open(os.path.join(folder, "t.toml"), "w") as f:
            f.write(good)
        self.assertEqual(len(check_targets.load_table(os.path.join(folder, "t.toml"))), 1)

    def test_expressions(self):
        self.assertEqual(check_targets.evaluate("block / (4 * p + a)", {"block": 10, "p": 2, "a": 2}), 1.0)
        self.assertEqual(check_targets.evaluate("max(f, o) / d", {"f": 3, "o": 5, "d": 2}), 2.5)
        self.assertEqual(check_targets.evaluate("(a / b) / (c / d)", {"a": 4, "b": 2, "c": 3, "d": 1.5}), 1.0)
        self.assertEqual(check_targets.evaluate("-a + 1", {"a": 0.5}), 0.5)
        self.assertEqual(check_targets.evaluate("a / b", {"a": 1, "b": 0}), float("inf"))
        self.assertEqual(check_targets.expression_names("max(f, o) / d", "t"), {"f", "o", "d"})


class MadeUpResults(TempFiles):
    """The repository's table on results made up to sit between the tiers' thresholds."""

    def decode_and_peak(self, tier, decode_share=0.82, flash_share=0.82, causal_ms=1.0):
        """flash at n 2048 d 128 and decoding at decode_share of their probes (between the AVX2 and
        AVX-512 thresholds by default), GQA prefill as fast as MHA, causal at causal_ms of 2 ms."""
        return result({
            "peak/fma/avx512/t:2": (200.0, None, 1.0), "peak/fma/avx2/t:2": (100.0, None, 1.0),
            "peak/stream/avx512/t:2": (None, 50.0, 1.0),
            "attention/flash/best/n:2048/h:8/d:128/t:2": (200.0 * flash_share, None, 2.0),
            "attention/flash/best/n:2048/h:8/d:128/t:2/causal": (190.0, None, causal_ms),
            "attention/flash/best/nq:1/nkv:8192/h:32/kv:8/d:128/t:2/causal": (40.0, 50.0 * decode_share, 1.0),
            "attention/flash/best/nq:1/nkv:32768/h:32/kv:8/d:128/t:2/causal": (40.0, 50.0 * 0.9, 1.0),
            "attention/flash/best/n:2048/h:32/kv:8/d:128/t:2/causal": (150.0, None, 1.0),
            "attention/flash/best/n:2048/h:32/d:128/t:2/causal": (150.0, None, 1.0),
        }, tier)

    def test_each_tier_its_thresholds(self):
        for tier, expect in (("avx2", "PASS"), ("avx512", "FAIL")):
            with self.subTest(tier=tier):
                v = self.verdicts([self.decode_and_peak(tier)])
                self.assertEqual(v["decode-bandwidth[8192]"].status(), expect)
                self.assertEqual(v["flash-n2048-d128-peak"].status(), expect)
                self.assertEqual(v["decode-bandwidth[32768]"].status(), "PASS")
                self.assertAlmostEqual(v["decode-bandwidth[8192]"].value, 0.82)
                self.assertEqual(v["gqa-vs-mha-prefill"].status(), "PASS")
                self.assertEqual(v["flash-causal-time"].status(), "PASS")  # 1.0 / 2.0 ms
                self.assertEqual(v["flash-n2048-d64-peak"].status(), "MISSING")
        # The widest probe of the run: avx512's 200 GFLOP/s, not avx2's 100.
        v = self.verdicts([self.decode_and_peak("avx2")])
        self.assertEqual(v["flash-n2048-d128-peak"].names["peak"], "peak/fma/avx512/t:2")
        # --tier overrides the tier the run dispatched to.
        self.assertEqual(self.verdicts([self.decode_and_peak("avx2")], "avx512")["decode-bandwidth[8192]"].status(),
                         "FAIL")

    def test_fail_and_at_most(self):
        v = self.verdicts([self.decode_and_peak("avx512", decode_share=0.9, flash_share=0.9, causal_ms=1.1)])
        self.assertEqual(v["decode-bandwidth[8192]"].status(), "PASS")
        self.assertEqual(v["flash-n2048-d128-peak"].status(), "PASS")
        self.assertEqual(v["flash-causal-time"].status(), "FAIL")
        self.assertEqual(v["flash-causal-time"].line(), "FAIL    flash-causal-time: 0.550 (<= 0.53)")

    def test_max_of_variants(self):
        shape = "n:128/h:12/d:64/t:1"
        data = result({f"multihead/flash/best/{shape}": (90.0, None, 1.0), f"multihead/omp/best/{shape}": (120.0, None, 1.0),
                       f"multihead/onednn/best/{shape}": (110.0, None, 1.0)})
        c = self.verdicts([data])[f"multihead-vs-onednn[{shape}]"]
        self.assertAlmostEqual(c.value, 120.0 / 110.0)
        self.assertEqual(c.status(), "PASS")

    def test_one_run_per_value_else_across_files(self):
        # The block-vs-parts ratio from the run that has all three, not the later one's faster part.
        names = ["multihead/flash/best/n:2048/h:32/d:128/t:2/causal", "projection/omp/best/n:2048/h:32/d:128/t:2/causal",
                 "attention/flash/best/n:2048/h:32/d:128/t:2/causal"]
        whole = result({names[0]: (1.0, None, 2300.0), names[1]: (1.0, None, 450.0), names[2]: (1.0, None, 250.0)})
        later = result({names[2]: (1.0, None, 100.0)})
        c = self.verdicts([whole, later])["multihead-block-vs-parts"]
        self.assertAlmostEqual(c.value, 2300.0 / 2050.0)
        self.assertFalse(c.across)
        c = self.verdicts([result({names[0]: (1.0, None, 2300.0), names[1]: (1.0, None, 450.0)}), later])[
            "multihead-block-vs-parts"]
        self.assertAlmostEqual(c.value, 2300.0 / 1900.0)
        self.assertTrue(c.across)
        self.assertIn("[across result files]", c.line())

    def test_command_line(self):
        path = self.write(self.decode_and_peak("avx512"))
        r = subprocess.run([sys.executable, os.path.join(BENCH, "check_targets.py"), path], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertTrue(r.stdout.startswith("thresholds of the avx512 tier (the tier these runs dispatched to)"),
                        r.stdout)
        self.assertIn("FAIL    decode-bandwidth[8192]: 0.820 (>= 0.85)", r.stdout)
        self.assertIn("| decode-bandwidth | 8192 | 0.820 | >= 0.85 | FAIL |", r.stdout)
        self.assertIn("| attention/flash/best | nq:1 nkv:8192 h:32 kv:8 d:128 t:2 causal | 40.0 | 20 % | 41.0 | 82 % |",
                      r.stdout)
        r = subprocess.run([sys.executable, os.path.join(BENCH, "check_targets.py"), path, "--tier", "avx2"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)  # what is missing fails only with --strict
        self.assertIn("thresholds of the avx2 tier (given by --tier)", r.stdout)
        r = subprocess.run([sys.executable, os.path.join(BENCH, "check_targets.py"), path, "--tier", "avx2",
                            "--strict"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        for args, message in (([self.write("{")], "is not JSON"), ([path, "--tier", "avx10"], "not a tier"),
                              ([path, self.write(self.decode_and_peak("avx2"))], "dispatched to avx2, avx512")):
            r = subprocess.run([sys.executable, os.path.join(BENCH, "check_targets.py"), *args], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn(message, r.stderr)


class CpuKinds(TempFiles):
    """A target's `cpu`: it is checked on runs of that kind of CPU and N/A on the other."""

    TABLE = ('[[target]]\nname = "with-dot"\nmeasures = "a b c d e f"\nwhy = "a b c d e f"\ncpu = "bf16_dot"\n'
             'metric = "gflops"\nbenchmarks = { k = "attention/flash/best/n:64/h:1/d:8/t:1", '
             'p = "peak/bf16dot/avx512/t:1" }\nvalue = "k / p"\nat_least = 0.5\n'
             '[[target]]\nname = "without-dot"\nmeasures = "a b c d e f"\nwhy = "a b c d e f"\n'
             'cpu = "no_bf16_dot"\nmetric = "gflops"\nbenchmarks = { k = "attention/flash/best/n:64/h:1/d:8/t:1", '
             'p = "peak/fma/{tier}/t:1" }\nvalue = "k / p"\nat_least = 0.5\n')

    def statuses(self, bf16_products, values, prefill=None):
        data = result(values, tier="avx512")
        if bf16_products:
            data["context"]["attnbench"] = {"machine": {"bf16_products": bf16_products}}
        if prefill:
            data["context"]["attnbench"]["machine"]["bf16_prefill_products"] = prefill
        runs = check_targets.load_runs([self.write(data)])
        targets = check_targets.load_table(self.write(self.TABLE, "t.toml"))
        return {c.title(): c.status() for c in check_targets.check(targets, runs, "avx512")}

    def test_each_kind_checks_its_own_targets(self):
        kernel = {"attention/flash/best/n:64/h:1/d:8/t:1": (60.0, None, 1.0)}
        dot = self.statuses("vdpbf16ps (AVX512_BF16)", {**kernel, "peak/bf16dot/avx512/t:1": (100.0, None, 1.0)})
        self.assertEqual(dot, {"with-dot": "PASS", "without-dot": "N/A"})
        dot = self.statuses("vdpbf16ps (AVX512_BF16)", {**kernel, "peak/bf16dot/avx512/t:1": (200.0, None, 1.0)})
        self.assertEqual(dot["with-dot"], "FAIL")
        plain = self.statuses("fp32 FMAs on widened inputs", {**kernel, "peak/fma/avx512/t:1": (100.0, None, 1.0)})
        self.assertEqual(plain, {"with-dot": "N/A", "without-dot": "PASS"})
        # A prefill on AMX tiles multiplies in bf16 even where the vector products widen.
        tiles = self.statuses("fp32 FMAs on widened inputs", {**kernel, "peak/bf16dot/avx512/t:1": (100.0, None, 1.0)},
                              prefill="AMX tiles (tdpbf16ps) at head sizes that are multiples of 32, else fp32 FMAs")
        self.assertEqual(tiles, {"with-dot": "PASS", "without-dot": "N/A"})
        # A result from before the field read as a CPU without bf16 products.
        self.assertEqual(self.statuses(None, {**kernel, "peak/fma/avx512/t:1": (100.0, None, 1.0)}), plain)

    def test_unknown_kind_is_one_line(self):
        with self.assertRaises(check_targets.TargetError) as e:
            check_targets.load_table(self.write(self.TABLE.replace('"no_bf16_dot"', '"amx"'), "t.toml"))
        self.assertIn("cpu must be one of bf16_dot, no_bf16_dot", str(e.exception))


class TargetsSh(TempFiles):
    """bench/targets.sh runs what the table reads."""

    def test_listed_names(self):
        listed = {"attention/flash/best/n:2048/h:8/d:128/t:2", "peak/fma/avx2/t:2"}
        targets = check_targets.load_table()
        missing = check_targets.unlisted(targets, listed)
        self.assertNotIn("peak/fma/avx2/t:2", missing)
        self.assertNotIn("attention/flash/best/n:2048/h:8/d:128/t:2", missing)
        self.assertIn("attention/onednn/best/n:128/h:8/d:64/t:1", missing)


if __name__ == "__main__":
    unittest.main()
