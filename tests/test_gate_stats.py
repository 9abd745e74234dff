"""The gate's statistics and decision on synthetic data with known answers (run by ctest with
Debian's /usr/bin/python3, which sees python3-scipy)."""
import math
import os
import random
import sys
import types
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import gate  # noqa: E402
import perfstats  # noqa: E402


class Statistics(unittest.TestCase):
    def test_hodges_lehmann_is_the_median_of_walsh_averages(self):
        # Walsh averages of 1, 2, 3: 1, 1.5, 2, 2, 2.5, 3.
        self.assertEqual(list(perfstats.walsh_averages([3, 1, 2])), [1, 1.5, 2, 2, 2.5, 3])
        self.assertEqual(perfstats.hodges_lehmann([3, 1, 2]), 2.0)
        self.assertEqual(perfstats.hodges_lehmann([0, 0, 0, 10]), 0.0)

    def test_signed_rank_interval_matches_the_exact_table(self):
        # n = 8: the two-sided 5% critical value of the signed-rank statistic is 3, so the 95%
        # interval runs from the 4th smallest to the 4th largest of the 36 Walsh averages; for
        # 1..8 those are 2 and 7.
        self.assertEqual(perfstats.signed_rank_ci(list(range(1, 9))), (2.0, 7.0))
        # Shifting the data shifts the interval.
        lo, hi = perfstats.signed_rank_ci([v + 0.5 for v in range(1, 9)])
        self.assertAlmostEqual(lo, 2.5)
        self.assertAlmostEqual(hi, 7.5)

    def test_interval_by_order_statistics_equals_the_brute_force_inversion(self):
        rng = random.Random(5)
        for n in range(5, 31):
            x = [rng.gauss(0.02, 0.05) for _ in range(n)]
            self.assertEqual(perfstats.signed_rank_ci(x), perfstats._inverted_ci(x, 0.95), n)

    def test_too_few_rounds_leave_the_interval_unbounded(self):
        # n = 5: the smallest two-sided p is 2/32 > 0.05, so no shift can be rejected.
        self.assertEqual(perfstats.signed_rank_ci([1, 2, 3, 4, 5]), (-math.inf, math.inf))

    def test_one_sided_p_against_the_margin(self):
        # Six rounds all 20% slower against a 5% margin: every sign positive, p = 1/2^6.
        x = [math.log(1.2)] * 6
        self.assertAlmostEqual(perfstats.slower_than_margin_p(x, 0.05), 1 / 64)
        # The same rounds against a 30% margin: every sign negative, p = 1.
        self.assertAlmostEqual(perfstats.slower_than_margin_p(x, 0.30), 1.0)
        self.assertAlmostEqual(perfstats.faster_than_margin_p([-v for v in x], 0.05), 1 / 64)

    def test_unpaired_u_test(self):
        # Five against five, every head time above every base time by more than the margin: the
        # exact one-sided p is 1 / C(10, 5) = 1/252.
        self.assertAlmostEqual(perfstats.unpaired_slower_p([1.0, 1.01, 0.99, 1.02, 0.98], [1.3, 1.31, 1.32, 1.33, 1.34], 0.1),
                               1 / 252, places=6)
        self.assertGreater(perfstats.unpaired_slower_p([1.0, 1.1, 0.9, 1.05, 0.95], [1.0, 1.1, 0.9, 1.05, 0.95], 0.1),
                           0.5)

    def test_holm(self):
        # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, made monotone: 0.02, 0.03, 0.06, 0.06.
        self.assertEqual([round(p, 10) for p in perfstats.holm([0.01, 0.04, 0.03, 0.005])], [0.03, 0.06, 0.06, 0.02])
        self.assertEqual(perfstats.holm([0.5, 0.9]), [1.0, 1.0])

    def test_robust_noise(self):
        self.assertAlmostEqual(perfstats.robust_noise([1, 2, 3, 4, 5]), 1.4826)


