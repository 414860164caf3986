# SPDX-License-Identifier: MIT
"""The emulator rig for integration tests: builds a boot disk, runs QEMU with
OVMF, gives the serial console to the test (expect/send), keeps every log
under build/tests/<name>/, and enforces a hard time limit."""
import fcntl
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import accel  # noqa: E402
import mkdisk  # noqa: E402

BUILD = os.path.join(ROOT, "build")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
KEEL_EFI = os.path.join(BUILD, "keel.efi")
CPU_SVM = "EPYC,+svm,+npt"
EXIT_SUCCESS = 33  # Keel's KEEL_EXIT_SUCCESS (0x10) through isa-debug-exit
EXIT_FAILURE = 35
EXIT_PANIC = 37
SERIAL_PIPE_SIZE = 1 << 20  # the console bytes QEMU may write before this side reads them

# KVM with the host's CPU where the host's KVM can nest, else single-threaded TCG with CPU_SVM
# (scripts/accel.py; KEEL_ACCEL=tcg|kvm forces one); Machine's default cpu means ACCEL.cpu.
ACCEL = accel.choose()
# Keel's report of its backend on each CPU (arch/x86/svm/svm_cpu.c, arch/x86/vmx/vmx_cpu.c)
BACKEND_REPORT = {"AMD-V": r"AMD-V rev \d+, \d+ ASIDs, NPT yes",
                  "VT-x": r"VT-x rev \d+, EPT \(2M \w+, 1G \w+, A/D \w+\), VPID \w+, unrestricted guest"}


def backend():
    """(name, report pattern) of the backend Keel runs under QEMU here: the one for the CPU QEMU
    gives it (AMD-V on TCG's EPYC, the host's under KVM: VT-x on an Intel host)."""
    return ACCEL.backend, BACKEND_REPORT[ACCEL.backend]


def kernel_path():
    kernels = sorted(f for f in os.listdir("/boot") if f.startswith("vmlinuz-"))
    if not kernels:
        raise RuntimeError("no /boot/vmlinuz-*: install linux-image-amd64 (make deps)")
    return os.path.join("/boot", kernels[-1])


class TestFailure(Exception):
    pass


def check(cond, what, m):
    """Fails the test with `what`, pointing at the machine's serial log and its last lines."""
    if not cond:
        raise TestFailure("%s; serial log: %s\n%s" % (what, m.serial_log, m.tail()))


