# SPDX-License-Identifier: MIT
"""Security issue 26, the CPU items, in two boots. Under Bochs tigerlake
(VT-x, one CPU): XSETBV of values the architecture refuses (x87|AVX without
SSE and others) takes #GP in the guest instead of stopping the CPU in VMX
root; debug registers and IA32_SPEC_CTRL are each VM's own on a shared CPU;
every speculation control CPUID offers works. Under QEMU (AMD-V on TCG; the
host's CPU where the rig picks KVM) with the service VM on CPU 0 and two
debug-register guests on CPU 1 (values only: QEMU 7.2's TCG dies on a data
breakpoint in a nested guest): a platform NMI
(QMP inject-nmi) that Keel logs and counts on both CPUs (monitor `cpus`) and
hands to the service VM on CPU 0, while every VM keeps running."""
import os
import re
import time

from bochs import Bochs
from rig import BUILD, Machine, TestFailure, check, kernel_path

INITRD = os.path.join(BUILD, "service-initrd.img")
PROMPT = r"/ # "


def guest(name):
    return os.path.join(BUILD, "guests", name + ".elf")


def vm_lines(name, elf, cpu, cmdline=""):
    lines = ["vm.%s.kernel = guests/%s.elf" % (name, elf), "vm.%s.testdev = on" % name,
             "vm.%s.cpu = %d" % (name, cpu), "vm.%s.memory = 4M" % name]
    if cmdline:
        lines.append("vm.%s.cmdline = %s" % (name, cmdline))
    return lines


def passed(log, name):
    """PASS of VM name's guest, or why not."""
    if re.search(r"vm %s: PASS \w+" % name, log):
        return None
    fail = re.search(r"vm %s: (FAIL .*)" % name, log)
    stopped = re.search(r"vm %s: stopped: (.*)" % name, log)
    return "%s: %s" % (name, fail.group(1) if fail else stopped.group(1) if stopped else "no PASS")


# --- VT-x under Bochs ---

BOCHS_VMS = [("xsetbv", "xsetbv", ""),
             ("dra", "debugregs", "dr=1 secs=1"), ("drb", "debugregs", "dr=2 secs=1"),
             ("spa", "specctrl", "spec=1 secs=1"), ("spb", "specctrl", "spec=4 secs=1")]


def test_vtx_xsetbv_debug_regs_spec_ctrl():
    """One Bochs tigerlake boot, one CPU, five VMs sharing it."""
    cfg = ["debug_exit_port = 0xf4"]
    for name, elf, cmdline in BOCHS_VMS:
        cfg += vm_lines(name, elf, 0, cmdline)
    files = {"guests/%s.elf" % e: guest(e) for _, e, _ in BOCHS_VMS}
    with Bochs("security_cpu_vtx", "\n".join(cfg) + "\n", files, cpus=1, model="tigerlake",
               timeout=280) as b:
        b.expect(r"all VMs have stopped|PANIC on CPU|EXCEPTION")
        log = b.text()
        problems = [p for p in (passed(log, n) for n, _, _ in BOCHS_VMS) if p]
        if "EXCEPTION" in log or "PANIC" in log:
            problems.append("Keel stopped: " + log[log.find("EXCEPTION" if "EXCEPTION" in log
                                                            else "PANIC"):][:300])
        # what the guests must have shown, not merely skipped
        for what in (r"xsetbv: AVX without SSE \(0x5\): #GP", r"xsetbv: opmask alone \(0x27\): #GP",
                     r"vm spa: specctrl: IBRS offered", r"vm spa: specctrl: IBPB offered",
                     r"vm spa: specctrl: SPEC_CTRL 0x1 read back \d+ times",
                     r"vm spb: specctrl: SPEC_CTRL 0x4 read back \d+ times",
                     r"vm dra: debugregs vm 1: \d+ checks, \d+ time slices away \(TSC",
                     r"vm drb: debugregs vm 2: \d+ checks"):
            if not re.search(what, log):
                problems.append("no line %r" % what)
        if problems:
            raise TestFailure("; ".join(problems) + "\nlogs in %s\n%s" % (b.dir, b.tail()))


