# SPDX-License-Identifier: MIT
"""Issue 18's CPU behaviours, one test guest each, in one Keel boot per backend:
every behaviour guest runs as a boot-time VM under QEMU (AMD-V, with the
service VM, whose keelctl info must show what a guest tried that Keel has
not) and under Bochs tigerlake (VT-x, guests only). Each guest first passes on
bare QEMU, which shows the guest itself is right. To add a behaviour, add its
guest to GUESTS with the lines it must print under Keel.
compat/vtx_service_linux (item 11) boots the service VM's Linux on VT-x under
Bochs and starts a guest there with keelctl."""
import os
import re
import subprocess
import sys
import time

from bochs import Bochs, BochsConsole
from guestctl import Console, monitor_report, ok
from rig import BUILD, ROOT, Machine, TestFailure, check, kernel_path

INITRD = os.path.join(BUILD, "service-initrd.img")
PROMPT = r"/ # "

# (VM name, guest ELF, multiboot command line, lines it prints only when it checked that part)
GUESTS = [
    ("msrcompat", "msrcompat", "", [
        r"cpuid: \d+ offered features checked",
        r"pmu: leaf 0Ah version 0, 44 counter MSRs read 0 after a write",
        r"platform_info: ratio \d+ for a \d+ kHz TSC, read-only",
        r"tsc_adjust: a write moves RDTSC, a TSC write moves it back",
        r"mtrr: cap 508, 8 variable and 11 fixed ranges read back, 6 reserved-bit #GPs",
    ]),
    ("realmode", "realmode", "", [
        r"realmode: loaded at 8000-[0-9a-f]+ across 0x9000, which kept its bytes; the multiboot "
        r"information is at [0-9a-f]+",
        r"realmode: left long mode: CR0 [0-9a-f]+, EFER [0-9a-f]+ at CS 0100",
        r"realmode: CPUID and RDMSR exits in real mode resumed at the next instruction",
        r"realmode: far call, far jump and IRET to 00f0:[0-9a-f]{4} ran there and came back",
        r"realmode: INT 0x30 through the IVT returned, frame 0100:[0-9a-f]{4}",
        r"realmode: #DE and #BP through the IVT, IRET back",
        r"realmode: #GP for an unknown MSR through the IVT, no error code pushed",
        r"realmode: 2345:6789 is 2000:9bd9, offsets wrap at 64 KiB, ffff:0010 reads a20cafe at "
        r"1 MiB \(A20 on\)",
        r"realmode: 0x66 and 0x67 operand and address sizes, 16-bit add carries out",
        r"realmode: port I/O of 8, 16 and 32 bits: CMOS, PCI [0-9a-f]{4}:[0-9a-f]{4}",
        r"realmode: 13 memory forms from 16-bit code on the MMIO page at fed40000 match RAM",
        r"unreal: read 0x12345678 at 3 MiB with a 32-bit offset, wrote 0x9abcdef0 next to it",
    ]),
    ("strio", "strio", "", [
        r"fwcfg: rep insb of the \d+-byte file directory across a page boundary matches inb, "
        r"DF=0 and DF=1",
        r"scratch: ins and outs of 1, 2 and 4 bytes, one and rep, DF=0 and DF=1, across a page "
        r"boundary",
        r"outsb: this line went out through rep outsb, DF=0",
        r"outsb: this line went out through rep outsb, DF=1",
        r"long rep: 65536-byte rep insb and 100000-dword rep outsl complete",
        r"pf: rep outsl and rep insl stop at the page with CR2 205000 and error codes 0 and 3, "
        r"rcx 4 and 2 left, and finish once it is mapped",
        r"paging: rep insw across into a linear page mapped elsewhere wrote guest-physical 300000",
        r"addr32: rep outsb used esi and ecx and cleared their upper halves",
        r"segment: rep outsb with an FS override read from FS's base",
    ]),
    ("softint", "softint", "", [
        r"soft: %s returned after itself, delivered once with the IDT, GDT and stack pages "
        r"withheld alone and together" % form
        for form in (r"1-byte int3", r"2-byte int \$0x21", r"3-byte 66 cd 21", r"4-byte f3 66 cd 21",
                     r"1-byte into in compatibility mode")
    ]),
    ("nmi", "nmi", "", [
        r"icr: a self-NMI through the ICR arrived, once",
        r"nested: of two NMIs sent in the handler one came, after its IRET, one was lost",
        r"irq: an NMI sent in an interrupt handler came inside it; each once",
        r"lint1: an NMI-mode LINT1 raised one NMI, its vector ignored",
        r"lint1: masked, it raised nothing",
        r"lint0: in NMI mode one NMI, in fixed mode one interrupt 0x51",
        r"both: LINT1 \(NMI\) and LINT0 \(interrupt\) at once: each taken once, the NMI first",
        r"hlt: an NMI from vCPU 1 woke vCPU 0 from HLT",
    ]),
]
# guests with more than one vCPU
VCPUS = {"nmi": 2}
# a guest without Keel's test device asks for QEMU's NMI button (inject-nmi pulses LINT1)
BUTTON = r"waiting for the NMI button"
# guests whose lines bare QEMU prints too, but for these (Keel's test device presses LINT0 and
# LINT1; QEMU's button is LINT1, pressed once)
KEEL_ONLY = {"nmi": (r"lint1: masked", r"lint0: ", r"both: ")}


