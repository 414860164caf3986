#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of tests/run.py's integration-test runner, on a copy of it in a scratch tree with
fake integration tests (no emulator): KEEL_TEST_JOBS=2 runs two at once, each in its own
process, one PASS/FAIL line per test as it finishes, failures with their detail, and the final
"N passed, N failed" line and exit status as with KEEL_TEST_JOBS=1."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

FAKE = '''
import os, time

class TestFailure(Exception):
    pass

def meet(me, other):
    """Says this test started, waits (FAKE_WAIT s at most) for the other to say so, and records
    its process, whether they met, and when it started and ended."""
    start = time.time()
    out = os.environ["FAKE_OUT"]
    open(os.path.join(out, me + ".start"), "w").close()
    while time.time() < start + float(os.environ["FAKE_WAIT"]):
        if os.path.exists(os.path.join(out, other + ".start")):
            break
        time.sleep(0.05)
    met = os.path.exists(os.path.join(out, other + ".start"))
    time.sleep(0.5)
    with open(os.path.join(out, me), "w") as f:
        f.write("%d %d %.3f %.3f\\n" % (os.getpid(), met, start, time.time()))

def test_slow_a():
    meet("slow_a", "slow_b")

def test_slow_b():
    meet("slow_b", "slow_a")

def test_fails():
    raise TestFailure("the fake oracle saw 41, wanted 42")

def test_crashes():
    {}["missing"]
'''

HANGS = '''
import os, subprocess, time

def test_hangs():
    child = subprocess.Popen(["sleep", "300"])  # stands for the test's QEMU
    with open(os.path.join(os.environ["FAKE_OUT"], "child"), "w") as f:
        f.write(str(child.pid))
    time.sleep(300)
'''

ORDER = '''
import os, subprocess, time

def started(me):
    with open(os.path.join(os.environ["FAKE_OUT"], "order"), "a") as f:
        f.write(me + "\\n")
    time.sleep(1)  # the two jobs' first tests both start before either ends

def test_a():
    started("a")

def test_b():
    started("b")

def test_c():
    started("c")

def test_d():
    started("d")

def test_leaves_a_child():
    child = subprocess.Popen(["sleep", "300"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(os.environ["FAKE_OUT"], "child"), "w") as f:
        f.write(str(child.pid))
'''


