# SPDX-License-Identifier: MIT
"""The platform a firmware or test kernel reads (issue 18 items 1-3): the fwcfg
test guest (tests/guests/platform/fwcfg.c) boots with a multiboot module and checks it,
then reads fw_cfg through its ports and DMA (signature, features, the file
directory, CPU count, RAM size, etc/e820 against the multiboot map) and places
the ACPI tables by following etc/table-loader, whose MADT must list the same
CPUs. The same guest and module pass first on bare QEMU (-kernel/-initrd: the
guest is right), then as a boot-time VM of Keel on AMD-V (QEMU) and on VT-x
(Bochs tigerlake)."""
import os
import random
import re

from bochs import Bochs
from rig import BUILD, Machine, TestFailure

GUEST = os.path.join(BUILD, "guests", "fwcfg.elf")
CPUS = 2
RAM_MIB = 32


def module(name):
    """A module of random bytes, its FNV-1a hash and a random tag for its command line."""
    rng = random.Random()
    data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(3000, 9000)))
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xffffffff
    d = os.path.join(BUILD, "tests", "compat_platform_modules")  # Machine empties its own dir
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name + ".mod")
    with open(path, "wb") as f:
        f.write(data)
    tag = "0x%x" % rng.getrandbits(32)
    cmdline = "cpus=%d ram=%d modlen=%d modsum=0x%x modtag=%s" % (CPUS, RAM_MIB, len(data), h, tag)
    return path, tag, cmdline


def keel_cfg(tag, cmdline):
    return "\n".join([
        "debug_exit_port = 0xf4",
        "vm.fwcfg.kernel = guests/fwcfg.elf",
        "vm.fwcfg.initrd = guests/fwcfg.mod tag-%s" % tag,
        "vm.fwcfg.cmdline = %s" % cmdline,
        "vm.fwcfg.memory = %dM" % RAM_MIB,
        "vm.fwcfg.vcpus = %d" % CPUS,
        "vm.fwcfg.testdev = on",
    ]) + "\n"


def problems(log, prefix, tag):
    found = []
    if not re.search(r"%sPASS fwcfg\b" % prefix, log):
        fail = re.search(r"%s(FAIL fwcfg.*)" % prefix, log)
        found.append(fail.group(1) if fail else "no PASS fwcfg")
    if not re.search(r"%smodule 0: \d+ bytes at [0-9a-f]+, command line '\S*\.mod tag-%s'"
                     % (prefix, tag), log):
        found.append("the guest did not report module 0 with its command line")
    if not re.search(r"%sRSDP rev \d -> [RX]SDT -> MADT: %d CPUs" % (prefix, CPUS), log):
        found.append("the guest did not reach a MADT of %d CPUs" % CPUS)
    return found


def test_guest_passes_on_bare_qemu():
    """QEMU itself boots the guest with -kernel, -initrd (module and its arguments), -append."""
    path, tag, cmdline = module("compat_platform_qemu")
    direct = (GUEST, "%s tag-%s" % (path, tag), cmdline)
    with Machine("compat_platform_qemu", None, smp=CPUS, mem="%dM" % RAM_MIB, timeout=60,
                 direct=direct) as m:
        rc = m.wait_exit(55)
        found = problems(m.text(), "", tag)
        if rc != 1:  # isa-debug-exit: status 0 -> 1
            found.append("exit status %d" % rc)
        if found:
            raise TestFailure("; ".join(found) + "\nserial log: %s\n%s" % (m.serial_log, m.tail()))


def test_amdv_boot_vm():
    """Keel on AMD-V under QEMU, the guest a boot-time VM with vm.fwcfg.initrd."""
    path, tag, cmdline = module("compat_platform_amdv")
    files = {"guests/fwcfg.elf": GUEST, "guests/fwcfg.mod": path}
    with Machine("compat_platform_amdv", keel_cfg(tag, cmdline), files, smp=2, timeout=180) as m:
        m.expect(r"all VMs have stopped|PANIC|EXCEPTION", timeout=170)
        found = problems(m.text(), r"vm fwcfg: ", tag)
        if found:
            raise TestFailure("; ".join(found) + "\nserial log: %s\n%s" % (m.serial_log, m.tail()))


def test_vtx_boot_vm():
    """Keel on VT-x under Bochs (tigerlake), the same boot-time VM."""
    path, tag, cmdline = module("compat_platform_vtx")
    files = {"guests/fwcfg.elf": GUEST, "guests/fwcfg.mod": path}
    with Bochs("compat_platform_vtx", keel_cfg(tag, cmdline), files, cpus=2,
               model="tigerlake", timeout=280) as b:
        b.expect(r"all VMs have stopped|PANIC on CPU|EXCEPTION")
        found = problems(b.text(), r"vm fwcfg: ", tag)
        if found:
            raise TestFailure("; ".join(found) + "\nlogs in %s\n%s" % (b.dir, b.tail()))