# --- AMD-V under QEMU, with the service VM ---

def qemu_cfg():
    cfg = ["service.kernel = vmlinuz", "service.initrd = initrd.img",
           "service.cmdline = console=ttyS0", "service.memory = 512M", "service.vcpus = 1"]
    # long enough to outlive the service VM's boot and the NMI; the test powers off before
    cfg += vm_lines("dra", "debugregs", 1, "dr=1 bp=0 report=10 secs=900")
    cfg += vm_lines("drb", "debugregs", 1, "dr=2 bp=0 report=10 secs=900")
    cfg += vm_lines("xsetbv", "xsetbv", 0)
    cfg += vm_lines("spec", "specctrl", 0)
    return "\n".join(cfg) + "\n"


def shell(m, command):
    """A service VM command's output without the lines Keel and its VMs printed meanwhile."""
    return "\n".join(l for l in m.shell(command).splitlines() if not l.startswith("keel:"))


def progress(m, vm, start):
    """The last 'N checks' VM vm's debug-register guest printed after byte start, or 0."""
    with m.lock:
        found = re.findall(rb"vm %s: debugregs vm \d: (\d+) checks" % vm.encode(), m.buf[start:])
    return int(found[-1]) if found else 0


def test_nmi_and_debug_regs_under_qemu():
    files = {"vmlinuz": kernel_path(), "initrd.img": INITRD, "guests/debugregs.elf": guest("debugregs"),
             "guests/xsetbv.elf": guest("xsetbv"), "guests/specctrl.elf": guest("specctrl")}
    with Machine("security_cpu_qemu", qemu_cfg(), files, smp=2, timeout=400) as m:
        m.expect(r"Keel service VM: ", timeout=300)
        m.expect(PROMPT, timeout=30)
        time.sleep(0.5)
        log = m.text()
        for name in ("xsetbv", "spec"):
            problem = passed(log, name)
            check(not problem, problem, m)
        for vm in ("dra", "drb"):
            check(progress(m, vm, 0) > 0 and not re.search(r"vm %s: FAIL" % vm, log),
                  "%s: no debug-register checks before the NMI" % vm, m)
        # a platform NMI on every CPU, as a BMC's or a PCI SERR would raise
        mark = m.mark()
        m.qmp("inject-nmi")
        m.expect(r"keel: cpu0: 1 NMI received \(1 in all\), passed to vm service vCPU 0",
                 timeout=30, start=mark)
        m.expect(r"keel: cpu1: 1 NMI received \(1 in all\), no VM here owns the platform",
                 timeout=30, start=mark)
        dmesg = shell(m, "dmesg | grep -c 'NMI received for unknown reason'")
        check(dmesg.isdigit() and int(dmesg) >= 1, "the service VM saw no NMI: %r" % dmesg, m)
        m.send(b"\x1d\x1d")
        m.expect(r"keel> ", timeout=10, start=mark)
        cpus_mark = m.mark()
        m.send("cpus\r")
        for cpu in (0, 1):
            m.expect(r"cpu%d apic \d+ online, \d+ timer ticks, 1 NMIs" % cpu, timeout=10,
                     start=cpus_mark)
        m.send("resume\r")
        m.expect(r"back to the service VM console", timeout=10, start=cpus_mark)
        # everything still runs: the service VM's shell, both guests' checks go on
        check(shell(m, "echo still here") == "still here", "service VM shell gone after the NMI", m)
        before = {vm: progress(m, vm, 0) for vm in ("dra", "drb")}
        end = time.time() + 60
        while time.time() < end and not all(progress(m, vm, mark) > before[vm] for vm in before):
            time.sleep(1)
        for vm in before:
            check(progress(m, vm, mark) > before[vm], "%s made no progress after the NMI" % vm, m)
        log = m.text()
        check(not re.search(r"vm dr[ab]: (FAIL|stopped)", log), "a debug-register guest failed", m)
        check("EXCEPTION" not in log and "PANIC" not in log, "Keel stopped", m)
        m.send("poweroff -f\n")
        check(m.wait_exit(60) == 0, "no power-off", m)
