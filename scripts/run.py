#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make run`: boots a Keel USB image in QEMU (q35, OVMF, 2 CPUs, 2 GiB) with the serial
console on this terminal: under KVM with the host's CPU where the host's KVM can nest, else
TCG with an EPYC CPU with AMD-V (scripts/accel.py; KEEL_ACCEL=tcg|kvm forces one).
usage: run.py DISK_IMAGE [extra QEMU arguments]"""
import os
import shutil
import sys

import accel

BUILD = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build")


def main():
    disk = sys.argv[1]
    vars_fd = os.path.join(BUILD, "run-ovmf-vars.fd")
    shutil.copy("/usr/share/OVMF/OVMF_VARS_4M.fd", vars_fd)
    try:
        a = accel.choose()
    except ValueError as e:
        sys.exit(str(e))
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", a.accel,
           "-cpu", a.cpu, "-smp", "2", "-m", "2G",
           "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
           "-drive", "if=pflash,format=raw,unit=1,file=" + vars_fd,
           "-device", "qemu-xhci,id=xhci",
           "-drive", "if=none,id=usb0,format=raw,file=" + disk,
           "-device", "usb-storage,bus=xhci.0,drive=usb0,bootindex=0",
           "-display", "none", "-vga", "std", "-serial", "mon:stdio"] + sys.argv[2:]
    print(a.message, flush=True)
    print("Keel under QEMU: Ctrl-] Ctrl-] opens the Keel monitor, Ctrl-A X quits QEMU.",
          flush=True)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main()