def guest(elf):
    return os.path.join(BUILD, "guests", elf + ".elf")


def vm_lines(name, elf, cpu, cmdline):
    lines = ["vm.%s.kernel = guests/%s.elf" % (name, elf), "vm.%s.testdev = on" % name,
             "vm.%s.cpu = %d" % (name, cpu), "vm.%s.memory = 4M" % name,
             "vm.%s.vcpus = %d" % (name, VCPUS.get(name, 1))]
    return lines + (["vm.%s.cmdline = %s" % (name, cmdline)] if cmdline else [])


def problems_in(log, where, guests=None):
    """What went wrong for each guest in Keel's log: no PASS, a FAIL, a missing line."""
    problems = []
    for name, _, _, lines in guests or GUESTS:
        if not re.search(r"vm %s: PASS \w+" % name, log):
            fail = re.search(r"vm %s: (FAIL .*|stopped: .*)" % name, log)
            problems.append("%s on %s: %s" % (name, where, fail.group(1) if fail else "no PASS"))
        problems += ["%s on %s: no line %r" % (name, where, l) for l in lines
                     if not re.search(r"vm %s: .*%s" % (name, l), log)]
    if "EXCEPTION" in log or "PANIC" in log:
        problems.append("Keel stopped on %s" % where)
    return problems


def test_guests_on_bare_qemu():
    """Each guest passes on QEMU's own CPU (EPYC, TCG): the guests check what a CPU does."""
    for name, elf, cmdline, lines in GUESTS:
        with Machine("compat_bare_%s" % name, None, smp=VCPUS.get(name, 1), mem="128M",
                     timeout=60, extra=["-device", "pc-testdev"],  # the test device's ports
                     direct=(guest(elf), None, cmdline or elf)) as m:
            start = 0
            while True:
                got = m.expect(r"PASS %s|FAIL .*|%s" % (elf, BUTTON), timeout=50, start=start)
                if not re.search(BUTTON.encode(), got.group(0)):
                    break
                start = got.end()
                m.qmp("inject-nmi")
            check(re.search(r"PASS %s" % elf, m.text()), "%s on bare QEMU failed" % name, m)
            missing = [l for l in lines if name in KEEL_ONLY and
                       not l.startswith(KEEL_ONLY[name]) and not re.search(l, m.text())]
            check(not missing, "%s on bare QEMU: no line %r" % (name, missing), m)


