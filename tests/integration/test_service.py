# SPDX-License-Identifier: MIT
"""The service VM: Debian's stock kernel boots under Keel on QEMU TCG (AMD-V)
to a BusyBox shell on the serial console, with the configured vCPUs and RAM,
the real date, a clock that keeps time, working SMP, power-off and reboot;
and the same from exactly the image `make usb` writes."""
import os
import re
import time

from rig import BUILD, Machine, check, kernel_path

KVER = os.path.basename(kernel_path())[len("vmlinuz-"):]
INITRD = os.path.join(BUILD, "service-initrd.img")
PROMPT = r"/ # "


def cfg(vcpus, memory="512M"):
    return ("service.kernel = vmlinuz\nservice.initrd = initrd.img\nservice.cmdline = console=ttyS0\n"
            "service.memory = %s\nservice.vcpus = %d\n" % (memory, vcpus))


def files():
    return {"vmlinuz": kernel_path(), "initrd.img": INITRD}


def boot_to_shell(m):
    m.expect(r"Keel service VM: ", timeout=240)
    m.expect(PROMPT, timeout=30)
    time.sleep(0.5)


def guest_clock(m):
    """(host seconds, guest seconds, error): the guest's uptime, read through the console, and
    the middle of the host times before and after the read; the guest read its clock between
    them, so within `error` (half the round trip, plus uptime's 10 ms) of that middle. The
    quickest of up to three reads: a busy host (another emulator on the cores) slows some."""
    best = None
    for _ in range(3):
        h0 = time.time()
        g = float(m.shell("cut -d' ' -f1 /proc/uptime"))
        h1 = time.time()
        if best is None or (h1 - h0) / 2 + 0.01 < best[2]:
            best = ((h0 + h1) / 2, g, (h1 - h0) / 2 + 0.01)
        if best[2] < 0.1:
            break
    return best


def check_basics(m, vcpus, memory_mib):
    check(m.shell("uname -r") == KVER, "uname -r is not %s" % KVER, m)
    check(m.shell("nproc") == str(vcpus), "nproc is not %d" % vcpus, m)
    kb = int(re.search(r"(\d+)", m.shell("grep MemTotal /proc/meminfo")).group(1))
    check(abs(kb / 1024 - memory_mib) <= memory_mib * 0.10,
          "MemTotal %d KiB is not within 10%% of %d MiB" % (kb, memory_mib), m)
    guest = int(m.shell("date +%s"))
    check(abs(guest - time.time()) < 60, "date is %d s off the host's" % (guest - time.time()), m)


def check_clock_and_load(m, vcpus):
    """A CPU loop on every vCPU while the guest clock is compared with the host's over 20 s or
    more: the guest's time must run at the host's rate within 3%, beyond the reads' own error,
    which the span is made long enough to keep under 2% of it."""
    h0, g0, e0 = guest_clock(m)
    m.shell("for i in $(seq %d); do (n=0; while [ $n -lt 150000 ]; do n=$((n+1)); done; "
            "echo loop-done) & done" % vcpus)
    m.shell("wait", timeout=300)
    done = len(re.findall(r"^loop-done", m.text(), re.M))
    check(done >= vcpus, "only %d of %d CPU loops finished" % (done, vcpus), m)
    until = h0 + 21
    while True:
        while time.time() < until:
            time.sleep(1)
        h1, g1, e1 = guest_clock(m)
        span, error = h1 - h0, e0 + e1
        if error <= 0.02 * span or span > 120:
            break
        until = h0 + min(error / 0.02, 125)  # a span 50 times the reads' error, or at most ~2 min
    check(error <= 0.02 * span, "the console reads took too long to time the guest's clock: "
          "%.2f s of error over %.0f s" % (error, span), m)
    drift = abs((g1 - g0) - span)
    with open(os.path.join(m.dir, "clock.txt"), "w") as f:  # the figures, pass or fail
        f.write("host %.3f s, guest %.3f s, reads within %.3f s (%.3f + %.3f)\n" % (
            span, g1 - g0, error, e0, e1))
    check(drift <= 0.03 * span + error, "guest time ran at %.3f of host time over %.0f s (reads "
          "within %.2f s)" % ((g1 - g0) / span, span, error), m)
    loc = m.shell("grep LOC: /proc/interrupts").split()
    ticks = [int(x) for x in loc[1:1 + vcpus]]
    check(all(t > 100 for t in ticks), "local timer interrupts per CPU: %s" % ticks, m)


