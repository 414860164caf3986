#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make bench`: Keel's costs next to a baseline measured in the same run.

usage: scripts/bench.py [PART ...]   (no PART: all of them, into build/bench.txt; some: those,
       into build/bench-PART[-PART...].txt)
PARTs: boot, service-io, exit, guest-boot, virtio-disk, virtio-net, display, each described below.

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

Guest boot: `keelctl start` in the service VM -> the guest's shell banner on
`keelctl console` (wall time, 2 CPUs), next to QEMU booting the same kernel,
guest initramfs, RAM and vCPUs directly. Both also give the guest's own uptime
at its banner.

Guest virtio disk: a Linux guest's own virtio-blk driver writing (dd, fsync)
and reading (cold cache) its disk sequentially, then tools/randio/randio.c's
4 KiB random writes (fdatasync at the end) and reads with O_DIRECT, one
request at a time, in the same guest session: served by keel-dm from a file in
the service VM, next to QEMU's virtio-blk-pci on a file, same guest kernel and
initramfs, 1 CPU, the guest's clock (KEEL_BENCH_RANDIO_COUNT requests each).

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
directly, 1 CPU, -icount shift=0,sleep=off: the TSC counts instructions, so a
figure is the instructions one round trip costs (guest, Keel and QEMU's
emulation of the exit and VMRUN, which count as one instruction each).
"""
import contextlib
import hashlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "tests"))
# Both sides on QEMU TCG, as described above, wherever the host's KVM could nest: the baselines
# below start QEMU with TCG themselves, and -icount works only under TCG (scripts/accel.py).
os.environ.setdefault("KEEL_ACCEL", "tcg")
import guestctl  # noqa: E402
from netns import NetNS  # noqa: E402
from rfbclient import RFBClient  # noqa: E402
from rig import Machine, check, kernel_path  # noqa: E402

WALL_RUNS = int(os.environ.get("KEEL_BENCH_RUNS", "3"))
BANNER = r"Keel service VM: [^\n]* up ([0-9.]+) s"
ICOUNT = ["-icount", "shift=0,sleep=off"]
CFG = ("service.kernel = vmlinuz\nservice.initrd = initrd.img\nservice.cmdline = console=ttyS0\n"
       "service.memory = 1G\nservice.vcpus = %d\n")


def keel_boot(name, extra, cpus=2):
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img")}
    m = Machine(name, CFG % cpus, files, smp=cpus, timeout=600, extra=extra)
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


def direct_boot(name, extra, cpus=2):
    d = os.path.join(BUILD, "bench", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "EPYC,+svm,+npt",
           "-smp", str(cpus), "-m", "1G", "-nodefaults", "-display", "none", "-no-reboot",
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


IO_MIB = 64
GUEST_BANNER = r"Keel guest bench: [^\n]* up ([0-9.]+) s"
GUEST_CMDLINE = "console=ttyS0 keel.name=bench"
GUEST_RUNS = int(os.environ.get("KEEL_BENCH_GUEST_RUNS", "3"))
EXITCOST = r"exitcost: (\d+) iterations, TSC ticks: empty (\d+), cpuid (\d+), pio (\d+)"


def service_shell(m):
    """Waits for the service VM's shell on a Keel machine."""
    m.expect(BANNER, timeout=590)
    m.expect(r"/ # ", timeout=60)
    time.sleep(2)


def guest_boot_keel():
    """[(wall s from keelctl start to the guest's banner, the guest's uptime then)]"""
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img"),
             "guest/vmlinuz": kernel_path(), "guest/initrd.img": os.path.join(BUILD, "guest-initrd.img")}
    runs = []
    with Machine("bench_guest_keel", CFG % 2, files, smp=2, timeout=600 + 300 * GUEST_RUNS) as m:
        service_shell(m)
        for _ in range(GUEST_RUNS):
            m.shell("keelctl create bench --mem 256M --vcpus 1 --kernel /mnt/keel/guest/vmlinuz "
                    "--initrd /mnt/keel/guest/initrd.img --cmdline '%s'" % GUEST_CMDLINE, timeout=120)
            mark = m.mark()
            t0 = time.time()
            m.send("keelctl start bench && keelctl console bench\n")
            up = float(m.expect(GUEST_BANNER, timeout=290, start=mark).group(1))
            runs.append((time.time() - t0, up))
            m.send(b"\x1d\n")
            m.expect(r"detached from bench", timeout=30, start=mark)
            time.sleep(1)
            m.shell("keelctl destroy bench", timeout=120)
        m.send("poweroff -f\n")
        try:
            m.wait_exit(120)
        except Exception:
            pass
    return runs


