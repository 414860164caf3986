#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make bench`: Keel's costs next to a baseline measured in the same run.

usage: scripts/bench.py [PART ...]   (no PART: all of them, into build/bench.txt; some: those,
       into build/bench-PART[-PART...].txt)
PARTs: boot, service-io, exit, guest-boot, uefi-boot, virtio-disk, virtio-net, display, each
       described below (uefi-boot in scripts/bench_uefi.py), and exits (exits per guest
       I/O request: scripts/bench_exits.py).

The same work on every side: all run on the same QEMU (KEEL_QEMU) in the same TCG mode
(KEEL_ACCEL, else tests/rig.py's single-threaded TCG), each figure is measured in
KEEL_BENCH_RUNS runs a side (default 5, the least issue 25 asks of the KVM peer's figures)
taken in interleaved order (two sides: Keel then QEMU, then QEMU then Keel, ...; three: each
run starts with the next side), and every figure is the median with its range over those
runs; each line says which direction is better for Keel. A run whose dd, nc or randio did not
move every byte, or failed, fails its part instead of giving a rate (on every side).

The KVM peer (exit, guest-boot, virtio-disk): the same guest under Linux KVM with QEMU as its
device model, run as the first-level hypervisor where Keel would be, in the same outer QEMU
(same TCG mode, CPU model EPYC+SVM+NPT, vCPUs and RAM as Keel's machine for that part). The L1
is the service VM's kernel with build/kvm-initrd.img (tools/tools.mk: kvm-amd loaded with
npt=1, vhost_net, the host's own qemu-system-x86_64 and its libraries, the guest kernel and
initramfs); its QEMU runs the guest with -enable-kvm -cpu host,pmu=off and otherwise the
rig's direct command (q35, the same RAM, 1 vCPU, the same kernel command line), its serial
port on the L1's console. Reports give Keel, KVM L1 and QEMU direct side by side with the
Keel/KVM and Keel/direct ratios of the medians.

Boot: the service VM's kernel and initramfs booted by Keel (from the USB image)
and by QEMU directly (-kernel), both on QEMU TCG with the same CPU model, vCPUs
and RAM. Reported in guest time under -icount shift=0,sleep=off (1 ns per
instruction: exact and repeatable), with 1 CPU on both sides because QEMU 7.2
hangs booting a 2-CPU Linux directly under icount, and in wall time with 2
CPUs (median of runs).

  guest time, Keel   = Keel core start -> service VM entry (Keel's log)
                       + Linux uptime at the shell (the init banner)
  guest time, direct = Linux uptime at the shell
  wall time          = QEMU start -> shell banner on the serial port
                       (includes OVMF for Keel; the direct boot has no firmware step)

Guest boot: the same span on every side, from asking for the guest (kernel and
initramfs not yet loaded) to its shell banner: Keel, `keelctl create` (which
loads them) and `keelctl start` in the service VM, the banner on `keelctl
console` (wall time, 2 CPUs, the service VM up already); KVM L1, its QEMU's
start in the running L1 (1 CPU: a guest of a 2-CPU L1 stalls on single-threaded
TCG) to the banner on the L1's console; QEMU, its
start with -kernel/-initrd to the banner on its serial port; the same kernel,
guest initramfs, RAM and vCPU. All also give the guest's own uptime at its banner.

Guest virtio disk: a Linux guest's own virtio-blk driver writing (dd, fsync)
and reading (cold cache) its disk sequentially, then tools/randio/randio.c's
4 KiB random writes (fdatasync at the end) and reads with O_DIRECT, one
request at a time, in the same guest session: served by keel-dm from a file in
the service VM's tmpfs, next to QEMU's virtio-blk-pci on a file in the host's
tmpfs (/dev/shm) with its default cache, and the KVM L1's QEMU's on a file in
the L1's tmpfs: all images written full of zeros (allocated alike), all
flushes reaching a tmpfs file; same guest kernel and initramfs, 1 CPU, the
guest's clock (KEEL_BENCH_RANDIO_COUNT requests each).

Guest-to-guest network: one Linux guest sends NET_MIB MiB to another with
busybox nc over TCP on virtio-net, timed on the receiver's clock from the end
of its first 64 KiB (so the wait for the sender to start is not counted) to the
end of the stream. Keel: both guests on a bridge in the service VM, their NICs
served by keel-dm, all in one QEMU with KEEL_BENCH_NET_CPUS CPUs (default 1:
with 2, QEMU 7.2's nested SVM can corrupt the service VM under this much I/O,
see tests/integration/test_virtio.py). QEMU direct: the same guest kernel and
initramfs in two QEMU processes of 1 CPU each, their virtio-net-pci NICs
joined by a socket netdev.

Guest screen over VNC: a Linux guest (1 CPU, 256 MiB, 1024x768) writes two
random full screens in turn to /dev/fb0 without pause while tests/rfbclient.py
asks for incremental updates for DISPLAY_SECONDS: screens per second is the
pixels it received over the screen's size, per second of its clock (it connects
before the guest starts drawing). Keel:
virtio-gpu served by keel-dm, keel-vnc in the service VM, reached through a
QEMU user-network forward to the service VM's e1000e, one QEMU of 1 CPU. QEMU
direct: the same guest with QEMU's virtio-gpu-pci and its own VNC server.

Exit round trip: tests/guests/exitcost.c times CPUID and a port read in a
loop against an empty loop, in TSC ticks, run as a Keel VM and by QEMU
directly, 1 CPU, -icount shift=0,sleep=off: the TSC counts instructions. QEMU
runs either instruction as about one instruction, so no ratio to it means
anything: the report gives Keel's exit path alone, the instructions a round
trip costs under Keel less what the instruction costs under QEMU directly
(QEMU's emulation of the exit and VMRUN count as one instruction each); the
same for the KVM L1 (its QEMU runs exitcost.elf with KVM: the guest's TSC is
the outer icount clock, so KVM's exit handling, and for the port read QEMU's
in the L1, count), and Keel/KVM of those paths. QEMU's EPYC model saves no
NRIP, so Keel fetches and decodes the CPUID to skip it; the same guest under
Bochs (its TSC counts instructions too) gives the exit path on VT-x (cpu model
tigerlake) and on AMD-V with NRIP save (ryzen), one run each (Bochs runs the
same instructions every time), the loop and the instruction counted in.
"""
import base64
import contextlib
import os
import re
import shlex
import socket
import statistics
import sys
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "tests"))
# Both sides on QEMU TCG, as described above, wherever the host's KVM could nest: the baselines
# below start QEMU with TCG themselves, and -icount works only under TCG (scripts/accel.py).
os.environ.setdefault("KEEL_ACCEL", "tcg")
import bench_uefi  # noqa: E402
import guestctl  # noqa: E402
from netns import NetNS  # noqa: E402
from rfbclient import RFBClient  # noqa: E402
from rig import Machine, TestFailure, check, kernel_path  # noqa: E402
import bench_exits  # noqa: E402

RUNS = int(os.environ.get("KEEL_BENCH_RUNS", "5"))
BANNER = r"Keel service VM: [^\n]* up ([0-9.]+) s"
ICOUNT = ["-icount", "shift=0,sleep=off"]
CFG = ("service.kernel = vmlinuz\nservice.initrd = initrd.img\nservice.cmdline = console=ttyS0\n"
       "service.memory = 1G\nservice.vcpus = %d\n")
LOWER, HIGHER = "lower is better for Keel", "higher is better for Keel"


# --- the same work on both sides ---

def interleave(sides, runs=RUNS):
    """sides[j](i) for every side j and i in range(runs); run i starts with side i % len(sides)
    and goes round (with two sides: Keel first in even runs, QEMU first in odd ones), so that no
    side always goes first or always meets warm caches. Returns one list of results a side."""
    results = [[] for _ in sides]
    for i in range(runs):
        for k in range(len(sides)):
            j = (i + k) % len(sides)
            results[j].append(sides[j](i))
    return results


def alternate(keel, direct, runs=RUNS):
    """keel(i) and direct(i) for i in range(runs), alternating which goes first; returns
    ([keel's], [direct's])."""
    k, d = interleave((keel, direct), runs)
    return k, d


def spread(values, fmt):
    """The median and the range of a figure's runs: '12.3 (11.9-12.8)'."""
    med = statistics.median(values)
    if len(values) == 1:
        return fmt % med
    return "%s (%s-%s)" % (fmt % med, fmt % min(values), fmt % max(values))


def compare(what, unit, k, d, better, fmt="%.1f"):
    """One report line: both sides' medians and ranges, the ratio of the medians, and which way
    is better for Keel."""
    return "  %s: Keel %s %s, QEMU direct %s %s, ratio %.3f; %s" % (
        what, spread(k, fmt), unit, spread(d, fmt), unit,
        statistics.median(k) / statistics.median(d), better)


def compare_peer(what, unit, k, p, d, better, fmt="%.1f"):
    """One report line for a part with the KVM peer: Keel's, KVM L1's and QEMU direct's medians
    and ranges, then Keel/KVM and Keel/direct of the medians, and which way is better for Keel."""
    med = statistics.median
    return "  %s: Keel %s %s, KVM L1 %s %s, QEMU direct %s %s; Keel/KVM %.3f, Keel/direct %.3f; %s" % (
        what, spread(k, fmt), unit, spread(p, fmt), unit, spread(d, fmt), unit,
        med(k) / med(p), med(k) / med(d), better)


def runs_note(runs=RUNS, sides=2):
    return "median (range) of %d run(s) a side, %s" % (
        runs, "alternating which side goes first" if sides == 2 else
        "the %d sides interleaved, each run starting with the next side" % sides)


def service_shell(m):
    """Waits for the service VM's shell on a Keel machine."""
    m.expect(BANNER, timeout=590)
    m.expect(r"/ # ", timeout=60)
    time.sleep(2)


def power_off(m):
    m.send("poweroff -f\n")
    try:
        m.wait_exit(120)
    except TestFailure:
        pass  # measured already; the rig kills QEMU


# --- boot ---

def keel_boot(name, extra, cpus):
    """(wall s from QEMU's start to the banner, guest s: Keel's core start to the service VM's
    entry (its log) plus Linux's uptime at the banner)."""
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img")}
    m = Machine(name, CFG % cpus, files, smp=cpus, timeout=600, extra=extra)
    t0 = time.time()
    with m:
        up = float(m.expect(BANNER, timeout=590).group(1))
        wall = time.time() - t0
        entry = int(re.search(r"starting (\d+) ms after the core", m.text()).group(1))
        m.expect(r"/ # ", timeout=60)
        time.sleep(1)
        power_off(m)
    return wall, entry / 1000 + up


def direct_boot(name, extra, cpus):
    """(wall s from QEMU's start to the banner, Linux's uptime at the banner): the same kernel
    and initramfs booted by QEMU itself, through the same rig (same QEMU, same TCG mode)."""
    d = (kernel_path(), os.path.join(BUILD, "service-initrd.img"), "console=ttyS0")
    m = Machine(name, None, smp=cpus, mem="1G", timeout=600, extra=extra, direct=d)
    t0 = time.time()
    with m:
        up = float(m.expect(BANNER, timeout=590).group(1))
        wall = time.time() - t0
        m.expect(r"/ # ", timeout=60)
        time.sleep(1)
        power_off(m)
    return wall, up


# --- service VM I/O, and the checked timing of a command ---

IO_MIB = 64
GUEST_BANNER = r"Keel guest bench: [^\n]* up ([0-9.]+) s"
GUEST_CMDLINE = "console=ttyS0 keel.name=bench"
EXITCOST = r"exitcost: (\d+) iterations, TSC ticks: empty (\d+), cpuid (\d+), pio (\d+)"
DD_STATS = r"(\d+)\+(\d+) records in\s+(\d+)\+(\d+) records out(?:\s+(\d+) bytes)?"


def timed(m, command, nbytes, block, timeout=600):
    """Guest seconds `command` takes on the guest's own clock. Its last stage must be a dd of
    `block`-byte blocks, whose statistics must show nbytes moved in whole blocks (and say so in
    bytes where that dd counts them), and it must exit 0: a command that fails at once would
    otherwise give a huge rate."""
    out = m.shell("s=$(cut -d' ' -f1 /proc/uptime); %s 2>/tmp/timed.err; rc=$?; "
                  "e=$(cut -d' ' -f1 /proc/uptime); echo timed $s $e rc=$rc; cat /tmp/timed.err"
                  % command, timeout=timeout)
    t = re.search(r"^timed ([0-9.]+) ([0-9.]+) rc=(\d+)$", out, re.M)
    dd = re.search(DD_STATS, out)
    check(t and dd, "no timing or dd statistics from %r: %r" % (command, out), m)
    check(t.group(3) == "0", "%r failed (exit status %s): %r" % (command, t.group(3), out), m)
    full_in, part_in, full_out, part_out = (int(x) for x in dd.groups()[:4])
    moved = int(dd.group(5)) if dd.group(5) else full_out * block
    check(full_in == full_out == nbytes // block and part_in == part_out == 0 and moved == nbytes,
          "%r moved %d+%d records in, %d+%d out (%d bytes); wanted %d whole records of %d bytes"
          % (command, full_in, part_in, full_out, part_out, moved, nbytes // block, block), m)
    return float(t.group(2)) - float(t.group(1))


# QEMU's vIOMMUs for the service VM's I/O with the IOMMU on: the device comes before the NVMe
# and the e1000e (QEMU translates only the devices made after it), each with its boot line.
IOMMUS = {"VT-d": ("intel-iommu,intremap=on", r"keel: iommu: VT-d unit at .*: DMA remapping on"),
          "AMD-Vi": ("amd-iommu,intremap=on", r"keel: iommu: AMD-Vi unit at .*: DMA remapping on")}


def io_machine(name, direct, disk, tap, iommu=None):
    extra = (["-device", IOMMUS[iommu][0]] if iommu else []) + ["-drive", "if=none,id=nv,format=raw,file=" + disk, "-device", "nvme,drive=nv,serial=bench",
             "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % tap,
             "-device", "e1000e,netdev=n0,mac=52:54:00:12:34:09"]
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img")}
    d = (kernel_path(), os.path.join(BUILD, "service-initrd.img"), "console=ttyS0") if direct else None
    return Machine(name, None if direct else CFG % 2, files, smp=2, mem="1G" if direct else "2G",
                   timeout=900, extra=extra, direct=d)


def io_bench(direct, ns, disk, out, port, i, iommu=None):
    """(NVMe read MiB/s, e1000e receive MiB/s) of the service VM (its devices behind QEMU's
    vIOMMU `iommu`, which Keel turns on, if given), or of the same kernel and initramfs booted by
    QEMU directly; the peer on the TAP serves port once."""
    name = "bench_io_%s%d" % ("direct" if direct else "keel-" + iommu if iommu else "keel", i)
    m = io_machine(name, direct, disk, "kbtap0", iommu)
    m.command_prefix = ns.prefix()
    ns.start_peer("10.77.9.1", port, IO_MIB << 20, out)
    with m:
        if iommu:
            m.expect(IOMMUS[iommu][1], timeout=300)
        m.expect(r"Keel service VM: .* up", timeout=600)
        m.expect(r"/ # ", timeout=60)
        time.sleep(1)
        disk_s = timed(m, "dd if=/dev/nvme0n1 of=/dev/null bs=1M count=%d" % IO_MIB, IO_MIB << 20,
                       1 << 20)
        m.shell("ip addr add 10.77.9.2/24 dev eth0; ip link set eth0 up; sleep 3")
        net_s = timed(m, "nc 10.77.9.1 %d | dd of=/dev/null bs=64k iflag=fullblock" % port,
                      IO_MIB << 20, 64 << 10)
        power_off(m)
    return IO_MIB / disk_s, IO_MIB / net_s


# --- the KVM peer: the same guest under Linux KVM and QEMU as the L1 hypervisor ---

KVM_INITRD = os.path.join(BUILD, "kvm-initrd.img")  # tools/tools.mk: kvm-amd, vhost_net, QEMU, the guests
KVM_BANNER = r"KVM L1: [^\n]*, /dev/kvm (\w+), npt (\w+), up ([0-9.]+) s"
L1_PROMPT = r"\n/ # "


class KvmL1:
    """Linux (the service VM's kernel) as the L1 hypervisor in one outer QEMU run, where Keel
    would be: the same QEMU, TCG mode, CPU model, vCPUs and RAM as Keel's machine for the part,
    kvm-amd with nested paging, the host's own qemu-system-x86_64. Its guests run in the
    foreground of its shell with their serial port on its console, so the outer machine's
    console (self.m) is the guest's while one runs, as a QEMU-direct guest's is."""

    def __init__(self, name, smp, mem="2G", extra=None, timeout=1800):
        self.m = Machine(name, None, smp=smp, mem=mem, timeout=timeout, extra=extra,
                         direct=(kernel_path(), KVM_INITRD, "console=ttyS0"))

    def __enter__(self):
        self.m.__enter__()
        try:
            t0 = time.time()
            found = self.m.expect(KVM_BANNER, timeout=900)
            self.boot_wall, self.uptime = time.time() - t0, float(found.group(3))
            check(found.group(1) == b"yes" and found.group(2) == b"Y", "the KVM L1 has no /dev/kvm "
                  "with nested paging (kvm-amd npt=1): %r" % found.group(0).decode(), self.m)
            self.m.expect(L1_PROMPT, timeout=120, start=found.start())
            time.sleep(1)
        except BaseException:
            self.m.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc):
        return self.m.__exit__(*exc)

    def guest_command(self, kernel="/guest/vmlinuz", initrd="/guest/initrd.img", cmdline=GUEST_CMDLINE,
                      mem="256M", extra=(), serial="stdio,id=s0,signal=off"):
        """The L1's QEMU command for a guest: the rig's direct command (q35, -nodefaults, std VGA,
        isa-debug-exit, no reboot) with KVM and the L1's CPU instead of TCG. pmu=off: the guest
        sees no PMU, as under TCG, where the outer QEMU has none to give (the NMI watchdog on a
        PMU that never counts)."""
        cmd = ["qemu-system-x86_64", "-machine", "q35", "-enable-kvm", "-cpu", "host,pmu=off",
               "-smp", "1", "-m", mem, "-kernel", kernel, "-append", cmdline]
        cmd += (["-initrd", initrd] if initrd else []) + [
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-nodefaults", "-display", "none",
            "-vga", "std", "-no-reboot", "-chardev", serial, "-serial", "chardev:s0"]
        return " ".join(shlex.quote(a) for a in cmd + list(extra))

    def start_guest(self, **kw):
        """Starts a guest (guest_command's arguments) in the foreground; returns the console mark
        from which its output comes."""
        mark = self.m.mark()
        # -onlcr while it runs: the guest's serial output ends its lines in \r\n already, and the
        # L1's terminal would make that \r\r\n (QEMU's stdio keeps output processing on).
        self.m.send("stty -onlcr; %s; stty onlcr\n" % self.guest_command(**kw))
        return mark


# --- guest boot ---

def guest_files():
    return {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img"),
            "guest/vmlinuz": kernel_path(), "guest/initrd.img": os.path.join(BUILD, "guest-initrd.img")}


GUEST_CREATE = ("keelctl create bench --mem 256M --vcpus 1 --kernel /mnt/keel/guest/vmlinuz "
                "--initrd /mnt/keel/guest/initrd.img --cmdline '%s'" % GUEST_CMDLINE)


def guest_boot_keel(i):
    """(wall s from `keelctl create` to the guest's banner, the guest's uptime then)."""
    with Machine("bench_guest_keel%d" % i, CFG % 2, guest_files(), smp=2, timeout=900) as m:
        service_shell(m)
        m.shell("cat /mnt/keel/guest/vmlinuz /mnt/keel/guest/initrd.img > /dev/null")  # as QEMU's: cached
        mark = m.mark()
        t0 = time.time()
        m.send("%s && keelctl start bench && keelctl console bench\n" % GUEST_CREATE)
        up = float(m.expect(GUEST_BANNER, timeout=290, start=mark).group(1))
        wall = time.time() - t0
        m.send(b"\x1d\n")
        m.expect(r"detached from bench", timeout=30, start=mark)
        power_off(m)
    return wall, up


def guest_boot_kvm(i):
    """The same span under the KVM L1 (the L1 up already, the guest's files read once, as Keel's):
    from starting its QEMU to the banner. The L1 has 1 CPU (and 2 GiB), Keel's machine here 2: a
    guest of an L1 with 2 CPUs on single-threaded TCG stalled in its boot (its kvm-clock jumped
    200 s, then nothing for minutes); with 1 it boots in about 40 s."""
    with KvmL1("bench_guest_kvm%d" % i, smp=1) as l1:
        l1.m.shell("cat /guest/vmlinuz /guest/initrd.img > /dev/null")
        t0 = time.time()
        mark = l1.start_guest()
        up = float(l1.m.expect(GUEST_BANNER, timeout=590, start=mark).group(1))
        return time.time() - t0, up


def guest_boot_direct(i):
    d = (kernel_path(), os.path.join(BUILD, "guest-initrd.img"), GUEST_CMDLINE)
    t0 = time.time()
    with Machine("bench_guest_direct%d" % i, None, smp=1, mem="256M", timeout=300, direct=d) as m:
        up = float(m.expect(GUEST_BANNER, timeout=290).group(1))
        wall = time.time() - t0
    return wall, up


# --- exit cost ---

def exitcost(direct, i):
    """Instructions per CPUID and per port-read round trip, the empty loop subtracted."""
    elf = os.path.join(BUILD, "guests", "exitcost.elf")
    if direct:
        m = Machine("bench_exitcost_direct%d" % i, None, smp=1, mem="256M", timeout=600,
                    extra=ICOUNT, direct=(elf, None, ""))
    else:
        cfg = "debug_exit_port = 0xf4\nvm.exitcost.kernel = exitcost.elf\nvm.exitcost.testdev = on\n"
        m = Machine("bench_exitcost_keel%d" % i, cfg, {"exitcost.elf": elf}, smp=1, timeout=600,
                    extra=ICOUNT)
    with m:
        n, empty, cpuid, pio = (int(x) for x in m.expect(EXITCOST, timeout=590).groups())
    return (cpuid - empty) / n, (pio - empty) / n


def exitcost_bochs(model):
    """Instructions per CPUID and port-read round trip under Keel on Bochs (model tigerlake:
    VT-x; ryzen: AMD-V with NRIP save), the empty loop subtracted."""
    from bochs import Bochs
    elf = os.path.join(BUILD, "guests", "exitcost.elf")
    cfg = "debug_exit_port = 0xf4\nvm.exitcost.kernel = exitcost.elf\nvm.exitcost.testdev = on\n"
    with Bochs("bench_exitcost_%s" % model, cfg, {"exitcost.elf": elf}, model=model, timeout=600) as b:
        n, empty, cpuid, pio = (int(x) for x in b.expect(EXITCOST, timeout=590).groups())
    return (cpuid - empty) / n, (pio - empty) / n


def exitcost_kvm(i):
    """The same under the KVM L1 (1 CPU, as Keel's machine): exitcost.elf run by the L1's QEMU
    with KVM; the outer QEMU's icount clock is the TSC its guests read, so the figures count the
    L1's instructions too (KVM's exit handling, and QEMU's for the port read)."""
    with KvmL1("bench_exitcost_kvm%d" % i, smp=1, extra=ICOUNT) as l1:
        mark = l1.start_guest(kernel="/guest/exitcost.elf", initrd=None, cmdline="")
        n, empty, cpuid, pio = (int(x) for x in l1.m.expect(EXITCOST, timeout=900, start=mark).groups())
    return (cpuid - empty) / n, (pio - empty) / n


# --- guest virtio disk ---

VD_MIB = 32
# Random 4 KiB requests per randio run, over the whole VD_MIB disk: a few seconds each through keel-dm.
RANDIO_COUNT = int(os.environ.get("KEEL_BENCH_RANDIO_COUNT", "4096"))
RANDIO = r"randio: (read|write) (\d+) x 4 KiB in [0-9.]+ s: (\d+) IOPS"


def randio(m, op):
    """IOPS of randio's 4 KiB random reads or writes on the guest's /dev/vda (its own clock)."""
    out = m.shell("randio %s /dev/vda %d %d 2>&1; echo rc=$?" % (op, RANDIO_COUNT, VD_MIB), timeout=600)
    found = re.search(RANDIO, out)
    check(found and found.group(1) == op and int(found.group(2)) == RANDIO_COUNT and
          re.search(r"^rc=0$", out, re.M), "randio %s on the guest's /dev/vda: %r" % (op, out), m)
    return float(found.group(3))


def guest_disk(m):
    """The guest's /dev/vda on the guest's clock: sequential write (flushed) and read in MiB/s,
    then 4 KiB random write (flushed) and read in IOPS."""
    guestctl.wait_guest_shell(m, "bench", timeout=590)
    w = timed(m, "dd if=/dev/zero of=/dev/vda bs=1M count=%d conv=fsync" % VD_MIB, VD_MIB << 20, 1 << 20)
    m.shell("echo 3 > /proc/sys/vm/drop_caches")
    r = timed(m, "dd if=/dev/vda of=/dev/null bs=1M count=%d" % VD_MIB, VD_MIB << 20, 1 << 20)
    return VD_MIB / w, VD_MIB / r, randio(m, "write"), randio(m, "read")


def virtio_disk_keel(i):
    """A guest's virtio disk served by keel-dm from a zero-filled file in the service VM's tmpfs
    (1 CPU, as the virtio tests run)."""
    with Machine("bench_vd_keel%d" % i, CFG % 1, guest_files(), smp=1, timeout=1800) as m:
        service_shell(m)
        m.shell("dd if=/dev/zero of=/tmp/vd.img bs=1M count=%d 2>/dev/null" % VD_MIB)
        m.shell("%s --disk /tmp/vd.img" % GUEST_CREATE, timeout=120)
        m.send("keelctl start bench && keelctl console bench\n")
        return guest_disk(m)


def virtio_disk_kvm(i):
    """The same guest under KVM and QEMU as the L1 (1 CPU and 2 GiB, as Keel's machine), its
    virtio-blk-pci on a zero-filled file in the L1's tmpfs, QEMU's default cache."""
    with KvmL1("bench_vd_kvm%d" % i, smp=1) as l1:
        l1.m.shell("dd if=/dev/zero of=/tmp/vd.img bs=1M count=%d 2>/dev/null" % VD_MIB)
        l1.start_guest(extra=["-drive", "if=none,id=vd,format=raw,file=/tmp/vd.img",
                              "-device", "virtio-blk-pci,drive=vd"])
        return guest_disk(l1.m)


# QEMU's image: the host's tmpfs, as Keel's is the service VM's; written full, as Keel's is.
SHM = os.environ.get("KEEL_BENCH_SHM", "/dev/shm")


def virtio_disk_direct(i):
    img = os.path.join(SHM, "keel-bench-vd-%d.img" % os.getpid())
    with open(img, "wb") as f:
        f.write(bytes(VD_MIB << 20))
    d = (kernel_path(), os.path.join(BUILD, "guest-initrd.img"), GUEST_CMDLINE)
    extra = ["-drive", "if=none,id=vd,format=raw,file=" + img, "-device", "virtio-blk-pci,drive=vd"]
    try:
        with Machine("bench_vd_direct%d" % i, None, smp=1, mem="256M", timeout=900, direct=d,
                     extra=extra) as m:
            return guest_disk(m)
    finally:
        os.unlink(img)


# --- guest-to-guest network ---

NET_MIB = 64
NET_CPUS = int(os.environ.get("KEEL_BENCH_NET_CPUS", "1"))
NET_GUESTS = ("n1", "n2")  # n1 receives at 10.79.0.2, n2 sends from 10.79.0.3
NET_UP = "ip addr add 10.79.0.%d/24 dev eth0 && ip link set eth0 up"
NET_PORT = 5001
# The receiver, in the background: the first 64 KiB, then the time, the rest (dd counts whole 64 KiB
# blocks, so 'N+0 records in' says all came), the time; the result appears whole, by a rename. nc's
# input is a FIFO it holds open itself: it never ends (at the end of its input nc would close its
# sending half, and the sender would stop at that) and never reads the terminal.
NET_RX = ("mkfifo /tmp/netrx.in; (nc -l -p %d <>/tmp/netrx.in | "
          "(dd bs=64k count=1 iflag=fullblock of=/dev/null 2>/dev/null; "
          "s=$(cut -d' ' -f1 /proc/uptime); r=$(dd bs=64k iflag=fullblock of=/dev/null 2>&1); "
          "e=$(cut -d' ' -f1 /proc/uptime); echo netrx $r $s $e > /tmp/netrx.part; "
          "mv /tmp/netrx.part /tmp/netrx)) & sleep 1" % NET_PORT)
NET_TX = "dd if=/dev/zero bs=64k count=%d 2>/dev/null | nc 10.79.0.2 %d; echo rc=$?" % (NET_MIB * 16, NET_PORT)
NET_DONE = r"netrx (\d+)\+(\d+) records in \d+\+\d+ records out ([0-9.]+) ([0-9.]+)"


def net_received(sh, m):
    """MiB/s the receiver timed, once its result is there."""
    deadline = time.time() + 300
    while True:
        got = sh.run("cat /tmp/netrx 2>/dev/null")
        if "netrx" in got:
            break
        check(time.time() < deadline, "no result from the receiver in /tmp/netrx", m)
        time.sleep(2)
    found = re.search(NET_DONE, got)
    check(found, "the receiver's result is not 'netrx N+0 records in ... START END': %r" % got, m)
    blocks, partial, start, end = int(found.group(1)), int(found.group(2)), float(found.group(3)), \
        float(found.group(4))
    check(blocks == NET_MIB * 16 - 1 and partial == 0, "the receiver got %d+%d blocks of 64 KiB after "
          "the first, not %d" % (blocks, partial, NET_MIB * 16 - 1), m)
    return blocks / 16 / (end - start)


def net_transfer(m, rx, tx):
    """NET_MIB MiB from n2 to n1; rx and tx open n1's and n2's shells (a context giving .run).
    m: the machine whose serial log a failure points at."""
    with rx() as sh:
        sh.run(NET_RX)
    with tx() as sh:
        out = sh.run(NET_TX, timeout=900)
    check(re.search(r"^rc=0$", out, re.M), "the sender failed: %r" % out, m)
    with rx() as sh:
        return net_received(sh, m)


def virtio_net_keel(i):
    """Two guests on a bridge in the service VM, their NICs served by keel-dm."""
    with Machine("bench_net_keel%d" % i, CFG % NET_CPUS, guestctl.files(), smp=NET_CPUS, timeout=2400) as m:
        service_shell(m)
        m.shell("ip link add br0 type bridge && ip link set br0 up")
        for j, name in enumerate(NET_GUESTS):
            guestctl.create_linux(m, name, devices="--net br0")
            guestctl.ok(m, "start " + name)
            with guestctl.Console(m, name) as con:
                con.wait_shell(timeout=500)
                con.run(NET_UP % (j + 2))
        return net_transfer(m, lambda: guestctl.Console(m, "n1"), lambda: guestctl.Console(m, "n2"))


class L1Guest:
    """A guest the KVM L1 runs in the background, its serial port on a FIFO (typed into) and a
    file (read back) in the L1's /tmp, driven from the L1's shell; .run() as Machine.shell."""

    def __init__(self, l1, name, **guest):
        self.l1, self.name, self.m = l1, name, l1.m
        self.seen = 0  # the bytes of its output already matched
        p = "/tmp/%s" % name
        # QEMU's pipe chardev opens NAME.in for reading and NAME.out for writing; fd 3 of the
        # L1's shell holds the FIFO open, so neither QEMU's open nor a write to it blocks.
        self.m.shell("mkfifo %s.in && : > %s.out && exec 3<>%s.in" % (p, p, p))
        self.m.shell("%s </dev/null >%s.qemu 2>&1 & sleep 1" % (
            l1.guest_command(serial="pipe,id=s0,path=" + p, **guest), p))

    def output(self):
        """(the output file's size, its text from the first byte not yet matched)."""
        size, _, text = self.m.shell("wc -c < /tmp/{0}.out; tail -c +{1} /tmp/{0}.out".format(
            self.name, self.seen + 1), timeout=60).partition("\n")
        return int(size), text

    def type(self, text):
        """Sends text to the guest's console (base64 through the L1's shell: no quoting)."""
        self.m.shell("echo %s | base64 -d > /tmp/%s.in" % (base64.b64encode(text.encode()).decode(),
                                                          self.name))

    def expect(self, pattern, timeout):
        """Waits for pattern in the output not matched yet; what was read then counts as matched."""
        deadline = time.time() + timeout
        while True:
            size, text = self.output()
            found = re.compile(pattern, re.S).search(text)
            if found:
                self.seen = max(self.seen, size)
                return found
            check(time.time() < deadline, "no %r from the L1's guest %s (its QEMU's messages are in the "
                  "L1's /tmp/%s.qemu): %r" % (pattern, self.name, self.name, text[-2000:]), self.m)
            time.sleep(2)

    def wait_shell(self, timeout=600):
        self.expect(r"Keel guest %s: " % self.name, timeout)
        time.sleep(1)
        self.type("\n")
        self.expect(r"\[%s\] / # " % self.name, 60)

    def run(self, command, timeout=60):
        mark = "_%d_" % int(time.time() * 1000)
        self.type('echo "=%s""BEGIN="; %s; echo "=%s""DONE="\n' % (mark, command, mark))
        return self.expect("=%sBEGIN=\n(.*?)=%sDONE=" % (mark, mark), timeout).group(1).strip()


def virtio_net_kvm(i):
    """The same two guests under the KVM L1 (KEEL_BENCH_NET_CPUS CPUs, 2 GiB, as Keel's machine):
    their virtio-net-pci NICs on TAPs on a bridge in the L1, vhost_net on; n1 in the background
    (L1Guest), n2 in the foreground on the L1's console."""
    with KvmL1("bench_net_kvm%d" % i, smp=NET_CPUS, timeout=2400) as l1:
        m = l1.m
        out = m.shell("ip link add br0 type bridge && ip link set br0 up && tunctl -t tap1 >/dev/null && "
                      "tunctl -t tap2 >/dev/null && ip link set tap1 master br0 && ip link set tap2 master "
                      "br0 && ip link set tap1 up && ip link set tap2 up && ls /dev/vhost-net /dev/net/tun && "
                      "echo bridge up")
        check(out.endswith("bridge up"), "no bridge with two TAPs and vhost-net in the KVM L1: %r" % out, m)

        def nic(j):
            return ["-netdev", "tap,id=n0,ifname=tap%d,script=no,downscript=no,vhost=on" % (j + 1),
                    "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:35:%02x" % (j + 2)]

        def cmdline(j):
            return "console=ttyS0 keel.name=" + NET_GUESTS[j]

        rx = L1Guest(l1, NET_GUESTS[0], cmdline=cmdline(0), extra=nic(0))
        rx.wait_shell()
        rx.run(NET_UP % 2)
        rx.run(NET_RX)
        mark = l1.start_guest(cmdline=cmdline(1), extra=nic(1))
        m.expect(r"Keel guest %s: " % NET_GUESTS[1], timeout=600, start=mark)
        guestctl.wait_guest_shell(m, NET_GUESTS[1], timeout=60)
        m.shell(NET_UP % 3)
        out = m.shell(NET_TX, timeout=900)
        check(re.search(r"^rc=0$", out, re.M), "the sender failed: %r" % out, m)
        mark = m.mark()
        m.send("poweroff -f\n")
        m.expect(L1_PROMPT, timeout=120, start=mark)
        time.sleep(1)
        return net_received(rx, m)


def net_direct_machine(i, j, mode, port):
    """Guest NET_GUESTS[j] run by QEMU itself, its virtio-net-pci on a socket netdev (listen/connect)."""
    name = NET_GUESTS[j]
    d = (kernel_path(), os.path.join(BUILD, "guest-initrd.img"), "console=ttyS0 keel.name=" + name)
    nic = ["-netdev", "socket,id=n0,%s=127.0.0.1:%d" % (mode, port),
           "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:35:%02x" % (j + 2)]
    return Machine("bench_net_direct%d_%s" % (i, name), None, smp=1, mem="256M", timeout=1500,
                   direct=d, extra=nic)


def virtio_net_direct(i):
    """The same two guests in two QEMU processes; the listening one starts first, so the other's
    connect finds it."""
    port = free_port()  # for the socket netdev

    def shell(m):
        return lambda: contextlib.nullcontext(types.SimpleNamespace(run=m.shell))

    with net_direct_machine(i, 0, "listen", port) as rx:
        guestctl.wait_guest_shell(rx, NET_GUESTS[0], timeout=290)
        with net_direct_machine(i, 1, "connect", port) as tx:
            guestctl.wait_guest_shell(tx, NET_GUESTS[1], timeout=290)
            for j, m in enumerate((rx, tx)):
                m.shell(NET_UP % (j + 2))
            return net_transfer(rx, shell(rx), shell(tx))


# --- guest screen over VNC ---

DISPLAY_SECONDS = int(os.environ.get("KEEL_BENCH_DISPLAY_SECONDS", "20"))
# fbcon lets go of the framebuffer, then two random screens go to it in turn, for ever.
DISPLAY_DRAW = ("for v in /sys/class/vtconsole/vtcon*; do grep -q 'frame buffer' $v/name && echo 0 > $v/bind; "
                "done; head -c 3145728 /dev/urandom > /tmp/fa; head -c 3145728 /dev/urandom > /tmp/fb; "
                "(while true; do cat /tmp/fa > /dev/fb0; cat /tmp/fb > /dev/fb0; done > /dev/null 2>&1 &)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vnc_rate(m, port):
    """Screens per second an RFB client receives while the guest draws. It connects and takes a
    first screen before the guest starts drawing: under Keel, a connection opened while the guest
    already draws took about 24 s a screen, against 1-2 s for one opened before (its TCP through
    the nested service VM's e1000e never gets going while the one CPU is this busy)."""
    rfb = RFBClient("127.0.0.1", port, timeout=120)
    try:
        rfb.frame()
        m.shell("dmesg -n 1; " + DISPLAY_DRAW, timeout=120)
        rfb.frame(incremental=True)
        start, t0 = rfb.received, time.time()
        while time.time() - t0 < DISPLAY_SECONDS:
            rfb.frame(incremental=True)
        return (rfb.received - start) / (rfb.width * rfb.height) / (time.time() - t0)
    finally:
        rfb.close()


def display_keel(i):
    extra = ["-netdev", "user,id=n0", "-device", "e1000e,netdev=n0,mac=52:54:00:12:34:51"]
    with Machine("bench_display_keel%d" % i, CFG % 1, guest_files(), smp=1, timeout=1200, extra=extra) as m:
        service_shell(m)
        m.shell("dmesg -n 1; ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up")
        m.shell("%s --gpu" % GUEST_CREATE, timeout=120)
        port = re.search(r"VNC port (\d+)", m.shell("keelctl info bench"))
        check(port, "no VNC port for the bench guest", m)
        host = free_port()
        m.qmp("human-monitor-command", **{"command-line": "hostfwd_add tcp:127.0.0.1:%d-10.0.2.15:%s"
                                          % (host, port.group(1))})
        m.send("keelctl start bench && keelctl console bench\n")
        guestctl.wait_guest_shell(m, "bench", timeout=590)
        return vnc_rate(m, host)


def display_direct(i):
    d = (kernel_path(), os.path.join(BUILD, "guest-initrd.img"), GUEST_CMDLINE)
    port = free_port()
    extra = ["-vga", "none", "-device", "virtio-gpu-pci", "-vnc", "127.0.0.1:%d" % (port - 5900)]
    with Machine("bench_display_direct%d" % i, None, smp=1, mem="256M", timeout=900, direct=d,
                 extra=extra) as m:
        guestctl.wait_guest_shell(m, "bench", timeout=590)
        return vnc_rate(m, port)


# --- the parts ---

def part_boot(out):
    k_icount, d_icount = alternate(lambda i: keel_boot("bench_keel_icount%d" % i, ICOUNT, 1)[1],
                                   lambda i: direct_boot("bench_direct_icount%d" % i, ICOUNT, 1)[1])
    k_wall, d_wall = alternate(lambda i: keel_boot("bench_keel_wall%d" % i, [], 2)[0],
                               lambda i: direct_boot("bench_direct_wall%d" % i, [], 2)[0])
    return [
        "boot to the service VM's shell (QEMU TCG, EPYC+SVM, 1 GiB; %s)" % runs_note(),
        compare("guest time (-icount shift=0,sleep=off, 1 CPU; Keel: its core start to the service "
                "VM's entry, plus Linux's uptime at its shell)", "s", k_icount, d_icount, LOWER, "%.3f"),
        compare("wall time (2 CPUs; QEMU's start to the shell: Keel's includes OVMF, the direct boot "
                "has no firmware step)", "s", k_wall, d_wall, LOWER),
    ]


def part_service_io(out):
    disk = os.path.join(out, "nvme.img")
    with open(disk, "wb") as f:
        f.write(os.urandom(IO_MIB << 20))
    with NetNS("keelbench%d" % os.getpid(), [("kbtap0", "10.77.9.1/24")]) as ns:
        k, d, vtd, amdvi = interleave((
            lambda i: io_bench(False, ns, disk, out, 6000 + 40 * i, i),
            lambda i: io_bench(True, ns, disk, out, 6010 + 40 * i, i),
            lambda i: io_bench(False, ns, disk, out, 6020 + 40 * i, i, "VT-d"),
            lambda i: io_bench(False, ns, disk, out, 6030 + 40 * i, i, "AMD-Vi")))
    lines = [
        "service VM I/O (64 MiB, guest clock; NVMe read with dd, e1000e receive with nc from a peer "
        "on a TAP; %s):" % runs_note(sides=4),
        compare("disk read", "MiB/s", [x[0] for x in k], [x[0] for x in d], HIGHER),
        compare("NIC receive", "MiB/s", [x[1] for x in k], [x[1] for x in d], HIGHER),
        "the cost of the IOMMU: the same with the service VM's devices behind QEMU's vIOMMU, which "
        "Keel turns on (DMA and interrupt remapping), against Keel without one in the same run:",
    ]
    for what, runs in (("VT-d", vtd), ("AMD-Vi", amdvi)):
        for j, figure in enumerate(("disk read", "NIC receive")):
            on, off = [x[j] for x in runs], [x[j] for x in k]
            lines.append("  %s, %s: with %s %s MiB/s, without %s MiB/s, ratio %.3f; %s" % (
                figure, what, what, spread(on, "%.1f"), spread(off, "%.1f"),
                statistics.median(on) / statistics.median(off), HIGHER))
    return lines


def part_exit(out):
    k, p, d = interleave((lambda i: exitcost(False, i), exitcost_kvm, lambda i: exitcost(True, i)))
    lines = ["guest exit round trip (tests/guests/exitcost.elf, 1 CPU, -icount shift=0,sleep=off; "
             "instructions; Keel, KVM L1 (KVM and QEMU in the outer QEMU's guest, where Keel runs) and "
             "QEMU direct; %s):" % runs_note(sides=3)]
    for j, what in enumerate(("CPUID", "port read (COM1 scratch)")):
        base = statistics.median(y[j] for y in d)
        keel, kvm = [x[j] - base for x in k], [x[j] - base for x in p]
        lines.append("  %s: exit path (a round trip less QEMU direct's %s for the instruction itself): "
                     "Keel %s, KVM L1 %s instructions; Keel/KVM %.3f; %s (no ratio to QEMU direct: it "
                     "would divide by about one instruction)" % (
                         what, spread([y[j] for y in d], "%.0f"), spread(keel, "%.0f"), spread(kvm, "%.0f"),
                         statistics.median(keel) / statistics.median(kvm), LOWER))
    for model, what in (("tigerlake", "VT-x"), ("ryzen", "AMD-V with NRIP save")):
        c, p = exitcost_bochs(model)
        lines.append("  Keel under Bochs (%s, %s; 1 run, the loop and the instruction counted in): CPUID "
                     "%.0f, port read %.0f instructions; %s" % (model, what, c, p, LOWER))
    return lines


def part_guest_boot(out):
    k, p, d = interleave((guest_boot_keel, guest_boot_kvm, guest_boot_direct))
    col = lambda rs, j: [r[j] for r in rs]  # noqa: E731
    return [
        "guest boot to its shell (Linux, 256 MiB, 1 vCPU; from asking for the guest, its kernel and "
        "initramfs not loaded yet, to its banner: Keel, keelctl create and start in the running service "
        "VM (2 CPUs); KVM L1, its QEMU's start with -kernel and -initrd in the running L1 (1 CPU: with 2 "
        "its guest stalls); QEMU direct, its start with -kernel and -initrd; %s)" % runs_note(sides=3),
        compare_peer("wall time", "s", col(k, 0), col(p, 0), col(d, 0), LOWER),
        compare_peer("the guest's own uptime at its banner", "s", col(k, 1), col(p, 1), col(d, 1),
                     LOWER, "%.2f"),
    ]


def part_uefi_boot(out):
    u = bench_uefi.UefiBench(out, CFG % 2, guest_files())
    k, d = alternate(u.keel, u.direct)
    col = lambda rs, j: [r[j] for r in rs]  # noqa: E731
    return [
        "UEFI guest boot to its shell (OVMF_CODE_4M.fd, GRUB from a GPT disk image's ESP, timeout 0, "
        "Linux with the guest initramfs; 512 MiB, 1 vCPU; Keel, keelctl start in the running service "
        "VM (2 CPUs), the disk served by keel-dm; QEMU direct, its start with the same firmware and "
        "image on virtio-blk-pci; %s)" % runs_note(),
        compare("wall time", "s", col(k, 0), col(d, 0), LOWER),
        compare("the guest's own uptime at its banner", "s", col(k, 1), col(d, 1), LOWER, "%.2f"),
    ]


def part_virtio_disk(out):
    k, p, d = interleave((virtio_disk_keel, virtio_disk_kvm, virtio_disk_direct))
    col = lambda rs, j: [r[j] for r in rs]  # noqa: E731
    return [
        "guest virtio disk (a %d MiB disk, guest clock, 1 CPU; all three images zero-filled files on tmpfs: "
        "Keel's in the service VM, served by keel-dm; KVM L1's in the L1's tmpfs, its QEMU's "
        "virtio-blk-pci; QEMU direct's in the host's %s, its virtio-blk-pci; both QEMUs with the "
        "default cache; %s)" % (VD_MIB, SHM, runs_note(sides=3)),
        compare_peer("write (dd, fsync)", "MiB/s", col(k, 0), col(p, 0), col(d, 0), HIGHER, "%.2f"),
        compare_peer("read (dd, cold cache)", "MiB/s", col(k, 1), col(p, 1), col(d, 1), HIGHER, "%.2f"),
        compare_peer("4 KiB random write (randio: %d at random 4 KiB-aligned offsets, O_DIRECT, queue "
                     "depth 1, fdatasync at the end)" % RANDIO_COUNT, "IOPS", col(k, 2), col(p, 2),
                     col(d, 2), HIGHER, "%.0f"),
        compare_peer("4 KiB random read (randio: %d, O_DIRECT, queue depth 1)" % RANDIO_COUNT, "IOPS",
                     col(k, 3), col(p, 3), col(d, 3), HIGHER, "%.0f"),
    ]


def part_virtio_net(out):
    k, p, d = interleave((virtio_net_keel, virtio_net_kvm, virtio_net_direct))
    return [
        "guest-to-guest network (%d MiB with nc over TCP on virtio-net, Linux guests of 256 MiB and 1 vCPU; "
        "receiver's guest clock after its first 64 KiB; %s)" % (NET_MIB, runs_note(sides=3)),
        "  Keel: both guests on a bridge in the service VM, one QEMU with %d CPU(s); KVM L1: both guests' "
        "TAPs on a bridge in the L1, vhost_net on, one QEMU with %d CPU(s); QEMU direct: two QEMU "
        "processes of 1 CPU each, joined by a socket netdev" % (NET_CPUS, NET_CPUS),
        compare_peer("throughput", "MiB/s", k, p, d, HIGHER),
    ]


def part_display(out):
    k, d = alternate(display_keel, display_direct)
    return [
        "guest screen over VNC (Linux, 1 CPU, 1024x768, the guest writing whole random screens to /dev/fb0; "
        "an RFB client asking for incremental Raw updates for %d s; %s)" % (DISPLAY_SECONDS, runs_note()),
        compare("screens per second received", "screens/s", k, d, HIGHER, "%.2f"),
    ]


def part_exits(out):
    return bench_exits.part(sys.modules[__name__], out)


# In report order.
PARTS = {"boot": part_boot, "service-io": part_service_io, "exit": part_exit, "guest-boot": part_guest_boot,
         "uefi-boot": part_uefi_boot,
         "virtio-disk": part_virtio_disk, "virtio-net": part_virtio_net, "exits": part_exits,
         "display": part_display}


def main(argv):
    if set(argv) & {"-h", "--help"}:
        print(__doc__)
        return
    names = list(dict.fromkeys(argv)) or list(PARTS)
    unknown = [n for n in names if n not in PARTS]
    if unknown:
        sys.exit("bench.py: no part %s; usage: scripts/bench.py [PART ...], PART one of: %s"
                 % (", ".join(unknown), " ".join(PARTS)))
    out = os.path.join(BUILD, "bench")
    os.makedirs(out, exist_ok=True)
    lines = {}
    # service-io first: it needs root for its network namespace, and says so before the long parts.
    for name in sorted(names, key=lambda n: n != "service-io"):
        lines[name] = PARTS[name](out)
        print("\n".join(lines[name]), flush=True)
    done = [n for n in PARTS if n in lines]
    path = os.path.join(BUILD, "bench.txt" if len(done) == len(PARTS) else "bench-%s.txt" % "-".join(done))
    with open(path, "w") as f:
        f.write("\n".join(line for n in done for line in lines[n]) + "\n")
    print("figures in %s" % os.path.relpath(path, ROOT))


if __name__ == "__main__":
    main(sys.argv[1:])
