# SPDX-License-Identifier: MIT
"""Driving keelctl on the service VM's serial console: boot, commands and their
errors, listings, and `keelctl console NAME` sessions with a guest's shell."""
import base64
import gzip
import hashlib
import os
import re
import time

from rig import BUILD, TestFailure, check, kernel_path

KVER = os.path.basename(kernel_path())[len("vmlinuz-"):]
PROMPT = r"/ # "
GUEST_KERNEL = "/mnt/keel/guests/vmlinuz"
GUEST_INITRD = "/mnt/keel/guests/initrd.img"


def cfg(memory="512M"):
    return ("service.kernel = vmlinuz\nservice.initrd = initrd.img\nservice.cmdline = console=ttyS0\n"
            "service.memory = %s\nservice.vcpus = 2\n" % memory)


def files():
    f = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img"),
         "guests/vmlinuz": kernel_path(), "guests/initrd.img": os.path.join(BUILD, "guest-initrd.img")}
    for g in ("triplefault", "escape", "spin"):
        f["guests/%s.elf" % g] = os.path.join(BUILD, "guests", g + ".elf")
    return f


def boot(m):
    m.expect(r"Keel service VM: [^\n]* up", timeout=300)
    m.expect(PROMPT, timeout=30)
    time.sleep(1)


def keelctl(m, args, timeout=120):
    """Runs keelctl in the service VM: (its output, stdout and stderr together; exit status)."""
    out = m.shell("keelctl %s 2>&1; echo rc=$?" % args, timeout=timeout)
    # Keel's own log lines share the serial port, the last line too
    out = re.sub(r"keel: [^\n]*(\n|$)", "", out)
    rc = re.search(r"rc=(\d+)\s*$", out)
    return out[:rc.start()].strip() if rc else out, int(rc.group(1)) if rc else -1


def ok(m, args, timeout=120):
    out, rc = keelctl(m, args, timeout)
    check(rc == 0, "keelctl %s failed (%d): %s" % (args, rc, out), m)
    return out


def refused(m, args, message):
    """The command fails with exit status 1 and a message matching `message`."""
    out, rc = keelctl(m, args)
    check(rc == 1 and re.search(message, out), "keelctl %s gave %d, %r, wanted /%s/" % (
        args, rc, out, message), m)


def create_linux(m, name, mem="256M", vcpus=1, devices=""):
    """A Linux guest with the guest initramfs, its shell on ttyS0; devices: e.g. "--net br0"."""
    out = ok(m, "create %s --mem %s --vcpus %d --kernel %s --initrd %s --cmdline 'console=ttyS0 "
                "keel.name=%s' %s" % (name, mem, vcpus, GUEST_KERNEL, GUEST_INITRD, name, devices))
    check("created %s" % name in out, "no 'created' from keelctl create: %r" % out, m)


def wait_info(m, name, state, timeout=120):
    """`keelctl info NAME` once its state line is `state` (a word: a reason may follow after a
    colon); fails the test with the last state seen when that does not happen within timeout."""
    rx = re.compile(r"^state: +%s(?::|$)" % re.escape(state), re.M)
    deadline = time.time() + timeout
    while True:
        info = ok(m, "info " + name)
        if rx.search(info):
            return info
        if time.time() > deadline:
            seen = re.search(r"^state:.*$", info, re.M)
            raise TestFailure("%s is not %s after %d s: %s; serial log: %s\n%s" % (
                name, state, timeout, seen.group(0) if seen else repr(info), m.serial_log, m.tail()))
        time.sleep(2)


def listing(m):
    """{name: (state, vcpus, MiB)} and the free KiB, from keelctl list."""
    out = ok(m, "list")
    vms = {g[0]: (g[1], int(g[2]), int(g[3])) for g in
           re.findall(r"^(\S+) +(\w+) +(\d+) +(\d+) MiB +\d+ s +\d+ +\d+ +[-\w]+$", out, re.M)}
    free = re.search(r"memory: (\d+) KiB free of (\d+) KiB", out)
    check(free, "no memory line in keelctl list: %r" % out, m)
    return vms, int(free.group(1))


def monitor_report(m):
    """Puts Keel's own view of the VMs (the monitor's `vms`: states, RIPs, exits) in the log."""
    m.send(b"\x1d\x1d")
    try:
        m.expect(r"keel> ", timeout=10)
        m.send("vms\r")
        time.sleep(3)
        m.send("resume\r")
    except TestFailure:
        pass


def wait_guest_shell(m, name, timeout=300):
    """Waits for a guest initramfs's banner on m's serial port (a Keel guest's console, or a guest
    QEMU runs directly), then for its prompt after pressing Enter."""
    m.expect(r"Keel guest %s: " % name, timeout=timeout)
    time.sleep(1)
    mark = m.mark()
    m.send("\n")
    m.expect(r"\[%s\] / # " % name, timeout=60, start=mark)


class Console:
    """`keelctl console NAME` on the service VM's serial console, for one guest's shell."""

    def __init__(self, m, name):
        self.m, self.name = m, name

    def __enter__(self):
        mark = self.m.mark()
        self.m.send("keelctl console %s\n" % self.name)
        self.m.expect(r"console of %s; Ctrl-\] detaches" % self.name, timeout=20, start=mark)
        time.sleep(0.5)
        return self

    def wait_shell(self, timeout=300):
        """Waits for the guest's banner, then for a prompt after pressing Enter."""
        try:
            wait_guest_shell(self.m, self.name, timeout)
        except TestFailure:
            monitor_report(self.m)
            raise

    def run(self, command, timeout=60):
        return self.m.shell(command, timeout=timeout)

    def __exit__(self, *exc):
        mark = self.m.mark()
        self.m.send(b"\x1d\n")
        self.m.expect(r"detached from %s" % self.name, timeout=20, start=mark)
        self.m.expect(PROMPT, timeout=20, start=mark)
        time.sleep(0.5)


def fetch(m, path, timeout=600):
    """A file of the service VM, gzipped and base64-encoded over its serial console; checked by MD5."""
    out = m.shell("md5sum < %s; gzip -c %s | base64" % (path, path), timeout=timeout)
    lines = out.splitlines()
    want = re.match(r"([0-9a-f]{32})\b", lines[0] if lines else "")
    check(want, "no MD5 of %s: %r" % (path, out[:200]), m)
    # Keel's own log lines may share the port: they are not base64 (they have spaces and ':').
    data = gzip.decompress(base64.b64decode("".join(
        l for l in lines[1:] if re.fullmatch(r"[A-Za-z0-9+/=]+", l))))
    check(hashlib.md5(data).hexdigest() == want.group(1), "%s came over the console damaged" % path, m)
    return data


def monitor(m, command):
    """Runs a monitor command (Ctrl-] twice) and returns what it printed; back to the shell."""
    mark = m.mark()
    m.send(b"\x1d\x1d")
    m.expect(r"keel> ", timeout=15, start=mark)
    mark = m.mark()
    m.send(command + "\r")
    m.expect(r"keel> ", timeout=15, start=mark + 1)
    out = m.text()[mark:]
    m.send("resume\r")
    time.sleep(1)
    m.send("\n")
    return out