def guest_boot_direct(i):
    d = (kernel_path(), os.path.join(BUILD, "guest-initrd.img"), GUEST_CMDLINE)
    t0 = time.time()
    with Machine("bench_guest_direct%d" % i, None, smp=1, mem="256M", timeout=300, direct=d) as m:
        up = float(m.expect(GUEST_BANNER, timeout=290).group(1))
        wall = time.time() - t0
    return wall, up


def exitcost(direct):
    """Instructions per CPUID and per port-read round trip, the empty loop subtracted."""
    elf = os.path.join(BUILD, "guests", "exitcost.elf")
    if direct:
        m = Machine("bench_exitcost_direct", None, smp=1, mem="256M", timeout=600, extra=ICOUNT,
                    direct=(elf, None, ""))
    else:
        cfg = "debug_exit_port = 0xf4\nvm.exitcost.kernel = exitcost.elf\nvm.exitcost.testdev = on\n"
        m = Machine("bench_exitcost_keel", cfg, {"exitcost.elf": elf}, smp=1, timeout=600, extra=ICOUNT)
    with m:
        n, empty, cpuid, pio = (int(x) for x in m.expect(EXITCOST, timeout=590).groups())
    return (cpuid - empty) / n, (pio - empty) / n


def io_machine(name, direct, disk, tap):
    extra = ["-drive", "if=none,id=nv,format=raw,file=" + disk, "-device", "nvme,drive=nv,serial=bench",
             "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % tap,
             "-device", "e1000e,netdev=n0,mac=52:54:00:12:34:09"]
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img")}
    d = (kernel_path(), os.path.join(BUILD, "service-initrd.img"), "console=ttyS0") if direct else None
    return Machine(name, None if direct else CFG % 2, files, smp=2, mem="1G" if direct else "2G",
                   timeout=900, extra=extra, direct=d)


def timed(m, command):
    """Guest seconds a command takes (the guest's own clock)."""
    out = m.shell("s=$(cut -d' ' -f1 /proc/uptime); %s >/dev/null 2>&1; "
                  "e=$(cut -d' ' -f1 /proc/uptime); echo $s $e" % command, timeout=600)
    s, e = out.split()[-2:]
    return float(e) - float(s)


def io_bench(direct, ns, disk, out, port):
    name = "bench_io_%s" % ("direct" if direct else "keel")
    m = io_machine(name, direct, disk, "kbtap0")
    m.command_prefix = ns.prefix()
    ns.start_peer("10.77.9.1", port, IO_MIB << 20, out)
    with m:
        m.expect(r"Keel service VM: .* up", timeout=600)
        m.expect(r"/ # ", timeout=60)
        time.sleep(1)
        disk_s = timed(m, "dd if=/dev/nvme0n1 of=/dev/null bs=1M count=%d" % IO_MIB)
        m.shell("ip addr add 10.77.9.2/24 dev eth0; ip link set eth0 up; sleep 3")
        net_s = timed(m, "nc 10.77.9.1 %d" % port)
        m.send("poweroff -f\n")
        try:
            m.wait_exit(120)
        except Exception:
            pass
    return IO_MIB / disk_s, IO_MIB / net_s


VD_MIB = 32
# Random 4 KiB requests per randio run, over the whole VD_MIB disk: a few seconds each through keel-dm.
RANDIO_COUNT = int(os.environ.get("KEEL_BENCH_RANDIO_COUNT", "4096"))
RANDIO = r"randio: (?:read|write) \d+ x 4 KiB in [0-9.]+ s: (\d+) IOPS"


def randio(m, op):
    """IOPS of randio's 4 KiB random reads or writes on the guest's /dev/vda (its own clock)."""
    out = m.shell("randio %s /dev/vda %d %d 2>&1" % (op, RANDIO_COUNT, VD_MIB), timeout=600)
    found = re.search(RANDIO, out)
    check(found, "randio %s on the guest's /dev/vda: %r" % (op, out), m)
    return float(found.group(1))


