#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Captures QEMU's ACPI tables for the ACPI parser's unit tests: boots the
stock kernel on a q35 machine with an initramfs that prints every table in
/sys/firmware/acpi/tables as base64, and stores them under tests/data/acpi/.

usage: capture_acpi.py   (rewrites tests/data/acpi/<machine>/*.bin)"""
import base64
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from rig import kernel_path  # noqa: E402

INIT = """#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
cd /sys/firmware/acpi/tables
for t in *; do
  [ -f "$t" ] || continue
  echo "BEGIN $t"; /bin/busybox base64 "$t"; echo "END $t"
done
/bin/busybox poweroff -f
"""

MACHINES = {
    "q35-smp4-vtd": ["-smp", "4", "-device", "intel-iommu,intremap=on",
                     "-machine", "q35,kernel-irqchip=split"],
    "q35-smp2-amdvi": ["-smp", "2", "-device", "amd-iommu,intremap=on"],
}


def capture(name, args):
    with tempfile.TemporaryDirectory() as tmp:
        init = os.path.join(tmp, "init")
        open(init, "w").write(INIT)
        rd = os.path.join(tmp, "rd.gz")
        subprocess.run([sys.executable, os.path.join(ROOT, "tools/initramfs/mkinitramfs.py"),
                        rd, "--init", init], check=True)
        out = subprocess.run(["timeout", "120", "qemu-system-x86_64", "-machine", "q35",
                              "-accel", "tcg", "-cpu", "EPYC,+svm,+npt", "-m", "512M",
                              "-nographic", "-no-reboot", "-kernel", kernel_path(), "-initrd", rd,
                              "-append", "console=ttyS0 quiet"] + args,
                             capture_output=True, text=True).stdout
    dest = os.path.join(ROOT, "tests/data/acpi", name)
    os.makedirs(dest, exist_ok=True)
    for m in re.finditer(r"BEGIN (\S+)\r?\n(.*?)END \1", out, re.S):
        data = base64.b64decode("".join(m.group(2).split()))
        open(os.path.join(dest, m.group(1) + ".bin"), "wb").write(data)
        print("%s/%s: %d bytes" % (name, m.group(1), len(data)))


def main():
    for name, args in MACHINES.items():
        capture(name, args)


if __name__ == "__main__":
    main()
