#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs every Keel test: host unit tests, Python unit tests of the scripts, brief fuzz runs,
tree checks and the emulator integration tests, and closes with "N passed, N failed".
KEEL_TEST_JOBS (default 2) integration tests run at once, each in its own process; 1 runs them
one after the other in this process.
usage: tests/run.py [SUBSTRING]   (runs only tests whose name contains it)"""
import glob
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
FUZZ_SECONDS = int(os.environ.get("KEEL_FUZZ_SECONDS", "20"))
JOBS = max(1, int(os.environ.get("KEEL_TEST_JOBS", "2")))
# a bound on one integration test's process when JOBS > 1 (each emulator run has its own)
TEST_TIMEOUT = int(os.environ.get("KEEL_TEST_TIMEOUT", "3600"))
DURATIONS = os.path.join(BUILD, "tests", "durations.json")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import accel  # noqa: E402

results = []
durations = {}  # seconds each integration test took, this run over the last


def record(name, ok, seconds, detail="", note=""):
    """Prints a test's line, a failure's detail below it, and a note either way."""
    results.append((name, ok))
    print("%s %s (%.1fs)%s%s" % ("PASS" if ok else "FAIL", name, seconds,
                                "" if ok or not detail else "\n" + detail.rstrip(),
                                "\n" + note if note else ""), flush=True)


def run_unit(filt):
    for binary in sorted(glob.glob(os.path.join(BUILD, "tests/unit/test_*"))):
        name = "unit/" + os.path.basename(binary)[5:]
        if filt and filt not in name:
            continue
        t = time.time()
        p = subprocess.run([binary], capture_output=True, text=True, timeout=300)
        m = re.search(r"^(\d+) passed, (\d+) failed$", p.stdout, re.M)
        ok = p.returncode == 0 and m and int(m.group(2)) == 0
        summary = " [%s]" % m.group(0) if m else ""
        record(name + summary, bool(ok), time.time() - t, p.stderr[-3000:] + p.stdout[-1000:])


def run_fuzz(filt):
    for binary in sorted(glob.glob(os.path.join(BUILD, "tests/fuzz/fuzz_*"))):
        target = os.path.basename(binary)[5:]
        name = "fuzz/" + target
        if filt and filt not in name:
            continue
        out = os.path.join(BUILD, "tests/fuzz", target + ".out")
        os.makedirs(out, exist_ok=True)
        corpus = [c for c in [out, os.path.join(ROOT, "tests/fuzz/corpus", target)]
                  if os.path.isdir(c)]
        t = time.time()
        p = subprocess.run([binary, "-max_total_time=%d" % FUZZ_SECONDS, "-timeout=10",
                            "-artifact_prefix=" + out + "/"] + corpus,
                           capture_output=True, text=True, timeout=FUZZ_SECONDS + 120)
        stats = re.findall(r"#(\d+)\s+DONE", p.stderr)
        record(name + (" [%s runs]" % stats[-1] if stats else ""), p.returncode == 0,
               time.time() - t, p.stderr[-3000:])


def run_pyunit(filt):
    """The Python unit tests of the scripts (tests/pyunit/test_*.py, each a unittest program)."""
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/pyunit/test_*.py"))):
        name = "pyunit/" + os.path.basename(path)[5:-3]
        if filt and filt not in name:
            continue
        t = time.time()
        p = subprocess.run([sys.executable, path], capture_output=True, text=True, timeout=300)
        ran = re.search(r"^Ran (\d+) tests? in ", p.stderr, re.M)
        bad = sum(int(n) for n in re.findall(r"\b(?:failures|errors)=(\d+)", p.stderr))
        summary = " [%d passed, %d failed]" % (int(ran.group(1)) - bad, bad) if ran else ""
        record(name + summary, bool(p.returncode == 0 and ran), time.time() - t, p.stderr[-3000:])


def integration_tests(filt):
    """(name, module file, function name) of each integration test whose name contains filt."""
    tests = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/integration/test_*.py"))):
        mod = load(path)
        for fn_name in [n for n in dir(mod) if n.startswith("test_")]:
            name = "%s/%s" % (os.path.basename(path)[5:-3], fn_name[5:])
            if not filt or filt in name:
                tests.append((name, path, fn_name))
    return tests


def load(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_one(path, fn_name):
    """Runs one integration test here; (passed, what went wrong)."""
    try:
        getattr(load(path), fn_name)()
        return True, ""
    except Exception as e:  # a failing test must not stop the others
        return False, str(e) if e.__class__.__name__ == "TestFailure" else traceback.format_exc()


def run_integration(filt):
    tests = integration_tests(filt)
    if JOBS > 1:
        return run_parallel(tests)
    for name, path, fn_name in tests:
        t = time.time()
        ok, detail = run_one(path, fn_name)
        record(name, ok, time.time() - t, detail)
        durations[name] = time.time() - t


def run_parallel(tests):
    """JOBS tests at a time, each in a process of its own (tests/run.py --one), longest first by
    the last run's times (build/tests/durations.json); each result is printed as it finishes.
    Each emulator is one host thread (single-threaded TCG, Bochs), so JOBS=2 fills two cores."""
    waiting = sorted(tests, key=lambda t: -durations.get(t[0], float("inf")))
    lock = threading.Lock()
    running = {}

    def worker():
        while True:
            with lock:
                if not waiting or stopping:
                    return
                name, path, fn_name = waiting.pop(0)
            t = time.time()
            p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--one", path, fn_name],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 start_new_session=True)  # its group: QEMU and peers go with it
            with lock:
                running[p.pid] = p
            try:
                out = p.communicate(timeout=TEST_TIMEOUT)[0].decode("utf-8", "replace")
                note = end_strays(p)
            except subprocess.TimeoutExpired:
                kill_group(p)
                note = end_strays(p)  # before reading on: nothing may hold its output open
                out = "no result after %d s: killed\n" % TEST_TIMEOUT + p.communicate()[0].decode(
                    "utf-8", "replace")
            with lock:
                del running[p.pid]
                if stopping:
                    return
                record(name, p.returncode == 0, time.time() - t, out, note)
                durations[name] = time.time() - t

    stopping = False
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(JOBS, len(tests)))]
    try:
        for th in threads:
            th.start()
        for th in threads:
            while th.is_alive():
                th.join(1)
    finally:
        with lock:
            stopping = True
            for p in list(running.values()):
                kill_group(p)


def end_strays(p):
    """Kills what a finished test left running in its session (a QEMU its clean-up missed) so
    that it holds no core while the next tests run; says so in the test's output."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:  # nothing left: the usual case
        return ""
    return "(tests/run.py killed processes this test left running)"


