# SPDX-License-Identifier: MIT
"""Keel under Bochs 2.7: every test guest of test_vcpu.py, checked the same
way, on the VT-x backend (cpu model tigerlake: VMX with EPT, VPID and
unrestricted guest) on one and on two CPUs, and on the AMD-V backend with
NRIP save and real shutdown semantics (ryzen). The tigerlake boots also check
the hypervisor's own x2APIC path, which QEMU's TCG cannot show. One Bochs
boot runs all nine guests, as test_vcpu.py does: about 25-40 s each."""
import importlib.util
import os
import re

from bochs import Bochs
from rig import OVMF_CODE, OVMF_VARS, TestFailure

_spec = importlib.util.spec_from_file_location(
    "test_vcpu", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_vcpu.py"))
vcpu = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vcpu)

DONE = r"all VMs have stopped|PANIC on CPU|EXCEPTION"


def boot_problems(log, cpus, backend, apic_mode):
    problems = []
    if not re.search(r"%d of %d CPUs online, %s enabled on %d" % (cpus, cpus, backend, cpus), log):
        problems.append("not all %d CPUs online with %s" % (cpus, backend))
    if not re.search(r"clock: TSC \d+ MHz .*, %s mode" % apic_mode, log):
        problems.append("the LAPIC is not in %s mode" % apic_mode)
    for cpu in range(cpus):
        ticks = re.search(r"cpu%d: timer (\d+) ticks" % cpu, log)
        if not ticks or int(ticks.group(1)) == 0:
            problems.append("cpu%d's timer does not tick" % cpu)
        report = re.search(r"cpu%d: apic \d+, %s.*: enabled.*" % (cpu, backend), log)
        if not report:
            problems.append("no %s report for cpu%d" % (backend, cpu))
        elif "QEMU TCG" in report.group(0):  # its V_IRQ workaround is for QEMU's TCG alone
            problems.append("cpu%d turned on the QEMU TCG workaround under Bochs" % cpu)
    return problems


def run_all(name, model, cpus, backend, apic_mode):
    files = {"guests/%s.elf" % g: vcpu.guest(g) for g in vcpu.PASSING + list(vcpu.KILLED)}
    with Bochs(name, vcpu.config(cpus), files, cpus=cpus, model=model, timeout=280) as b:
        b.expect(DONE)
        log = b.text()
        problems = boot_problems(log, cpus, backend, apic_mode) + vcpu.guest_problems(log)
        if problems:
            raise TestFailure("; ".join(problems) + "\nlogs in %s\n%s" % (b.dir, b.tail()))


def test_vtx_guests_on_one_cpu():
    run_all("vmx_smp1", "tigerlake", 1, "VT-x", "x2APIC")


def test_vtx_guests_on_two_cpus():
    run_all("vmx_smp2", "tigerlake", 2, "VT-x", "x2APIC")


def test_amdv_nrip_guests_on_two_cpus():
    run_all("vmx_ryzen_smp2", "ryzen", 2, "AMD-V", "xAPIC")


def test_uefi_shell():
    """Debian's OVMF as a boot-time VM (vm.<name>.firmware) on the VT-x backend: SEC, PEI (its
    microcode lookup reads MSR 0x17) and DXE run under Keel on Bochs's tigerlake to the UEFI
    Shell, whose screen is the VM's COM1 in Keel's log, and its startup.nsh countdown runs on
    the firmware's timer; about 40 s of Bochs to the Shell, 6 guest seconds of countdown."""
    cfg = ("vm.fw.firmware = OVMF_CODE_4M.fd\nvm.fw.vars = OVMF_VARS_4M.fd\n"
           "vm.fw.memory = 128M\n")
    files = {"OVMF_CODE_4M.fd": OVMF_CODE, "OVMF_VARS_4M.fd": OVMF_VARS}
    with Bochs("vmx_uefi_shell", cfg, files, cpus=1, model="tigerlake", timeout=280) as b:
        b.expect(r"VT-x enabled on 1")
        mark = len(b.text())
        b.expect(r"vm fw: .*UEFI Interactive Shell v2|Exception Type|PANIC|vm fw: .*stopped")
        # the Shell's countdown to startup.nsh runs on its timer events down to its last second
        # (the prompt after it stays in Keel's log until a line ends)
        b.expect(r"vm fw: .*in 1 seconds to skip|Exception Type|PANIC")
        log = b.text()[mark:]
        problems = [p for p in ("Exception Type", "PANIC", "stopped") if p in log]
        if "UEFI Interactive Shell v2" not in log or problems:
            raise TestFailure("OVMF did not reach its Shell on VT-x (%s)\nlogs in %s\n%s" % (
                ", ".join(problems) or "no Shell banner", b.dir, b.tail()))
