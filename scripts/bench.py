#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make bench`: Keel's costs next to a baseline measured in the same run.

Boot: the service VM's kernel and initramfs booted by Keel (from the USB image)
and by QEMU directly (-kernel), both on QEMU TCG with the same CPU model, vCPUs
and RAM. Reported in guest time under -icount shift=0,sleep=off (1 ns per
instruction: exact and repeatable) and in wall time (median of runs).

  guest time, Keel   = Keel core start -> service VM entry (Keel's log)
                       + Linux uptime at the shell (the init banner)
  guest time, direct = Linux uptime at the shell
  wall time          = QEMU start -> shell banner on the serial port
                       (includes OVMF for Keel; the direct boot has no firmware step)
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from rig import Machine, kernel_path  # noqa: E402

WALL_RUNS = int(os.environ.get("KEEL_BENCH_RUNS", "3"))
BANNER = r"Keel service VM: .* up ([0-9.]+) s"
ICOUNT = ["-icount", "shift=0,sleep=off"]
CFG = ("service.kernel = vmlinuz\nservice.initrd = initrd.img\nservice.cmdline = console=ttyS0\n"
       "service.memory = 1G\nservice.vcpus = 2\n")


def keel_boot(name, extra):
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img")}
    m = Machine(name, CFG, files, smp=2, timeout=600, extra=extra)
    t0 = time.time()
    with m:
        up = float(m.expect(BANNER, timeout=590).group(1))
        wall = time.time() - t0
        entry = int(re.search(r"starting (\d+) ms after the core", m.text()).group(1))
        m.expect(r"/ # ", timeout=60)
        time.sleep(1)
        m.send("poweroff -f\n")
        try:
            m.wait_exit(120)
        except Exception:
            pass  # measured already; the rig kills QEMU
    return wall, entry / 1000 + up


def direct_boot(name, extra):
    d = os.path.join(BUILD, "bench", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "EPYC,+svm,+npt",
           "-smp", "2", "-m", "1G", "-nodefaults", "-display", "none", "-no-reboot",
           "-kernel", kernel_path(), "-initrd", os.path.join(BUILD, "service-initrd.img"),
           "-append", "console=ttyS0", "-serial", "stdio"] + extra
    t0 = time.time()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = b""
    while True:
        chunk = p.stdout.read1(4096)
        if not chunk:
            raise RuntimeError("direct boot ended without a shell: see %s" % d)
        out += chunk
        m = re.search(BANNER.encode(), out)
        if m:
            wall = time.time() - t0
            break
    time.sleep(2)
    p.stdin.write(b"poweroff -f\n")
    p.stdin.flush()
    try:
        out += p.communicate(timeout=120)[0]
    except subprocess.TimeoutExpired:
        p.kill()
        out += p.communicate()[0]
    open(os.path.join(d, "serial.log"), "wb").write(out)
    return wall, float(m.group(1))


def main():
    k_icount = keel_boot("bench_keel_icount", ICOUNT)[1]
    d_icount = direct_boot("bench_direct_icount", ICOUNT)[1]
    k_wall = [keel_boot("bench_keel_wall%d" % i, [])[0] for i in range(WALL_RUNS)]
    d_wall = [direct_boot("bench_direct_wall%d" % i, [])[0] for i in range(WALL_RUNS)]
    km, dm = statistics.median(k_wall), statistics.median(d_wall)
    lines = [
        "boot to the service VM's shell (QEMU TCG, EPYC+SVM, 2 vCPUs, 1 GiB)",
        "  guest time (-icount shift=0,sleep=off): Keel %.3f s, QEMU direct %.3f s, ratio %.2f"
        % (k_icount, d_icount, k_icount / d_icount),
        "  wall time, median of %d: Keel %.1f s, QEMU direct %.1f s, ratio %.2f  (runs: %s / %s)"
        % (WALL_RUNS, km, dm, km / dm, ", ".join("%.1f" % x for x in k_wall),
           ", ".join("%.1f" % x for x in d_wall)),
    ]
    report = "\n".join(lines)
    print(report)
    with open(os.path.join(BUILD, "bench.txt"), "w") as f:
        f.write(report + "\n")


if __name__ == "__main__":
    main()