def guest_disk(m):
    """The guest's /dev/vda on the guest's clock: sequential write (flushed) and read in MiB/s,
    then 4 KiB random write (flushed) and read in IOPS."""
    guestctl.wait_guest_shell(m, "bench", timeout=590)
    w = timed(m, "dd if=/dev/zero of=/dev/vda bs=1M count=%d conv=fsync" % VD_MIB)
    m.shell("echo 3 > /proc/sys/vm/drop_caches")
    r = timed(m, "dd if=/dev/vda of=/dev/null bs=1M count=%d" % VD_MIB)
    return VD_MIB / w, VD_MIB / r, randio(m, "write"), randio(m, "read")


def virtio_disk_keel():
    """A guest's virtio disk served by keel-dm (1 CPU, as the virtio tests run)."""
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img"),
             "guest/vmlinuz": kernel_path(), "guest/initrd.img": os.path.join(BUILD, "guest-initrd.img")}
    with Machine("bench_vd_keel", CFG % 1, files, smp=1, timeout=1800) as m:
        service_shell(m)
        m.shell("dd if=/dev/zero of=/tmp/vd.img bs=1M count=%d 2>/dev/null" % VD_MIB)
        m.shell("keelctl create bench --mem 256M --vcpus 1 --kernel /mnt/keel/guest/vmlinuz "
                "--initrd /mnt/keel/guest/initrd.img --cmdline '%s' --disk /tmp/vd.img"
                % GUEST_CMDLINE, timeout=120)
        m.send("keelctl start bench && keelctl console bench\n")
        return guest_disk(m)


def virtio_disk_direct(out):
    img = os.path.join(out, "vd.img")
    with open(img, "wb") as f:
        f.truncate(VD_MIB << 20)
    d = (kernel_path(), os.path.join(BUILD, "guest-initrd.img"), GUEST_CMDLINE)
    extra = ["-drive", "if=none,id=vd,format=raw,file=" + img, "-device", "virtio-blk-pci,drive=vd"]
    with Machine("bench_vd_direct", None, smp=1, mem="256M", timeout=900, direct=d, extra=extra) as m:
        return guest_disk(m)


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


def virtio_net_keel():
    """Two guests on a bridge in the service VM, their NICs served by keel-dm."""
    with Machine("bench_net_keel", CFG % NET_CPUS, guestctl.files(), smp=NET_CPUS, timeout=2400) as m:
        service_shell(m)
        m.shell("ip link add br0 type bridge && ip link set br0 up")
        for i, name in enumerate(NET_GUESTS):
            guestctl.create_linux(m, name, devices="--net br0")
            guestctl.ok(m, "start " + name)
            with guestctl.Console(m, name) as con:
                con.wait_shell(timeout=500)
                con.run(NET_UP % (i + 2))
        return net_transfer(m, lambda: guestctl.Console(m, "n1"), lambda: guestctl.Console(m, "n2"))


def net_direct_machine(i, mode, port):
    """Guest NET_GUESTS[i] run by QEMU itself, its virtio-net-pci on a socket netdev (listen/connect)."""
    name = NET_GUESTS[i]
    d = (kernel_path(), os.path.join(BUILD, "guest-initrd.img"), "console=ttyS0 keel.name=" + name)
    nic = ["-netdev", "socket,id=n0,%s=127.0.0.1:%d" % (mode, port),
           "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:35:%02x" % (i + 2)]
    return Machine("bench_net_direct_" + name, None, smp=1, mem="256M", timeout=1500, direct=d, extra=nic)


def virtio_net_direct():
    """The same two guests in two QEMU processes; the listening one starts first, so the other's
    connect finds it."""
    with socket.socket() as s:  # a free port for the socket netdev
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def shell(m):
        return lambda: contextlib.nullcontext(types.SimpleNamespace(run=m.shell))

    with net_direct_machine(0, "listen", port) as rx:
        guestctl.wait_guest_shell(rx, NET_GUESTS[0], timeout=290)
        with net_direct_machine(1, "connect", port) as tx:
            guestctl.wait_guest_shell(tx, NET_GUESTS[1], timeout=290)
            for i, m in enumerate((rx, tx)):
                m.shell(NET_UP % (i + 2))
            return net_transfer(rx, shell(rx), shell(tx))


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