def test_amdv_under_qemu():
    """One QEMU boot: the service VM on CPU 0, the guests on CPU 1; keelctl info of msrcompat
    counts the unknown MSRs and ports it touched."""
    cfg = ["service.kernel = vmlinuz", "service.initrd = initrd.img",
           "service.cmdline = console=ttyS0", "service.memory = 512M", "service.vcpus = 1"]
    for name, elf, cmdline, _ in GUESTS:
        cfg += vm_lines(name, elf, 1, cmdline)
    files = {"vmlinuz": kernel_path(), "initrd.img": INITRD}
    files.update({"guests/%s.elf" % elf: guest(elf) for _, elf, _, _ in GUESTS})
    with Machine("compat_amdv", "\n".join(cfg) + "\n", files, smp=2, timeout=300) as m:
        m.expect(r"Keel service VM: ", timeout=240)
        m.expect(PROMPT, timeout=60)
        for name, _, _, _ in GUESTS:
            m.expect(r"vm %s: (PASS|FAIL|stopped)" % name, timeout=60)
        problems = problems_in(m.text(), "AMD-V")
        check(not problems, "; ".join(problems), m)
        mark = m.mark()
        m.send("keelctl info msrcompat\n")
        info = m.expect(r"unknown: +(\d+) MSR reads, (\d+) MSR writes \(([^)]*)\), (\d+) port "
                        r"accesses \(([^)]*)\)", timeout=30, start=mark)
        reads, writes, msrs, ports, port_list = info.groups()
        check(int(reads) >= 1 and int(writes) >= 1 and int(ports) >= 2,
              "keelctl info counts: %r" % info.group(0), m)
        check(msrs.split() == [b"0x12345678", b"0xc0011030"] and
              port_list.split() == [b"0x2e0", b"0x2e4"], "keelctl info lists: %r" % info.group(0), m)
        m.send("poweroff -f\n")
        check(m.wait_exit(60) == 0, "no power-off", m)


def vtx_boot(tag, guests):
    cfg = ["debug_exit_port = 0xf4"]
    for name, elf, cmdline, _ in guests:
        cfg += vm_lines(name, elf, 0, cmdline)
    files = {"guests/%s.elf" % elf: guest(elf) for _, elf, _, _ in guests}
    with Bochs(tag, "\n".join(cfg) + "\n", files, cpus=1, model="tigerlake", timeout=240) as b:
        b.expect(r"all VMs have stopped|PANIC on CPU|EXCEPTION")
        problems = problems_in(b.text(), "VT-x", guests)
        if problems:
            raise TestFailure("; ".join(problems) + "\nlogs in %s\n%s" % (b.dir, b.tail()))


# Bochs 2.7 leaks virtual-NMI blocking from one VMCS to the next entered on its CPU: VM entry
# masks virtual NMIs for a VMCS that says "blocking by NMI" but never unmasks them for one that
# does not (later Bochs unmasks first). Through the other VMs on its CPU the nmi guest's own
# blocking comes back to it after its IRET (seen: no NMI inside its interrupt handler), so it
# boots alone.
BOCHS_ALONE = {"nmi"}


def test_vtx_under_bochs():
    """One Bochs tigerlake boot, one CPU, the guests as boot-time VMs."""
    vtx_boot("compat_vtx", [g for g in GUESTS if g[0] not in BOCHS_ALONE])


def test_vtx_nmi_under_bochs():
    """The nmi guest in a Bochs tigerlake boot of its own (see BOCHS_ALONE)."""
    vtx_boot("compat_vtx_nmi", [g for g in GUESTS if g[0] in BOCHS_ALONE])


# The service VM on VT-x under Bochs (item 11): one vCPU, no XSAVE (Linux 6.1 trips over the
# tigerlake model's XSAVE layout), no speculation mitigations (their MSR writes would each exit).
VTX_SERVICE_CMDLINE = "console=ttyS0 noxsave mitigations=off"
VTX_SERVICE_GUEST = "spin"
VTX_SERVICE_TIMEOUT = 570  # the whole Bochs run
VTX_SERVICE_SHELL_BY = 480  # seconds from Bochs' start; a failure keeps 40 s or more for the monitor