def kill_group(p):
    """Ends a test's process and whatever it started (its own session: QEMU, Bochs, peers)."""
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def load_durations():
    try:
        with open(DURATIONS) as f:
            durations.update(json.load(f))
    except (OSError, ValueError):
        pass


def save_durations():
    os.makedirs(os.path.dirname(DURATIONS), exist_ok=True)
    with open(DURATIONS + ".tmp", "w") as f:
        json.dump(durations, f, indent=1, sort_keys=True)
    os.replace(DURATIONS + ".tmp", DURATIONS)


def main():
    if sys.argv[1:2] == ["--one"]:  # tests/run.py --one MODULE_FILE FUNCTION: one test, by run_parallel
        signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped (SIGTERM)"))  # clean-ups run
        ok, detail = run_one(sys.argv[2], sys.argv[3])
        print(detail.rstrip(), flush=True)
        sys.exit(0 if ok else 1)
    filt = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("T", "")
    for sig in (signal.SIGTERM, signal.SIGHUP):  # as Ctrl-C: the running tests are ended first
        signal.signal(sig, lambda n, _: sys.exit(128 + n))
    try:
        print(accel.choose().message, flush=True)
    except ValueError as e:
        sys.exit(str(e))
    load_durations()
    run_unit(filt)
    run_pyunit(filt)
    run_fuzz(filt)
    run_integration(filt)
    save_durations()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not results else 0)


if __name__ == "__main__":
    main()
