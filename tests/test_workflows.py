"""The GitHub workflows run where they say: the test workflow runs the README's test command and
the perf gate runs bench/gate.sh, each in a Debian 12 and a Debian 13 container, the systems
tests/run.sh builds and tests on (run by Debian's /usr/bin/python3: cd tests && /usr/bin/python3
-m unittest -v test_workflows)."""
import os
import unittest

import yaml

WORKFLOWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".github", "workflows")


def load(name):
    with open(os.path.join(WORKFLOWS, name), encoding="utf-8") as f:
        return yaml.safe_load(f)


def job_runs(job):
    """The shell commands of a job's steps, joined."""
    return "\n".join(step.get("run", "") for step in job["steps"])


class Workflows(unittest.TestCase):
    def test_each_job_in_debian_12_and_13(self):
        for name, command in (("tests.yml", "bash tests/run.sh"), ("perf-gate.yml", "bash bench/gate.sh")):
            with self.subTest(workflow=name):
                jobs = load(name)["jobs"]
                self.assertEqual(len(jobs), 1)
                job = next(iter(jobs.values()))
                self.assertEqual(job["container"], "${{ matrix.image }}")
                self.assertEqual(sorted(job["strategy"]["matrix"]["image"]), ["debian:12", "debian:13"])
                self.assertIn(command, job_runs(job))
                self.assertIn("actions/checkout@v4", [s.get("uses") for s in job["steps"]])

    def test_the_container_skips_only_the_lane_it_cannot_run(self):
        job = next(iter(load("tests.yml")["jobs"].values()))
        self.assertEqual(job.get("env"), {"ATTN_DEBIAN13_LANE": "skip"})
        with open(os.path.join(WORKFLOWS, "..", "..", "tests", "run.sh"), encoding="utf-8") as f:
            self.assertIn("ATTN_DEBIAN13_LANE:-run} == skip", f.read())


if __name__ == "__main__":
    unittest.main()