class Machine:
    """One QEMU run. files maps ESP paths to host files; cfg is keel.cfg's text (None: no keel.cfg)."""

    def __init__(self, name, cfg, files=None, smp=2, mem="2G", cpu=CPU_SVM, timeout=120,
                 extra=None, disk=None, reboot=False, direct=None):
        """direct=(kernel, initrd or None, cmdline): no Keel, QEMU boots that kernel itself (baselines)."""
        self.name = name
        self.dir = os.path.join(BUILD, "tests", name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.cfg, self.files, self.smp, self.mem, self.cpu = cfg, files or {}, smp, mem, cpu
        self.timeout, self.extra, self.disk, self.reboot = timeout, extra or [], disk, reboot
        self.direct = direct
        self.serial_log = os.path.join(self.dir, "serial.log")
        self.buf = b""
        self.lock = threading.Lock()
        self.proc = None
        self.deadline = None
        self.command_prefix = []  # e.g. ["ip", "netns", "exec", NAME] to run QEMU in a namespace

    # --- set-up ---
    def build_disk(self):
        if self.disk or self.direct:
            return self.disk
        disk = os.path.join(self.dir, "disk.img")
        files = [("EFI/BOOT/BOOTX64.EFI", KEEL_EFI)]
        if self.cfg is not None:
            cfg_path = os.path.join(self.dir, "keel.cfg")
            with open(cfg_path, "w") as f:
                f.write(self.cfg)
            files.append(("keel.cfg", cfg_path))
        files += sorted(self.files.items())
        mkdisk.build(disk, files)
        return disk

    def firmware_args(self, disk):
        if self.direct:
            kernel, initrd, cmdline = self.direct
            return ["-kernel", kernel, "-append", cmdline] + (["-initrd", initrd] if initrd else [])
        vars_fd = os.path.join(self.dir, "ovmf_vars.fd")
        shutil.copy(OVMF_VARS, vars_fd)
        return ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                "-drive", "if=pflash,format=raw,unit=1,file=" + vars_fd,
                "-device", "qemu-xhci,id=xhci",
                "-drive", "if=none,id=usb0,format=raw,snapshot=on,file=" + disk,
                "-device", "usb-storage,bus=xhci.0,drive=usb0,bootindex=0"]

    def command(self, disk):
        self.serial_pipe = os.path.join(self.dir, "serial")  # FIFOs serial.in and serial.out
        self.qmp_sock = os.path.join(self.dir, "qmp.sock")
        return [os.environ.get("KEEL_QEMU", "qemu-system-x86_64"), "-machine", "q35", "-accel", ACCEL.accel,
                "-cpu", ACCEL.cpu if self.cpu == CPU_SVM else self.cpu,
                "-smp", str(self.smp), "-m", self.mem] + self.firmware_args(disk) + [
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-nodefaults", "-display", "none", "-vga", "std"] + ([] if self.reboot else ["-no-reboot"]) + [
                "-chardev", "pipe,id=ser0,path=%s" % self.serial_pipe,
                "-serial", "chardev:ser0",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_sock,
                # the CPU state at every reset: a triple fault in Keel shows here
                # (KEEL_QEMU_LOG=int,cpu_reset adds every interrupt and exception: big)
                "-d", os.environ.get("KEEL_QEMU_LOG", "cpu_reset"), "-D", os.path.join(self.dir, "qemu.log")] + \
            self.extra + os.environ.get("KEEL_QEMU_ARGS", "").split()

    def start(self):
        disk = self.build_disk()
        cmd = self.command_prefix + self.command(disk)
        with open(os.path.join(self.dir, "qemu.cmd"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        # The serial console through two FIFOs, not a socket: QEMU writes each byte on its own,
        # and a Unix socket takes only ~280 of those before it pushes back, a pipe 1 MiB. A
        # UART that cannot send keeps THR full, and Keel (which waits a bounded time) and a
        # UART reset then lose bytes whenever this reader runs late: with two emulators on two
        # cores it does. Opened read-write here, neither waits for QEMU to open its end.
        for end in (".in", ".out"):
            os.mkfifo(self.serial_pipe + end)
        self.serial_out = os.open(self.serial_pipe + ".out", os.O_RDWR)
        try:
            fcntl.fcntl(self.serial_out, fcntl.F_SETPIPE_SZ, SERIAL_PIPE_SIZE)
        except OSError:  # above this user's limit (fs.pipe-max-size): the default 64 KiB
            pass
        self.serial_in = os.open(self.serial_pipe + ".in", os.O_RDWR)
        self.stderr = open(os.path.join(self.dir, "qemu.stderr"), "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.stderr,
                                     stderr=self.stderr)
        self.deadline = time.time() + self.timeout
        self.log = open(self.serial_log, "wb")
        self.reader = threading.Thread(target=self._reader, daemon=True)
        self.reader.start()
        return self

    def _connect(self, path):
        for _ in range(200):
            if self.proc.poll() is not None:
                raise TestFailure("QEMU exited at start: see %s" % self.stderr.name)
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                return s
            except OSError:
                time.sleep(0.05)
        raise TestFailure("cannot connect to QEMU's socket %s" % path)

    def _reader(self):
        """Copies the console to buf and the log until QEMU has exited and left nothing unread
        (this side holds the FIFO open for writing too, so it never reads an end of file)."""
        while True:
            try:
                ready = select.select([self.serial_out], [], [], 0.2)[0]
                data = os.read(self.serial_out, 65536) if ready else b""
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

    # --- interaction ---
    def text(self):
        with self.lock:
            return self.buf.decode("utf-8", "replace")

    def _left(self, timeout):
        return min(timeout, self.deadline - time.time())

    def expect(self, pattern, timeout=60, start=0):
        """Waits until the serial output (from byte offset start) matches; returns the match."""
        if hasattr(pattern, "search"):
            rx = pattern
        else:
            rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        end = time.time() + self._left(timeout)
        while True:
            with self.lock:
                m = rx.search(self.buf, start)
            if m:
                return m
            if time.time() > end:
                raise TestFailure("timed out waiting for %r; serial log: %s\n%s" % (
                    pattern, self.serial_log, self.tail()))
            if self.proc.poll() is not None:
                time.sleep(0.2)
                with self.lock:
                    m = rx.search(self.buf, start)
                if m:
                    return m
                raise TestFailure("QEMU exited (%d) before %r appeared; serial log: %s\n%s" % (
                    self.proc.returncode, pattern, self.serial_log, self.tail()))
            time.sleep(0.05)

    def mark(self):
        with self.lock:
            return len(self.buf)

    def send(self, text, delay=0.0):
        data = text.encode() if isinstance(text, str) else text
        if not delay:
            while data:
                data = data[os.write(self.serial_in, data):]
            return
        for b in data:
            os.write(self.serial_in, bytes([b]))
            time.sleep(delay)

    def shell(self, command, timeout=60):
        """Runs a command at the service VM's shell prompt; returns its output.
        Printed markers bracket the output; each is split in the typed line, so the
        terminal's echo of the command (however it wraps) can never match them."""
        mark = "_%d_" % int(time.time() * 1000)
        start = self.mark()
        self.send('echo "=%s""BEGIN="; %s; echo "=%s""DONE="\n' % (mark, command, mark))
        rx = re.compile(("=%sBEGIN=\r?\n(.*?)=%sDONE=" % (mark, mark)).encode(), re.S)
        m = self.expect(rx, timeout=timeout, start=start)
        return m.group(1).decode("utf-8", "replace").replace("\r", "").strip()

    def cpu_seconds(self):
        """The CPU time QEMU has had so far, all its threads: under TCG a measure of how far the
        emulated machine got that, unlike the wall clock, does not grow with the host's load
        (another emulator on the same cores, say)."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()  # after the command name: state, ...
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def tail(self, n=40):
        lines = self.text().splitlines()
        return "\n".join("    | " + l for l in lines[-n:])

    def wait_exit(self, timeout=60):
        try:
            rc = self.proc.wait(self._left(timeout))
            self.reader.join(5)  # everything QEMU wrote is in buf when this returns
            return rc
        except subprocess.TimeoutExpired:
            raise TestFailure("QEMU did not exit in time; serial log: %s\n%s" % (
                self.serial_log, self.tail()))

    def qmp(self, command, **arguments):
        import json
        s = self._connect(self.qmp_sock)
        f = s.makefile("rwb")
        f.readline()
        for msg in ({"execute": "qmp_capabilities"}, {"execute": command, "arguments": arguments}):
            f.write(json.dumps(msg).encode() + b"\n")
            f.flush()
            while True:
                reply = json.loads(f.readline())
                if "return" in reply or "error" in reply:
                    break
        s.close()
        if "error" in reply:
            raise TestFailure("QMP %s: %s" % (command, reply["error"]))
        return reply["return"]

    def forward_port(self, guest_addr, guest_port):
        """A port on 127.0.0.1 that QEMU's user network (-netdev user) forwards to guest_addr:
        guest_port. The port is free when chosen; if anything (another test's QEMU) takes it
        before QEMU binds it, QEMU says so and another is tried, so no test talks to another's."""
        for _ in range(10):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            rule = "tcp:127.0.0.1:%d-%s:%s" % (port, guest_addr, guest_port)
            said = self.qmp("human-monitor-command", **{"command-line": "hostfwd_add " + rule})
            if not said.strip():  # HMP prints nothing when the forward is set up
                return port
        raise TestFailure("QEMU could not forward a host port to %s:%s: %s" % (
            guest_addr, guest_port, said))

    def screendump(self, path):
        """The GOP framebuffer as (width, height, rgb bytes), read from QEMU's PPM dump."""
        self.qmp("screendump", filename=path)
        data = open(path, "rb").read()
        m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
        if not m:
            raise TestFailure("unexpected screendump format in %s" % path)
        return int(m.group(1)), int(m.group(2)), data[m.end():]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc and self.serial_out is not None:
            self.reader.join(5)  # it ends once it has read what QEMU wrote last
            os.close(self.serial_in)
            os.close(self.serial_out)
            self.serial_in = self.serial_out = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
