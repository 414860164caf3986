# SPDX-License-Identifier: MIT
"""Keel boots from UEFI under QEMU (TCG, or KVM where it nests): every CPU online with the
backend of its CPU enabled, Keel's QEMU-TCG workaround on exactly under TCG, timer ticking, and
clear messages for a CPU without SVM and for a missing or broken keel.cfg or kernel."""
import calendar
import os
import re
import time

from rig import ACCEL, BUILD, CPU_SVM, EXIT_SUCCESS, Machine, backend, check, kernel_path

# arch/x86/svm/svm_cpu.c adds this to an AMD-V report when CPUID 0x40000000 says QEMU TCG
TCG_WORKAROUND = "(QEMU TCG: interrupts via V_IRQ)"


def cfg(extra=""):
    """A small boot-time VM and no service VM: Keel exits through the debug port when it ends."""
    return ("vm.probe.kernel = guests/cpuid.elf\nvm.probe.testdev = on\nvm.probe.memory = 4M\n"
            "debug_exit_port = 0xf4\n" + extra)


def files():
    return {"guests/cpuid.elf": os.path.join(BUILD, "guests", "cpuid.elf")}


def boot_smp(n):
    name, report = backend()
    with Machine("boot_smp%d" % n, cfg(), files(), smp=n, timeout=150) as m:
        rc = m.wait_exit(140)
        log = m.text()
        check(rc == EXIT_SUCCESS, "exit status %d, want %d" % (rc, EXIT_SUCCESS), m)
        check("keel: Keel " in log, "no banner", m)
        check(re.search(r"%d of %d CPUs online, %s enabled on %d" % (n, n, name, n), log),
              "not all %d CPUs online with %s" % (n, name), m)
        for cpu in range(n):
            line = re.search(r"cpu%d: apic \d+, %s.*: enabled.*" % (cpu, report), log)
            check(line, "no virtualization report for cpu%d" % cpu, m)
            # the V_IRQ path is for TCG's SVM alone: under KVM (the host's CPU) it stays off
            want = ACCEL.kind == "tcg"
            check((TCG_WORKAROUND in line.group(0)) == want, "cpu%d: the QEMU TCG workaround is %s "
                  "under %s: %r" % (cpu, "off" if want else "on", ACCEL.kind, line.group(0)), m)
            ticks = re.search(r"cpu%d: timer (\d+) ticks" % cpu, log)
            check(ticks and int(ticks.group(1)) > 0, "cpu%d's timer does not tick" % cpu, m)
        check(re.search(r"clock: TSC \d+ MHz", log), "TSC not calibrated", m)
        date = re.search(r"date: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", log)
        check(date, "no date from the firmware's clock", m)
        keel_time = calendar.timegm(time.strptime(date.group(1), "%Y-%m-%d %H:%M:%S"))
        check(abs(keel_time - time.time()) < 120, "Keel's date %s is not the host's" % date.group(1), m)


def test_smp1():
    boot_smp(1)


def test_smp2():
    boot_smp(2)


def test_smp4():
    boot_smp(4)


def expect_refusal(name, config, pattern, cpu=CPU_SVM, file_map=None):
    """Keel must print the reason and hand control back to the firmware."""
    with Machine(name, config, files() if file_map is None else file_map, smp=1, cpu=cpu,
                 timeout=90) as m:
        m.expect(pattern, timeout=80)
        m.expect(r"boot stopped; nothing was changed", timeout=10)
        m.expect(r"BdsDxe: failed to start Boot0001", timeout=20)
        check("exiting boot services" not in m.text(), "boot services were exited", m)


def test_cpu_without_svm():
    # under KVM the host's CPU with both taken away: KVM gives a named model the host's vendor
    expect_refusal("no_svm", cfg(), r"neither AMD-V \(SVM\) nor Intel VT-x \(VMX\)",
                   cpu="host,-svm,-vmx" if ACCEL.kind == "kvm" else "EPYC,-svm")


def test_missing_config():
    expect_refusal("missing_cfg", None, r"cannot read \\keel\.cfg on the boot volume: not found")


def test_malformed_config():
    expect_refusal("bad_cfg", cfg("service.vcpus = many\n"),
                   r"keel\.cfg line 5: service\.vcpus: expected a number from 1 to 64, got 'many'")
    expect_refusal("bad_cfg_key", "service.kernel = vmlinuz\nmemory = 1G\n",
                   r"keel\.cfg line 2: unknown key 'memory'")


def test_missing_kernel():
    expect_refusal("missing_kernel", "service.kernel = vmlinuz\n",
                   r"cannot read 'vmlinuz' \(service\.kernel in keel\.cfg\): not found", file_map={})
    expect_refusal("missing_vm_kernel", "vm.a.kernel = nothere.elf\n",
                   r"cannot read 'nothere\.elf' \(vm\.a\.kernel in keel\.cfg\): not found", file_map={})


def test_corrupt_kernel():
    """A service kernel that is not a bzImage is refused before the firmware is left."""
    expect_refusal("corrupt_kernel", "service.kernel = vmlinuz\n",
                   r"service\.kernel 'vmlinuz' cannot be booted: not a Linux bzImage",
                   file_map={"vmlinuz": os.path.join(BUILD, "guests", "cpuid.elf")})


def test_framebuffer_mirrors_log():
    """The log appears on the GOP screen: rows of lit pixels where text was drawn."""
    with Machine("fbcon", cfg().replace("debug_exit_port = 0xf4\n", ""), files(), smp=1,
                 timeout=120) as m:
        m.expect(r"all VMs have stopped", timeout=110)
        w, h, rgb = m.screendump(m.dir + "/screen.ppm")
        lit_rows = set()
        for y in range(0, h):
            row = rgb[y * w * 3:(y + 1) * w * 3]
            if any(row):
                lit_rows.add(y // 16)
        check(w >= 640 and h >= 480, "screen is %dx%d" % (w, h), m)
        # one text row per log line: at least the 8 lines Keel printed by now
        check(len(lit_rows) >= 8, "only %d text rows on screen" % len(lit_rows), m)


def no_exit_cfg():
    return cfg().replace("debug_exit_port = 0xf4\n", "")


def test_monitor_and_crash_report():
    """Ctrl-] twice opens the monitor; 'crash' faults inside Keel and the report names functions."""
    with Machine("monitor_crash", no_exit_cfg(), files(), smp=2, timeout=120) as m:
        m.expect(r"all VMs have stopped", timeout=110)
        m.send(b"\x1d\x1d")
        m.expect(r"keel> ", timeout=10)
        m.send("cpus\r")
        m.expect(r"cpu1 apic 1 online", timeout=10)
        m.send("crash\r")
        m.expect(r"EXCEPTION #PF page fault \(vector 14\), error code 0x0", timeout=10)
        m.expect(r"at [0-9a-f]{16} monitor_crash\+0x", timeout=5)
        m.expect(r"cr2 00007fff00000000", timeout=5)
        m.expect(r"called from [0-9a-f]{16} cmd_crash\+0x", timeout=5)
        m.expect(r"CPU 0 stopped", timeout=5)


def test_monitor_poweroff():
    """The monitor's poweroff switches the machine off through ACPI: QEMU exits with 0."""
    with Machine("monitor_poweroff", no_exit_cfg(), files(), smp=1, timeout=120) as m:
        m.expect(r"all VMs have stopped", timeout=110)
        m.send(b"\x1d\x1d")
        m.expect(r"keel> ", timeout=10)
        m.send("poweroff\r")
        rc = m.wait_exit(20)
        check(rc == 0, "QEMU exit status %d after poweroff" % rc, m)