def lean_service_initrd():
    """The service VM's /init with only what the test uses: uio_pci_generic for keelctl's control
    device, keelctl, keel-dm and the guest at /guests/; none of the disk and NIC drivers the full
    initramfs loads (Bochs has none of those devices; each probe costs emulated seconds)."""
    d = os.path.join(BUILD, "tests", "compat_vtx_service_initrd")  # BochsConsole empties its own
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, "initrd.img")
    tools = os.path.join(BUILD, "tools")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools/initramfs/mkinitramfs.py"), out,
                    "--init", os.path.join(ROOT, "tools/initramfs/service-init"),
                    "--module", "uio_pci_generic",
                    "--file", "bin/keelctl=" + os.path.join(tools, "keelctl"),
                    "--file", "bin/keel-dm=" + os.path.join(tools, "keel-dm"),
                    "--file", "guests/%s.elf=%s" % (VTX_SERVICE_GUEST, guest(VTX_SERVICE_GUEST))],
                   check=True)
    return out


def tsc_problems(log):
    """Linux's idea of the TSC against the rate Keel measured: a guest kernel that takes the
    TSC for faster than it runs sets every timer that much too late."""
    keel = re.search(rb"keel: clock: TSC (\d+) MHz", log)
    linux = re.findall(rb"tsc: Detected (\d+\.\d+) MHz (?:TSC|processor)", log)
    if not keel or not linux:
        return ["no TSC rate from %s" % ("Keel" if not keel else "Linux")]
    want, got = int(keel.group(1)), float(linux[-1])  # the TSC line comes after the processor's
    if abs(got - want) > 0.02 * want + 1:
        return ["Linux took the TSC for %.3f MHz, Keel measured %d MHz" % (got, want)]
    return []


def test_vtx_service_linux():
    """One Bochs tigerlake boot, one CPU: the service VM's Linux boots to its shell on the VT-x
    backend with the TSC rate Keel measured, and `keelctl create` and `start` run a multiboot
    test guest whose banner and PASS come back through `keelctl console`. The boot time, from
    Bochs' start to the shell, is written to boot_time.txt beside the logs."""
    cfg = ["service.kernel = vmlinuz", "service.initrd = initrd.img",
           "service.cmdline = " + VTX_SERVICE_CMDLINE, "service.memory = 256M",
           "service.vcpus = 1"]
    files = {"vmlinuz": kernel_path(), "initrd.img": lean_service_initrd()}
    with BochsConsole("compat_vtx_service", "\n".join(cfg) + "\n", files, cpus=1,
                      model="tigerlake", timeout=VTX_SERVICE_TIMEOUT) as b:
        try:
            service_and_guest(b)
        except TestFailure:
            monitor_report(b)  # Keel's view of the vCPU (state, RIP, exits) into the log
            raise


def service_and_guest(b):
    """The TSC rate Linux took, the service VM's shell, then the guest through keelctl."""
    by = min(VTX_SERVICE_SHELL_BY, VTX_SERVICE_TIMEOUT - 40)
    # "Detected ... processor" and, where it differs, "Detected ... TSC" on the line after
    early = b.expect(r"tsc: Detected [\d.]+ MHz processor[^\n]*\n[^\n]*\n",
                     timeout=by - b.elapsed())
    problems = tsc_problems(b.buf[:early.end()])
    check(not problems, "; ".join(problems), b)
    banner = b.expect(r"Keel service VM: [^\n]* up", timeout=by - b.elapsed())
    # keelctl's interrupt: the rig's ACPI tables route the control device's INTA (bochs_acpi.c)
    refused = re.search(rb"uio_pci_generic[^\n]*fail[^\n]*", b.buf[:banner.end()])
    check(not refused, "the control device's driver: %r" % (refused and refused.group(0)), b)
    b.expect(PROMPT, timeout=60, start=banner.end())
    with open(os.path.join(b.dir, "boot_time.txt"), "w") as f:
        f.write("shell after %.1f s\n" % b.elapsed())
    time.sleep(1)
    name = VTX_SERVICE_GUEST
    out = ok(b, "create %s --mem 16M --vcpus 1 --kernel /guests/%s.elf" % (name, name))
    check("created %s" % name in out, "keelctl create said %r" % out, b)
    ok(b, "start " + name)
    mark = b.mark()
    with Console(b, name):
        b.expect(r"START %s" % name, timeout=60, start=mark)
        end = b.expect(r"PASS %s|FAIL %s[^\r\n]*" % (name, name), timeout=120, start=mark)
    check(end.group(0) == ("PASS %s" % name).encode(), "the guest said %r" % end.group(0), b)
