#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs every Keel test: host unit tests, Python unit tests of the scripts, brief fuzz runs,
tree checks and the emulator integration tests, and closes with "N passed, N failed".
usage: tests/run.py [SUBSTRING]   (runs only tests whose name contains it)"""
import glob
import importlib.util
import os
import re
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
FUZZ_SECONDS = int(os.environ.get("KEEL_FUZZ_SECONDS", "20"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import accel  # noqa: E402

results = []


def record(name, ok, seconds, detail=""):
    results.append((name, ok))
    print("%s %s (%.1fs)%s" % ("PASS" if ok else "FAIL", name, seconds,
                              "" if ok or not detail else "\n" + detail.rstrip()), flush=True)


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


def run_integration(filt):
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/integration/test_*.py"))):
        mod_name = os.path.basename(path)[:-3]
        spec = importlib.util.spec_from_file_location(mod_name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for fn_name in [n for n in dir(mod) if n.startswith("test_")]:
            name = "%s/%s" % (mod_name[5:], fn_name[5:])
            if filt and filt not in name:
                continue
            t = time.time()
            try:
                getattr(mod, fn_name)()
                record(name, True, time.time() - t)
            except Exception as e:  # a failing test must not stop the others
                detail = str(e) if e.__class__.__name__ == "TestFailure" else traceback.format_exc()
                record(name, False, time.time() - t, detail)


def main():
    filt = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("T", "")
    try:
        print(accel.choose().message, flush=True)
    except ValueError as e:
        sys.exit(str(e))
    run_unit(filt)
    run_pyunit(filt)
    run_fuzz(filt)
    run_integration(filt)
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not results else 0)


if __name__ == "__main__":
    main()