def display_keel():
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img"),
             "guest/vmlinuz": kernel_path(), "guest/initrd.img": os.path.join(BUILD, "guest-initrd.img")}
    extra = ["-netdev", "user,id=n0", "-device", "e1000e,netdev=n0,mac=52:54:00:12:34:51"]
    with Machine("bench_display_keel", CFG % 1, files, smp=1, timeout=1200, extra=extra) as m:
        service_shell(m)
        m.shell("dmesg -n 1; ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up")
        m.shell("keelctl create bench --mem 256M --vcpus 1 --kernel /mnt/keel/guest/vmlinuz "
                "--initrd /mnt/keel/guest/initrd.img --cmdline '%s' --gpu" % GUEST_CMDLINE, timeout=120)
        port = re.search(r"VNC port (\d+)", m.shell("keelctl info bench"))
        check(port, "no VNC port for the bench guest", m)
        host = free_port()
        m.qmp("human-monitor-command", **{"command-line": "hostfwd_add tcp:127.0.0.1:%d-10.0.2.15:%s"
                                          % (host, port.group(1))})
        m.send("keelctl start bench && keelctl console bench\n")
        guestctl.wait_guest_shell(m, "bench", timeout=590)
        return vnc_rate(m, host)


def display_direct():
    d = (kernel_path(), os.path.join(BUILD, "guest-initrd.img"), GUEST_CMDLINE)
    port = free_port()
    extra = ["-vga", "none", "-device", "virtio-gpu-pci", "-vnc", "127.0.0.1:%d" % (port - 5900)]
    with Machine("bench_display_direct", None, smp=1, mem="256M", timeout=900, direct=d, extra=extra) as m:
        guestctl.wait_guest_shell(m, "bench", timeout=590)
        return vnc_rate(m, port)


def part_boot(out):
    k_icount = keel_boot("bench_keel_icount", ICOUNT, cpus=1)[1]
    d_icount = direct_boot("bench_direct_icount", ICOUNT, cpus=1)[1]
    k_wall = [keel_boot("bench_keel_wall%d" % i, [])[0] for i in range(WALL_RUNS)]
    d_wall = [direct_boot("bench_direct_wall%d" % i, [])[0] for i in range(WALL_RUNS)]
    km, dm = statistics.median(k_wall), statistics.median(d_wall)
    return [
        "boot to the service VM's shell (QEMU TCG, EPYC+SVM, 1 GiB)",
        "  guest time (-icount shift=0,sleep=off, 1 CPU): Keel %.3f s, QEMU direct %.3f s, ratio %.2f"
        % (k_icount, d_icount, k_icount / d_icount),
        "  wall time (2 CPUs), median of %d: Keel %.1f s, QEMU direct %.1f s, ratio %.2f  (runs: %s / %s)"
        % (WALL_RUNS, km, dm, km / dm, ", ".join("%.1f" % x for x in k_wall),
           ", ".join("%.1f" % x for x in d_wall)),
    ]


def part_service_io(out):
    disk = os.path.join(out, "nvme.img")
    with open(disk, "wb") as f:
        f.write(os.urandom(IO_MIB << 20))
    with NetNS("keelbench%d" % os.getpid(), [("kbtap0", "10.77.9.1/24")]) as ns:
        k_disk, k_net = io_bench(False, ns, disk, out, 6000)
        d_disk, d_net = io_bench(True, ns, disk, out, 6010)
    return [
        "service VM I/O (64 MiB, guest clock; NVMe read with dd, e1000e receive with nc from a peer on a TAP):",
        "  disk read: Keel %.1f MiB/s, QEMU direct %.1f MiB/s, ratio %.2f" % (k_disk, d_disk, k_disk / d_disk),
        "  NIC receive: Keel %.1f MiB/s, QEMU direct %.1f MiB/s, ratio %.2f" % (k_net, d_net, k_net / d_net),
    ]