def service_run(name, vcpus, memory_mib=1024):
    with Machine(name, cfg(vcpus, "%dM" % memory_mib), files(), smp=2, timeout=400) as m:
        boot_to_shell(m)
        check_basics(m, vcpus, memory_mib)
        check_clock_and_load(m, vcpus)
        m.send("poweroff -f\n")
        rc = m.wait_exit(60)
        check(rc == 0, "QEMU exit status %d after poweroff" % rc, m)


def test_one_vcpu():
    service_run("service_1cpu", 1)


def test_two_vcpus():
    service_run("service_2cpu", 2, 1536)


def test_reboot():
    """reboot in the service VM resets the machine; Keel and the service VM come up again."""
    with Machine("service_reboot", cfg(1), files(), smp=1, timeout=400, reboot=True) as m:
        boot_to_shell(m)
        m.send("reboot -f\n")
        mark = m.mark()
        m.expect(r"keel: Keel hypervisor, UEFI boot stub", timeout=120, start=mark)
        m.expect(r"Keel service VM: ", timeout=240, start=mark)
        m.expect(PROMPT, timeout=30, start=mark)
        time.sleep(0.5)
        check(m.shell("uname -r") == KVER, "no shell after the reboot", m)
        m.send("poweroff -f\n")
        check(m.wait_exit(60) == 0, "no power-off after the reboot", m)


def test_usb_image():
    """Boot exactly build/keel-usb.img (what `make usb` writes) from an emulated USB stick."""
    image = os.path.join(BUILD, "keel-usb.img")
    with Machine("service_usb", None, smp=2, timeout=400, disk=image) as m:
        boot_to_shell(m)
        check_basics(m, 2, 1024)
        check_clock_and_load(m, 2)
        m.send("poweroff -f\n")
        check(m.wait_exit(60) == 0, "no power-off", m)


def test_monitor_with_a_hung_service_vm():
    """The monitor lists the service VM and its exits, returns to the console, and still works
    (and reboots the machine) after the service VM's kernel crashed and hangs."""
    with Machine("service_monitor", cfg(2, "1G"), files(), smp=2, timeout=400, reboot=True) as m:
        boot_to_shell(m)
        m.send(b"\x1d\x1d")
        m.expect(r"keel> ", timeout=10)
        mark = m.mark()
        m.send("vms\r")
        m.expect(r"0 service +running +2 vCPU\(s\), 1024 MiB", timeout=10, start=mark)
        m.expect(r"vcpu1 on cpu1 \w+ at [0-9a-f]+, \d+ exits: .*port I/O \d+", timeout=10, start=mark)
        m.send("resume\r")
        m.expect(r"back to the service VM console", timeout=10)
        check(m.shell("echo still here") == "still here", "console lost after the monitor", m)
        m.send("echo c > /proc/sysrq-trigger\n")  # the kernel panics and stops
        m.expect(r"Kernel panic", timeout=60)
        time.sleep(2)
        # Everything from here on must come after the crash: the session before it printed the same.
        mark = m.mark()
        m.send(b"\x1d\x1d")
        m.expect(r"keel> ", timeout=10, start=mark)
        mark = m.mark()
        m.send("vms\r")
        m.expect(r"0 service +running +2 vCPU\(s\), 1024 MiB", timeout=10, start=mark)
        m.expect(r"vcpu0 on cpu0 \w+ at [0-9a-f]+, \d+ exits", timeout=10, start=mark)
        m.expect(r"keel> ", timeout=10, start=mark)
        mark = m.mark()
        m.send("reboot\r")
        m.expect(r"keel: Keel hypervisor, UEFI boot stub", timeout=120, start=mark)
        m.expect(r"Keel service VM: ", timeout=240, start=mark)