def synthetic_log(ratios_by_round, phase, first=0):
    """Gate rounds in which base takes 1 ms and head takes ratio ms for each benchmark."""
    log = []
    for r, ratios in enumerate(ratios_by_round):
        log.append({"round": first + r, "phase": phase, "launches": [
            {"build": "base", "seconds": 0, "repetitions_ms": {n: [1.0, 1.0] for n in ratios}},
            {"build": "head", "seconds": 0, "repetitions_ms": {n: [v, v * 1.01] for n, v in ratios.items()}}]})
    return log


def args(**kw):
    defaults = dict(margin=0.03, detect=0.10, alpha=0.01, screen_alpha=0.05)
    defaults.update(kw)
    return types.SimpleNamespace(**defaults)


class Decision(unittest.TestCase):
    def rounds(self, n, seed, slow=1.2):
        # "noisy" swings by up to +-45% around no change: its 95% interval over 24 rounds is
        # (-0.137, 0.160) in log ratio, so it cannot rule out a 10% slowdown.
        rng = random.Random(seed)
        swing = [0.45, -0.35, 0.25, -0.15, 0.35, -0.45, 0.15, -0.25]
        return [{"slow": slow * math.exp(rng.gauss(0, 0.02)), "same": math.exp(rng.gauss(0, 0.02)),
                 "noisy": math.exp(swing[i % 8] + 0.001 * i)} for i in range(n)]

    def test_slowdown_confirmed_steady_benchmark_passes_noisy_one_is_unknown(self):
        a = args()
        log = synthetic_log(self.rounds(12, 1), "screen")
        rows = gate.decide(log, ["slow", "same", "noisy"], a)
        self.assertEqual(rows["slow"]["verdict"], "suspect")
        self.assertEqual(rows["same"]["verdict"], "ok")
        log += synthetic_log(self.rounds(12, 2), "confirm", first=12)
        gate.confirm(log, rows, a)
        self.assertEqual(rows["slow"]["verdict"], "SLOWER")
        self.assertAlmostEqual(math.exp(rows["slow"]["log_ratio"]), 1.2 * 1.005, delta=0.02)
        self.assertEqual(rows["noisy"]["verdict"], "unknown")
        self.assertEqual(gate.exit_code(rows), gate.EXIT_REGRESSION)

    def test_no_change_passes_and_noise_alone_is_inconclusive(self):
        a = args()
        log = synthetic_log([{k: v for k, v in r.items() if k != "slow"} for r in self.rounds(12, 3)], "screen")
        rows = gate.decide(log, ["same", "noisy"], a)
        log += synthetic_log([{k: v for k, v in r.items() if k != "slow"} for r in self.rounds(12, 4)], "confirm",
                             first=12)
        gate.confirm(log, rows, a)
        self.assertEqual(rows["same"]["verdict"], "ok")
        self.assertEqual(gate.exit_code(rows), gate.EXIT_INCONCLUSIVE)
        del rows["noisy"]
        self.assertEqual(gate.exit_code(rows), gate.EXIT_OK)

    def test_a_suspect_is_judged_on_fresh_rounds_only(self):
        # Screening saw a slowdown that the confirmation rounds do not repeat: no regression.
        a = args()
        log = synthetic_log([{"x": 1.2}] * 12, "screen")
        rows = gate.decide(log, ["x"], a)
        self.assertEqual(rows["x"]["verdict"], "suspect")
        log += synthetic_log([{"x": 1.0 + 0.001 * i} for i in range(12)], "confirm", first=12)
        gate.confirm(log, rows, a)
        self.assertNotEqual(rows["x"]["verdict"], "SLOWER")

    def test_improvement_is_reported_not_failed(self):
        a = args()
        log = synthetic_log([{"x": 0.8 * (1 + 0.001 * i)} for i in range(12)], "screen")
        rows = gate.decide(log, ["x"], a)
        self.assertEqual(rows["x"]["verdict"], "faster")
        self.assertEqual(gate.exit_code(rows), gate.EXIT_OK)


if __name__ == "__main__":
    unittest.main()
