#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Bochs rig: boots build/keel.efi from an ESP disk through Debian's
2 MiB OVMF under Bochs 2.7, headless, for the VT-x backend (cpu model
tigerlake) and the SVM NRIP-save path (ryzen). Like rig.Machine it builds
the disk with scripts/mkdisk.py, keeps every log under build/tests/<name>/
(bochsrc, bochs.log, bochs.out, serial.log) and enforces a hard timeout.

OVMF finds ACPI tables only through QEMU's fw_cfg, which Bochs 2.7 lacks, so
the ESP boots tests/bochs_acpi.c first: it installs tables describing the
emulated PC and starts the unchanged keel.efi from \EFI\keel\keel.efi.
Bochs has no isa-debug-exit and its serial port is a file, so a run is
judged by its serial log: the test waits for a line (expect) and stop()
ends Bochs. See ../../shared/EMULATORS.md section 3 for the set-up facts.

usage: tests/bochs.py [--model tigerlake|ryzen] [--cpus N] [--megs M] [--timeout S] [--until REGEX]
                      [--cfg keel.cfg] [DEST=SRC ...]     (a manual run; logs in build/tests/bochs_manual)"""
import argparse
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import mkdisk  # noqa: E402
from rig import BUILD, KEEL_EFI, Machine, TestFailure  # noqa: E402

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd"  # the 2 MiB build: Bochs 2.7 takes at most a 2 MiB ROM
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd"
OVMF_2M = os.path.join(BUILD, "bochs", "OVMF-2M.fd")
SHIM_SRC = os.path.join(ROOT, "tests", "bochs_acpi.c")
SHIM_EFI = os.path.join(BUILD, "bochs", "bochs-acpi.efi")
EFI_CFLAGS = ["-std=gnu11", "-O2", "-ffreestanding", "-fno-stack-protector", "-fpic", "-fshort-wchar",
              "-mno-red-zone", "-mgeneral-regs-only", "-maccumulate-outgoing-args",
              "-DGNU_EFI_USE_MS_ABI", "-Wall", "-Werror", "-isystem", "/usr/include/efi",
              "-isystem", "/usr/include/efi/x86_64"]
BOCHS = "bochs-bin"  # Debian's build, with the internal debugger compiled in
IPS = 100000000      # instructions per emulated second; with clock sync=none the TSC counts them

# Bochs 2.7 meets a triple fault in an SVM guest with bx_debug_break() and BX_PANIC *before*
# it takes the SHUTDOWN intercept (cpu/exception.cc, then shutdown() in proc_ctrl.cc): under ryzen the
# panic must only be reported and the debugger told to continue, or the whole emulator stops.
PANIC_ACTION = {"ryzen": "report"}
# The debugger stops at t=0 and at each such break; "c" continues, and "quit" ends a run
# that stops more often than any test should.
DEBUGGER_CONTINUES = 4

BOCHSRC = """\
display_library: sdl2
megs: {megs}
cpu: model={model}, count={cpus}, ips={ips}, reset_on_triple_fault=0
romimage: file={rom}, address=0xffe00000
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
pci: enabled=1, chipset=i440fx
ata0-master: type=disk, path={disk}, mode=flat
boot: disk
com1: enabled=1, mode={com1_mode}, dev={com1_dev}
log: {log}
panic: action={panic}
error: action=report
info: action=ignore
mouse: enabled=0
clock: sync=none, time0=local
speaker: enabled=0
sound: driver=dummy
"""


def ovmf_2m():
    """Debian's OVMF_VARS.fd + OVMF_CODE.fd: exactly the classic 2 MiB OVMF.fd layout. Built once
    under build/bochs/ and shared by every Bochs run: written under a name of this process, then
    renamed, so two tests starting at once never see a half-written file."""
    src = [OVMF_VARS, OVMF_CODE]
    if os.path.exists(OVMF_2M) and all(os.path.getmtime(OVMF_2M) >= os.path.getmtime(s) for s in src):
        return OVMF_2M
    os.makedirs(os.path.dirname(OVMF_2M), exist_ok=True)
    tmp = "%s.%d.tmp" % (OVMF_2M, os.getpid())
    with open(tmp, "wb") as out:
        for s in src:
            with open(s, "rb") as f:
                out.write(f.read())
    if os.path.getsize(tmp) != 2 << 20:
        os.unlink(tmp)
        raise TestFailure("OVMF_VARS.fd + OVMF_CODE.fd is not 2 MiB: Bochs cannot load it")
    os.replace(tmp, OVMF_2M)
    return OVMF_2M


def acpi_shim():
    """tests/bochs_acpi.c as a UEFI app (GNU-EFI's own link recipe): the ACPI tables OVMF cannot find.
    Built like ovmf_2m(): under names of this process, the app renamed into place at the end."""
    if os.path.exists(SHIM_EFI) and os.path.getmtime(SHIM_EFI) >= os.path.getmtime(SHIM_SRC):
        return SHIM_EFI
    os.makedirs(os.path.dirname(SHIM_EFI), exist_ok=True)
    base = "%s.%d" % (SHIM_EFI[:-4], os.getpid())
    obj, so, efi = base + ".o", base + ".so", base + ".efi"
    steps = [["gcc"] + EFI_CFLAGS + ["-c", SHIM_SRC, "-o", obj],
             ["ld", "-nostdlib", "-znocombreloc", "-shared", "-Bsymbolic", "-T",
              "/usr/lib/elf_x86_64_efi.lds", "/usr/lib/crt0-efi-x86_64.o", obj, "-L/usr/lib",
              "-lefi", "-lgnuefi", "-o", so],
             ["objcopy", "-j", ".text", "-j", ".sdata", "-j", ".data", "-j", ".dynamic", "-j",
              ".dynsym", "-j", ".rel", "-j", ".rela", "-j", ".reloc", "--target", "efi-app-x86_64",
              "--subsystem=10", so, efi]]
    try:
        for cmd in steps:
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode:
                raise TestFailure("building the ACPI shim failed: %s\n%s" % (" ".join(cmd), p.stderr))
        os.replace(efi, SHIM_EFI)
    finally:
        for f in (obj, so, efi):
            if os.path.exists(f):
                os.unlink(f)
    return SHIM_EFI


class Bochs:
    """One Bochs run. files maps ESP paths to host files; cfg is keel.cfg's text (None: none)."""

    def __init__(self, name, cfg, files=None, cpus=1, model="tigerlake", megs=512, timeout=300):
        self.name = name
        self.dir = os.path.join(BUILD, "tests", name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.cfg, self.files, self.cpus, self.model, self.megs = cfg, files or {}, cpus, model, megs
        self.timeout = timeout
        self.serial_log = os.path.join(self.dir, "serial.log")
        self.proc = None
        self.started = None
        self.debugger = "c\n" * DEBUGGER_CONTINUES + "quit\n"  # commands for Bochs' debugger

    def build_disk(self):
        disk = os.path.join(self.dir, "disk.img")
        files = [("EFI/BOOT/BOOTX64.EFI", acpi_shim()), ("EFI/keel/keel.efi", KEEL_EFI)]
        if self.cfg is not None:
            path = os.path.join(self.dir, "keel.cfg")
            with open(path, "w") as f:
                f.write(self.cfg)
            files.append(("keel.cfg", path))
        files += sorted(self.files.items())
        mkdisk.build(disk, files)
        return disk

    def com1(self):
        """COM1's mode and device in the bochsrc: the serial log itself, written by Bochs."""
        open(self.serial_log, "wb").close()
        return "file", self.serial_log

    def start(self):
        rc = os.path.join(self.dir, "bochsrc")
        mode, dev = self.com1()
        with open(rc, "w") as f:
            f.write(BOCHSRC.format(megs=self.megs, model=self.model, cpus=self.cpus, ips=IPS,
                                   rom=ovmf_2m(), disk=self.build_disk(), com1_mode=mode,
                                   com1_dev=dev, panic=PANIC_ACTION.get(self.model, "fatal"),
                                   log=os.path.join(self.dir, "bochs.log")))
        dbg = os.path.join(self.dir, "debugger.rc")
        with open(dbg, "w") as f:
            f.write(self.debugger)
        self.out = open(os.path.join(self.dir, "bochs.out"), "wb")
        env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
        cmd = [BOCHS, "-q", "-f", rc, "-rc", dbg]
        with open(os.path.join(self.dir, "bochs.cmd"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, env=env, cwd=self.dir,
                                     start_new_session=True)
        self.started = time.time()
        return self

    # --- the serial log ---
    def text(self):
        with open(self.serial_log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def tail(self, n=40):
        return "\n".join("    | " + l for l in self.text().splitlines()[-n:])

    def elapsed(self):
        return time.time() - self.started

    def expect(self, pattern, timeout=None):
        """Waits until the serial log matches pattern; returns the match."""
        rx = re.compile(pattern)
        left = self.timeout - self.elapsed()
        end = time.time() + (left if timeout is None else min(timeout, left))
        while True:
            m = rx.search(self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                m = rx.search(self.text())
                if m:
                    return m
                raise TestFailure("Bochs exited (%d) before %r appeared; logs in %s\n%s" % (
                    self.proc.returncode, pattern, self.dir, self.tail()))
            if time.time() > end:
                raise TestFailure("timed out after %.0fs waiting for %r; logs in %s\n%s" % (
                    self.elapsed(), pattern, self.dir, self.tail()))
            time.sleep(0.2)

    def stop(self):
        """Ends Bochs (its whole process group: bochs-bin forks nothing, but be sure)."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if self.proc:
            self.out.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class BochsConsole(Bochs):
    """A Bochs run whose COM1 is a console the test types into, as rig.Machine's: COM1 is a
    pseudo-terminal (Bochs' "term" mode opens it and makes it raw), a thread copies what Bochs
    writes to the buffer and serial.log, and mark/send/shell are rig.Machine's; expect, as
    Machine's, searches bytes from an offset with a timeout of its own within the run's."""

    def com1(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # raw before Bochs opens it: no echo, no line editing
        self.buf, self.lock = b"", threading.Lock()
        self.serial_in = self.master  # what Machine.send writes to
        self.log = open(self.serial_log, "wb")
        self.reader = None
        return "term", os.ttyname(self.slave)

    def start(self):
        super().start()
        self.deadline = self.started + self.timeout
        self.reader = threading.Thread(target=self._reader, daemon=True)
        self.reader.start()
        return self

    def _reader(self):
        """Copies the console until Bochs has exited and left nothing unread (this side keeps
        the terminal's other end open, so a read never sees an end of file)."""
        while True:
            try:
                ready = select.select([self.master], [], [], 0.2)[0]
                data = os.read(self.master, 65536) if ready else b""
            except OSError:
                break
            if not data:
                if self.proc.poll() is not None:
                    break
                continue
            with self.lock:
                self.buf += data
            self.log.write(data)
            self.log.flush()

    text = Machine.text
    mark = Machine.mark
    send = Machine.send
    shell = Machine.shell

    def expect(self, pattern, timeout=60, start=0):
        """Waits until the console's output from byte offset start matches; returns the match."""
        rx = pattern if hasattr(pattern, "search") else re.compile(
            pattern.encode() if isinstance(pattern, str) else pattern)
        end = min(time.time() + timeout, self.deadline)
        while True:
            exited = self.proc.poll() is not None
            if exited:
                time.sleep(0.3)  # the reader's last read
            with self.lock:
                m = rx.search(self.buf, start)
            if m:
                return m
            if exited:
                raise TestFailure("Bochs exited (%d) before %r appeared; logs in %s\n%s" % (
                    self.proc.returncode, pattern, self.dir, self.tail()))
            if time.time() > end:
                raise TestFailure("timed out after %.0fs waiting for %r; logs in %s\n%s" % (
                    self.elapsed(), pattern, self.dir, self.tail()))
            time.sleep(0.1)

    def stop(self):
        super().stop()
        if self.reader:
            self.reader.join(5)
        for fd in (self.master, self.slave):
            os.close(fd)
        self.log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="tigerlake")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--megs", type=int, default=512)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--until", default=r"all VMs have stopped|boot complete|PANIC|boot stopped")
    ap.add_argument("--cfg", help="keel.cfg to put on the ESP")
    ap.add_argument("files", nargs="*", help="DEST=SRC files for the ESP")
    a = ap.parse_args()
    cfg = open(a.cfg).read() if a.cfg else None
    files = dict(f.split("=", 1) for f in a.files)
    with Bochs("bochs_manual", cfg, files, cpus=a.cpus, model=a.model, megs=a.megs,
               timeout=a.timeout) as b:
        try:
            b.expect(a.until)
            print("matched after %.1fs; logs in %s" % (b.elapsed(), b.dir))
        except TestFailure as e:
            print(e)
            sys.exit(1)


if __name__ == "__main__":
    main()