class RunnerTest(unittest.TestCase):
    def setUp(self):
        self.tree = tempfile.mkdtemp(prefix="keel-run-")
        self.addCleanup(shutil.rmtree, self.tree)
        for d in ("tests/integration", "scripts"):
            os.makedirs(os.path.join(self.tree, d))
        shutil.copy(os.path.join(ROOT, "tests/run.py"), os.path.join(self.tree, "tests/run.py"))
        shutil.copy(os.path.join(ROOT, "scripts/accel.py"), os.path.join(self.tree, "scripts/accel.py"))
        with open(os.path.join(self.tree, "tests/integration/test_fake.py"), "w") as f:
            f.write(FAKE)
        self.out = os.path.join(self.tree, "out")
        os.makedirs(self.out)

    def run_tests(self, jobs, filt=""):
        wait = 30 if jobs > 1 else 2  # alone, slow_a waits for slow_b in vain
        env = dict(os.environ, KEEL_TEST_JOBS=str(jobs), FAKE_OUT=self.out, KEEL_ACCEL="tcg",
                   FAKE_WAIT=str(wait))
        t = time.time()
        p = subprocess.run([sys.executable, os.path.join(self.tree, "tests/run.py")] + ([filt] if filt else []),
                           capture_output=True, text=True, env=env, timeout=60)
        return p, time.time() - t

    def stamps(self):
        got = {}
        for name in ("slow_a", "slow_b"):
            with open(os.path.join(self.out, name)) as f:
                got[name] = [float(x) for x in f.read().split()]
        return got

    def lines(self, p):
        return [l for l in p.stdout.splitlines() if re.match(r"(PASS|FAIL) ", l)]

    def test_two_jobs_run_side_by_side(self):
        p, _ = self.run_tests(2, "slow")
        s = self.stamps()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotEqual(s["slow_a"][0], s["slow_b"][0], "both ran in one process")
        self.assertNotIn(os.getpid(), (s["slow_a"][0], s["slow_b"][0]))
        self.assertEqual((s["slow_a"][1], s["slow_b"][1]), (1, 1), "they did not run at the same time")
        self.assertEqual(sorted(re.sub(r" \(.*", "", l) for l in self.lines(p)),
                         ["PASS fake/slow_a", "PASS fake/slow_b"])
        self.assertEqual(p.stdout.splitlines()[-1], "2 passed, 0 failed")

    def test_one_job_runs_one_after_the_other_in_process(self):
        p, _ = self.run_tests(1, "slow")
        s = self.stamps()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(s["slow_a"][0], s["slow_b"][0], "KEEL_TEST_JOBS=1 uses one process")
        self.assertEqual((s["slow_a"][1], s["slow_b"][1]), (0, 1), "slow_a saw slow_b start")
        self.assertLessEqual(s["slow_a"][3], s["slow_b"][2])
        self.assertEqual([re.sub(r" \(.*", "", l) for l in self.lines(p)],
                         ["PASS fake/slow_a", "PASS fake/slow_b"])

    def test_failures_are_reported_the_same_way(self):
        outputs = {}
        for jobs in (1, 2):
            p, _ = self.run_tests(jobs)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(p.stdout.splitlines()[-1], "2 passed, 2 failed")
            self.assertRegex(p.stdout, r"FAIL fake/fails \(\d+\.\ds\)\nthe fake oracle saw 41, wanted 42\n")
            self.assertRegex(p.stdout, r"FAIL fake/crashes \(\d+\.\ds\)\nTraceback .*\n(.*\n)*KeyError: 'missing'\n")
            outputs[jobs] = sorted(re.sub(r" \(.*", "", l) for l in self.lines(p))
        self.assertEqual(outputs[1], outputs[2])

    def test_interrupt_ends_what_tests_started(self):
        """Ctrl-C, or SIGTERM, to tests/run.py alone (each test has a session of its own, which
        the terminal's Ctrl-C does not reach) ends the tests' processes and what they started."""
        with open(os.path.join(self.tree, "tests/integration/test_hang.py"), "w") as f:
            f.write(HANGS)
        env = dict(os.environ, KEEL_TEST_JOBS="2", FAKE_OUT=self.out, KEEL_ACCEL="tcg")
        child = os.path.join(self.out, "child")
        for sig in (signal.SIGINT, signal.SIGTERM):
            if os.path.exists(child):
                os.unlink(child)
            # a shell's background job starts with SIGINT ignored, and Python keeps it so
            p = subprocess.Popen([sys.executable, os.path.join(self.tree, "tests/run.py"), "hang/"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
            deadline = time.time() + 30
            while not os.path.exists(child) or not os.path.getsize(child):
                self.assertLess(time.time(), deadline, "the fake test did not start")
                time.sleep(0.1)
            with open(child) as f:
                pid = int(f.read())
            os.kill(pid, 0)
            p.send_signal(sig)
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                self.fail("tests/run.py did not stop on signal %d:\n%s%s" % (sig, out, err))
            self.assertNotEqual(p.returncode, 0)
            gone = self.gone(pid)
            if not gone:
                os.kill(pid, signal.SIGKILL)
            self.assertTrue(gone, "the test's child %d outlived the run (signal %d):\n%s%s" % (
                pid, sig, out, err))

    def gone(self, pid):
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.1)
        return False

    def test_a_test_past_its_time_fails_and_is_ended(self):
        """KEEL_TEST_TIMEOUT bounds a test's process: one that never returns is killed with what
        it started, fails, and the run goes on to its summary."""
        with open(os.path.join(self.tree, "tests/integration/test_hang.py"), "w") as f:
            f.write(HANGS)
        env = dict(os.environ, KEEL_TEST_JOBS="2", KEEL_TEST_TIMEOUT="3", FAKE_OUT=self.out,
                   KEEL_ACCEL="tcg")
        p = subprocess.run([sys.executable, os.path.join(self.tree, "tests/run.py"), "hang/"],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"FAIL hang/hangs \(\d+\.\ds\)\nno result after 3 s: killed\n")
        self.assertEqual(p.stdout.splitlines()[-1], "0 passed, 1 failed")
        with open(os.path.join(self.out, "child")) as f:
            self.assertTrue(self.gone(int(f.read())), "the hung test's child outlived it")

    def test_longest_first_by_the_last_run(self):
        """Two jobs start the two tests that took longest last time together, then the others;
        this run's times replace the last ones in build/tests/durations.json, and a test not run
        keeps its time. (One job runs them in the file's order, in process, as before.)"""
        with open(os.path.join(self.tree, "tests/integration/test_order.py"), "w") as f:
            f.write(ORDER)
        durations = os.path.join(self.tree, "build/tests/durations.json")
        os.makedirs(os.path.dirname(durations))
        last = {"order/a": 10.0, "order/b": 30.0, "order/c": 20.0, "order/d": 40.0,
                "gone/test": 5.0}
        with open(durations, "w") as f:
            json.dump(last, f)
        open(os.path.join(self.out, "order"), "w").close()
        p, _ = self.run_tests(2, "order/")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(self.out, "order")) as f:
            order = f.read().split()
        # two processes write their line in either order
        self.assertEqual((set(order[:2]), set(order[2:])), ({"d", "b"}, {"c", "a"}))
        with open(durations) as f:
            saved = json.load(f)
        self.assertEqual(saved["gone/test"], 5.0)
        for name in ("order/a", "order/b", "order/c", "order/d"):
            self.assertLess(saved[name], 10.0, "%s keeps the last run's time" % name)

    def test_what_a_test_leaves_running_is_ended(self):
        with open(os.path.join(self.tree, "tests/integration/test_order.py"), "w") as f:
            f.write(ORDER)
        p, _ = self.run_tests(2, "leaves_a_child")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("(tests/run.py killed processes this test left running)", p.stdout)
        with open(os.path.join(self.out, "child")) as f:
            self.assertTrue(self.gone(int(f.read())), "the test's child outlived it")

    def test_nothing_run_fails(self):
        p, _ = self.run_tests(2, "no such test")
        self.assertEqual((p.returncode, p.stdout.splitlines()[-1]), (1, "0 passed, 0 failed"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
