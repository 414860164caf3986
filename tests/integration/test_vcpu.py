# SPDX-License-Identifier: MIT
"""AMD-V vCPUs under QEMU TCG: every test guest in tests/guests/ boots as a VM
from keel.cfg and reports PASS; a triple-faulting VM and one that reads
outside its RAM are stopped with a clear message while the others finish;
every KiB a VM took returns to the pool, but for the records of VMs not
destroyed, which Keel's log counts."""
import os
import re

from rig import BUILD, EXIT_SUCCESS, Machine, TestFailure

PASSING = ["cpuid", "msr", "portio", "mmio", "timer", "pagefault", "spin"]
KILLED = {
    "triplefault": r"vm triplefault: stopped: vCPU 0: triple fault \(shutdown\)",
    "escape": r"vm escape: stopped: vCPU 0: read from guest-physical 1000000, outside its RAM",
}


def guest(name):
    return os.path.join(BUILD, "guests", name + ".elf")


def config(cpus):
    lines = ["debug_exit_port = 0xf4"]
    for i, g in enumerate(PASSING + list(KILLED)):
        lines += ["vm.%s.kernel = guests/%s.elf" % (g, g), "vm.%s.testdev = on" % g,
                  "vm.%s.cpu = %d" % (g, i % cpus)]
    return "\n".join(lines) + "\n"


def guest_problems(log):
    """What the serial log shows went wrong with the test guests (shared with test_vmx.py)."""
    problems = []
    for g in PASSING:
        if not re.search(r"vm %s: PASS %s\b" % (g, g), log):
            fail = re.search(r"vm %s: (FAIL .*)" % g, log)
            problems.append("%s: %s" % (g, fail.group(1) if fail else "no PASS"))
    for g, pattern in KILLED.items():
        if not re.search(pattern, log):
            problems.append("%s was not stopped as expected" % g)
    # the spinner printed progress after the triple fault, so it outlived that VM
    tf = log.find("triple fault (shutdown)")
    if tf < 0 or "vm spin: alive" not in log[tf:]:
        problems.append("no spin progress after the triple fault")
    # to the KiB: every page a VM took goes back, but for the records of VMs not destroyed
    start = re.search(r"boot VMs: (\d+) to start, (\d+) KiB free in the pool", log)
    end = re.findall(r"memory returned to the pool \((\d+) KiB free; its record, (\d+) KiB, is kept", log)
    kept = sum(int(k) for _, k in end)
    if not start or len(end) != int(start.group(1)) or int(end[-1][0]) + kept != int(start.group(2)):
        problems.append("pool did not return to its size: %s KiB free before %s VMs, %s KiB after "
                        "%d VMs stopped, whose records hold %d KiB" % (
                            start and start.group(2), start and start.group(1),
                            end and end[-1][0], len(end), kept))
    if "all VMs have stopped" not in log:
        problems.append("not all VMs stopped")
    return problems


def run_all(name, smp):
    files = {"guests/%s.elf" % g: guest(g) for g in PASSING + list(KILLED)}
    with Machine(name, config(smp), files, smp=smp, timeout=300) as m:
        rc = m.wait_exit(290)
        log = m.text()
        problems = guest_problems(log)
        if rc != EXIT_SUCCESS:
            problems.append("exit status %d" % rc)
        if problems:
            raise TestFailure("; ".join(problems) + "\nserial log: %s\n%s" % (m.serial_log, m.tail()))


def test_guests_on_two_cpus():
    run_all("vcpu_smp2", 2)


def test_guests_sharing_one_cpu():
    run_all("vcpu_smp1", 1)