def part_exit(out):
    k_cpuid, k_pio = exitcost(False)
    d_cpuid, d_pio = exitcost(True)
    return [
        "guest exit round trip (tests/guests/exitcost.elf, 1 CPU, -icount shift=0,sleep=off: instructions):",
        "  CPUID: Keel %.0f, QEMU direct %.0f, ratio %.0f" % (k_cpuid, d_cpuid, k_cpuid / max(d_cpuid, 1)),
        "  port read (COM1 scratch): Keel %.0f, QEMU direct %.0f, ratio %.0f"
        % (k_pio, d_pio, k_pio / max(d_pio, 1)),
    ]


def part_guest_boot(out):
    k_guest = guest_boot_keel()
    d_guest = [guest_boot_direct(i) for i in range(GUEST_RUNS)]
    kw, dw = statistics.median(r[0] for r in k_guest), statistics.median(r[0] for r in d_guest)
    ku, du = statistics.median(r[1] for r in k_guest), statistics.median(r[1] for r in d_guest)
    return [
        "guest boot to its shell (Linux, 256 MiB, 1 vCPU; Keel: keelctl start -> banner on keelctl console)",
        "  wall time, median of %d: Keel %.1f s, QEMU direct %.1f s, ratio %.2f  (runs: %s / %s)"
        % (GUEST_RUNS, kw, dw, kw / dw, ", ".join("%.1f" % r[0] for r in k_guest),
           ", ".join("%.1f" % r[0] for r in d_guest)),
        "  guest uptime at the banner, median: Keel %.2f s, QEMU direct %.2f s, ratio %.2f" % (ku, du, ku / du),
    ]


def part_virtio_disk(out):
    (k_w, k_r, k_rw, k_rr), (d_w, d_r, d_rw, d_rr) = virtio_disk_keel(), virtio_disk_direct(out)
    return [
        "guest virtio disk (a %d MiB disk, guest clock, 1 CPU; Keel: keel-dm on a file in the service VM's "
        "tmpfs; QEMU direct: its virtio-blk-pci on a file)" % VD_MIB,
        "  write (dd, fsync): Keel %.2f MiB/s, QEMU direct %.2f MiB/s, ratio %.3f" % (k_w, d_w, k_w / d_w),
        "  read (dd, cold cache): Keel %.2f MiB/s, QEMU direct %.2f MiB/s, ratio %.3f" % (k_r, d_r, k_r / d_r),
        "  4 KiB random write (randio: %d at random 4 KiB-aligned offsets, O_DIRECT, queue depth 1, fdatasync "
        "at the end): Keel %.0f IOPS, QEMU direct %.0f IOPS, ratio %.3f" % (RANDIO_COUNT, k_rw, d_rw, k_rw / d_rw),
        "  4 KiB random read (randio: %d, O_DIRECT, queue depth 1): Keel %.0f IOPS, QEMU direct %.0f IOPS, "
        "ratio %.3f" % (RANDIO_COUNT, k_rr, d_rr, k_rr / d_rr),
    ]


def part_virtio_net(out):
    k, d = virtio_net_keel(), virtio_net_direct()
    return [
        "guest-to-guest network (%d MiB with nc over TCP on virtio-net, Linux guests of 256 MiB and 1 vCPU; "
        "receiver's guest clock after its first 64 KiB)" % NET_MIB,
        "  Keel: both guests on a bridge in the service VM, one QEMU with %d CPU(s); QEMU direct: two QEMU "
        "processes of 1 CPU each, joined by a socket netdev" % NET_CPUS,
        "  throughput: Keel %.1f MiB/s, QEMU direct %.1f MiB/s, ratio %.2f" % (k, d, k / d),
    ]


def part_display(out):
    k, d = display_keel(), display_direct()
    return [
        "guest screen over VNC (Linux, 1 CPU, 1024x768, the guest writing whole random screens to /dev/fb0; "
        "an RFB client asking for incremental Raw updates for %d s)" % DISPLAY_SECONDS,
        "  screens per second received: Keel %.2f, QEMU direct %.2f, ratio %.2f" % (k, d, k / d),
    ]


# In report order.
PARTS = {"boot": part_boot, "service-io": part_service_io, "exit": part_exit, "guest-boot": part_guest_boot,
         "virtio-disk": part_virtio_disk, "virtio-net": part_virtio_net, "display": part_display}


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
