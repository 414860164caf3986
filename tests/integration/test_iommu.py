# SPDX-License-Identifier: MIT
"""The IOMMU: with QEMU's intel-iommu (q35, the SVM CPU model) Keel turns VT-d DMA remapping on,
the service VM's functions are in a domain that maps its RAM and nothing else, and its NVMe,
e1000e and virtio-net (iommu_platform=on) still work through it; the monitor's `iommu` lists
the unit, the domain, its devices and no faults. Then the service VM takes the NVMe from its
driver and makes it DMA into Keel's code: the write does not land (Keel's code checksum is
the same) and the fault is logged with the device and the address; the unit's registers are
out of its reach. Interrupt remapping is on: every device's MSI/MSI-X and the I/O APIC's
console pin go through entries Keel owns, and the NVMe's DMA of a remappable-format MSI
naming an entry Keel never gave out, or one past the table, is refused (QEMU 7.2 records no
interrupt-remapping faults, so its own error lines are the proof; its DMA carries no requester
id, so the source-id check cannot be tried by DMA here). The same DMA confinement with QEMU's
amd-iommu and Keel's AMD-Vi driver, but for the fault's log line (QEMU 7.2 writes no AMD-Vi
event log), and its interrupt remapping (intremap=on): a table per device id, and a forged MSI
naming an entry never given is refused. `iommu = required` on a
machine without an IOMMU keeps the service VM from starting."""
import hashlib
import os
import re
import time

from guestctl import Console, monitor, ok
from rig import BUILD, Machine, TestFailure, check, kernel_path

MiB = 1 << 20
CFG = ("service.kernel = vmlinuz\nservice.initrd = initrd.img\nservice.cmdline = console=ttyS0\n"
       "service.memory = 768M\nservice.vcpus = 2\n")
VTD_BASE = 0xFED90000  # QEMU's intel-iommu register block (DMAR)
AMDVI_BASE = 0xFED80000  # QEMU's amd-iommu register block (IVRS)



def pci_of(m, driver):
    """The PCI addresses ("0000:00:04.0") the service VM's driver is bound to."""
    return re.findall(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]",
                      m.shell("ls /sys/bus/pci/drivers/%s/" % driver))


def sha256_of(m, command, timeout=60):
    """The digest a sha256sum in the service VM printed; a kernel message may come before it."""
    found = re.search(r"\b[0-9a-f]{64}\b", m.shell(command, timeout=timeout))
    check(found, "no digest from %r" % command, m)
    return found.group(0)


def keel_text(m):
    """(start, end, crc32) of Keel's code, from the monitor's `mem`."""
    found = re.search(r"keel text: ([0-9a-f]+)-([0-9a-f]+), crc32 ([0-9a-f]{8})", monitor(m, "mem"))
    check(found, "no 'keel text' line from the monitor's mem", m)
    return int(found.group(1), 16), int(found.group(2), 16), found.group(3)


def registers_out_of_reach(m, status=VTD_BASE + 0x1c, command=VTD_BASE + 0x18):
    """The service VM reads the unit's status register (VT-d's by default) as all ones, and its
    write of the register that turns translation off is dropped: both logged."""
    mark = m.mark()
    out = re.sub(r"keel: [^\n]*\n?", "", m.shell("physmem %#x 4 2>&1" % status)).strip()
    check(out == "0xffffffff", "the service VM read the IOMMU's status as %r" % out, m)
    m.expect(r"keel: vm service: 4-byte read at %x, which is not its own: reads as all ones" % (
        status), timeout=10, start=mark)
    mark = m.mark()
    m.shell("physmem %#x 4 0 2>&1" % command)
    m.expect(r"keel: vm service: 4-byte write at %x, which is not its own: dropped" % (
        command), timeout=10, start=mark)


def dma_into_keel(m, nvme):
    """The NVMe, taken from its driver, writes an Identify page at the start of Keel's code."""
    start, _, crc = keel_text(m)
    target = start & ~0xfff
    mark = m.mark()
    out = m.shell("nvmedma %s %#x" % (nvme, target), timeout=60)
    check("nvmedma: identify to" in out, "nvmedma did not run: %r" % out, m)
    m.expect(r"keel: iommu: DMA fault: %s \(service\) write to %#x: write not allowed" % (
        re.escape(nvme), target), timeout=20, start=mark)
    check(keel_text(m)[2] == crc, "Keel's code changed: the DMA landed", m)
    check(m.shell("echo still-here") == "still-here", "the service VM does not answer", m)
    out = monitor(m, "iommu")
    dom = re.search(r"domain \d+ \(service\): \d+ MiB mapped, \d+ table pages, (\d+) faults", out)
    check(dom and int(dom.group(1)) >= 1, "the fault is not counted for the service VM:\n" + out, m)
    check(re.search(r"%s write to %#x: write not allowed" % (re.escape(nvme), target), out),
          "the monitor does not list the fault:\n" + out, m)


def fault_interrupts(m):
    """The fault interrupts Keel took (no polling: the boot line says the faults are read on it)."""
    m.expect(r"keel: iommu: VT-d faults read on their interrupt \(vector 0x[0-9a-f]+, CPU apic \d+\)",
             timeout=1, start=0)
    out = monitor(m, "iommu")
    found = re.search(r"faults read on their interrupt: vector 0x[0-9a-f]+, (\d+) interrupts", out)
    check(found, "the monitor does not say faults come by interrupt:\n" + out, m)
    return int(found.group(1))


DMATARGET = os.path.join(BUILD, "guests", "dmatarget.elf")


def guest_hpa(m, name, gpa):
    """The host-physical address of a guest's gpa, from the RAM runs the monitor's vms lists."""
    out = monitor(m, "vms")
    block = re.search(r"^ +\d+ %s .*\n((?: {4}.*\n)*)" % re.escape(name), out, re.M)
    check(block, "the monitor's vms does not list %s:\n%s" % (name, out), m)
    for start, end, at in re.findall(r"ram 0x([0-9a-f]+)-0x([0-9a-f]+) at 0x([0-9a-f]+)", block.group(1)):
        if int(start, 16) <= gpa <= int(end, 16):
            return int(at, 16) + gpa - int(start, 16)
    raise TestFailure("the monitor's vms gives no RAM of %s at %#x:\n%s" % (name, gpa, out))


def dma_into_guest(m, nvme, logged=True):
    """A running guest fills a page with a pattern; its RAM is in a domain of its own, and the
    monitor's vms says where that page is in host memory. The NVMe, taken from its driver, writes
    an Identify page there: the guest re-reads its pattern intact, the fault names the NVMe and
    the address (unless not `logged`: QEMU 7.2's amd-iommu writes no event log), the guest and
    the service VM go on. Destroyed, the guest's domain is gone."""
    ok(m, "create dmag --mem 16M --vcpus 1 --kernel /mnt/keel/guests/dmatarget.elf")
    ok(m, "start dmag")
    mark = m.mark()
    with Console(m, "dmag"):
        gpa = int(m.expect(r"dmatarget: pattern at (0x[0-9a-f]+)", timeout=30, start=mark).group(1), 16)
    out = monitor(m, "iommu")
    check(re.search(r"domain \d+ \(dmag\): 16 MiB mapped, [1-9]\d* table pages, 0 faults", out),
          "no domain mapping the guest's 16 MiB:\n" + out, m)
    hpa = guest_hpa(m, "dmag", gpa)
    mark = m.mark()
    out = m.shell("nvmedma %s %#x" % (nvme, hpa), timeout=60)
    check("nvmedma: identify to %#x" % hpa in out, "nvmedma did not run: %r" % out, m)
    if logged:
        m.expect(r"keel: iommu: DMA fault: %s \(service\) write to %#x: " % (re.escape(nvme), hpa),
                 timeout=20, start=mark)
    with Console(m, "dmag"):
        mark = m.mark()
        m.send("x")
        found = m.expect(r"dmatarget: check \d+: ([^\r\n]*)", timeout=20, start=mark)
    check(found.group(1) == b"pattern intact", "the guest's page changed: %r" % found.group(0), m)
    check(m.shell("echo still-here") == "still-here", "the service VM does not answer", m)
    mark = m.mark()
    ok(m, "destroy dmag", timeout=60)
    m.expect(r"keel: vm dmag: memory returned to the pool", timeout=30, start=mark)
    out = monitor(m, "iommu")
    check("(dmag)" not in out, "the destroyed guest's domain is still listed:\n" + out, m)


def remappable_msi(index):
    """VT-d 4.1 5.1.5.2: the address of a remappable-format MSI naming entry `index` (SHV 0)."""
    return 0xFEE00000 | (index & 0x7FFF) << 5 | 0x10 | (index >> 15 & 1) << 2


def qemu_stderr(m):
    with open(m.stderr.name, "rb") as f:
        return f.read().decode(errors="replace")


def remap_entries(m, out):
    """{index: "bb:dd.f"} of the remapping entries the monitor's iommu lists."""
    check(re.search(r"interrupt remapping on: \d+ of 256 entries, 8-bit destinations, requester "
                    r"ids verified, compatibility format blocked", out),
          "the monitor does not say interrupt remapping is on:\n" + out, m)
    return {int(i): sid for i, sid in
            re.findall(r"entry (\d+): ([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) vector 0x[0-9a-f]+ -> apic \d+",
                       out)}


def unbound_entries_freed(m, nvme):
    """The NVMe, taken from its driver (its MSI-X entries masked), holds no remapping entry."""
    entries = remap_entries(m, monitor(m, "iommu"))
    check(entries and nvme[-7:] not in entries.values(),
          "%s still holds remapping entries after its driver let it go: %s" % (nvme, entries), m)


def forged_msi(m, nvme, devices):
    """The NVMe, taken from its driver, writes a remappable-format MSI naming an entry Keel gave
    no one, then one past the table: QEMU's remapping refuses both (its error lines), Keel and
    the service VM go on."""
    entries = remap_entries(m, monitor(m, "iommu"))
    for dev in devices + ["ff:00.0"]:  # the I/O APIC (q35's DMAR scope: ff:00.0), for the console
        check(dev[-7:] in entries.values(), "no remapping entry for %s: %s" % (dev, entries), m)
    free = max(i for i in range(256) if i not in entries)
    for index, qemu_says in ((free, r"vtd_irte_get: detected non-present IRTE \(index=%d," % free),
                             (0x1000, r"vtd_irte_get: index too large: ind=0x1000")):
        check(not re.search(qemu_says, qemu_stderr(m)), "QEMU refused an interrupt before", m)
        out = m.shell("nvmedma %s %#x dword" % (nvme, remappable_msi(index)), timeout=60)
        check("nvmedma: dword to" in out, "nvmedma did not run: %r" % out, m)
        for _ in range(20):
            if re.search(qemu_says, qemu_stderr(m)):
                break
            time.sleep(0.5)
        check(re.search(qemu_says, qemu_stderr(m)),
              "QEMU's interrupt remapping did not refuse entry %d:\n%s" % (index, qemu_stderr(m)), m)
    check(m.shell("echo still-here") == "still-here", "the service VM does not answer", m)


def nvme_back(m, nvme, first_mib):
    """The NVMe, given back to its driver after the attacks, reads its first MiB (its interrupts
    through its remapping entries again)."""
    m.shell("echo %s > /sys/bus/pci/drivers/nvme/bind" % nvme, timeout=60)
    for _ in range(30):
        if m.shell("ls /dev/nvme0n1 2>/dev/null") == "/dev/nvme0n1":
            break
        time.sleep(1)
    got = m.shell("dd if=/dev/nvme0n1 bs=1M count=1 2>/dev/null | sha256sum", timeout=120).split()[0]
    check(got == hashlib.sha256(first_mib).hexdigest(), "the NVMe back with its driver reads wrong", m)


def nic_works(m, mac, addr):
    """The NIC with this MAC pings QEMU's user-mode gateway: DMA both ways and its interrupts."""
    dev = None
    for line in m.shell("for i in /sys/class/net/eth*; do echo ${i##*/} $(cat $i/address); done").splitlines():
        name, a = line.split()
        if a == mac:
            dev = name
    check(dev, "no interface with MAC %s" % mac, m)
    m.shell("ip addr add %s/24 dev %s; ip link set %s up" % (addr, dev, dev))
    for _ in range(30):
        if m.shell("cat /sys/class/net/%s/carrier" % dev) == "1":
            break
        time.sleep(1)
    gw = addr.rsplit(".", 1)[0] + ".2"
    out = m.shell("ping -c 5 -i 0.3 -W 3 -I %s %s" % (dev, gw), timeout=60)
    check(" 0% packet loss" in out, "%s (%s) cannot ping %s:\n%s" % (dev, mac, gw, out), m)


def service_devices(image, iommu):
    """The IOMMU first (QEMU's PCI devices take their DMA address space when they are created),
    then an NVMe with the image, an e1000e and a virtio-net that uses the IOMMU."""
    return ["-device", iommu,
            "-drive", "if=none,id=nv,format=raw,file=" + image, "-device", "nvme,drive=nv,serial=kio1",
            "-netdev", "user,id=n0,net=10.0.2.0/24", "-device", "e1000e,netdev=n0,mac=52:54:00:12:35:01",
            "-netdev", "user,id=n1,net=10.0.3.0/24",
            "-device", "virtio-net-pci,netdev=n1,mac=52:54:00:12:35:02,iommu_platform=on,disable-legacy=on"]


def nvme_image(name):
    """A 16 MiB image of random bytes for the NVMe, and those bytes."""
    image = os.path.join(BUILD, "tests", name)
    os.makedirs(os.path.dirname(image), exist_ok=True)
    data = os.urandom(16 * MiB)
    with open(image, "wb") as f:
        f.write(data)
    return image, data


def devices_work(m, data):
    """Through the IOMMU: the NVMe reads back its image and takes a 4 MiB write, both NICs ping.
    Returns the written data's SHA-256 and the NVMe's PCI address."""
    m.expect(r"Keel service VM: .* up", timeout=300)
    m.expect(r"/ # ", timeout=30)
    time.sleep(1)
    got = sha256_of(m, "dd if=/dev/nvme0n1 bs=1M count=16 2>/dev/null | sha256sum", timeout=200)
    check(got == hashlib.sha256(data).hexdigest(), "NVMe data read through the IOMMU differs", m)
    m.shell("dd if=/dev/urandom of=/tmp/w bs=1M count=4 2>/dev/null")
    wrote = sha256_of(m, "sha256sum /tmp/w")
    m.shell("dd if=/tmp/w of=/dev/nvme0n1 bs=1M seek=8 conv=fsync 2>/dev/null; sync", timeout=200)
    nic_works(m, "52:54:00:12:35:01", "10.0.2.15")
    nic_works(m, "52:54:00:12:35:02", "10.0.3.15")
    nvme = pci_of(m, "nvme")
    check(len(nvme) == 1, "the NVMe's driver is bound to %s" % nvme, m)
    return wrote, nvme


def service_domain(m, out, nvme):
    """The monitor's iommu listing: one service domain of 768 MiB holding the NVMe, no faults."""
    dom = re.search(r"domain (\d+) \(service\): (\d+) MiB mapped", out)
    check(dom and int(dom.group(2)) == 768, "no service domain mapping its 768 MiB:\n" + out, m)
    check(nvme in out, "the NVMe %s is not in a domain:\n%s" % (nvme, out), m)
    check(re.search(r"\b0 DMA faults in all", out), "DMA faults while the devices worked:\n" + out, m)


def image_holds(image, wrote):
    with open(image, "rb") as f:
        f.seek(8 * MiB)
        if hashlib.sha256(f.read(4 * MiB)).hexdigest() != wrote:
            raise TestFailure("the 4 MiB the service VM wrote through the IOMMU are not in the image")


# Two root ports (bus-reserve=0: no spare bus numbers, so the firmware gives them buses 1 and 2):
# behind the first a function keel.cfg keeps from the service VM, behind the second one of its
# own with an ATS capability (QEMU's virtio-pci offers one behind a PCIe port with ats=on).
BRIDGE_PORT, BRIDGE_HIDDEN, ATS_FN = "00:10.0", "01:00.0", "02:00.0"
BRIDGE_DEVICES = ["-device", "pcie-root-port,id=kport1,chassis=31,addr=0x10,bus-reserve=0",
                  "-device", "virtio-rng-pci,bus=kport1",
                  "-device", "pcie-root-port,id=kport2,chassis=32,addr=0x11,bus-reserve=0",
                  "-device", "virtio-rng-pci,bus=kport2,ats=on"]
BRIDGE_CFG = "pci.reserve = %s\n" % BRIDGE_HIDDEN


def bridge_and_ats_refused(m):
    """The service VM renumbers the root port above the reserved function, moves its memory
    window and sets secondary bus reset, then sets ATS enable on its own function: each reads
    back unchanged, Keel logs each refusal, and the monitor lists the function behind as before."""
    listed = [l for l in monitor(m, "pci").splitlines() if BRIDGE_HIDDEN in l]
    check(len(listed) == 1 and "reserved" in listed[0], "the monitor does not list %s as reserved:"
          " %s" % (BRIDGE_HIDDEN, listed), m)
    port, fn = "/sys/bus/pci/devices/0000:%s/config" % BRIDGE_PORT, "/sys/bus/pci/devices/0000:%s/config" % ATS_FN

    def read(config, off, n):
        return [int(x, 16) for x in m.shell("od -An -tx4 -v -j%d -N%d %s" % (off, 4 * n, config)).split()]

    def write(config, off, val, width):
        m.shell("printf '%s' | dd of=%s bs=%d seek=%d count=1 conv=notrunc 2>/dev/null" % (
            "".join("\\x%02x" % ((val >> (8 * i)) & 0xff) for i in range(width)), config, width,
            off // width))
    before = read(port, 0x18, 10)  # bus numbers .. bridge control
    check(before[0] & 0xffffff == 0x010100, "%s's bus numbers are %#x" % (BRIDGE_PORT, before[0]), m)
    mark = m.mark()
    write(port, 0x18, before[0] & ~0xffff00 | 0x050500, 4)  # secondary and subordinate bus 5
    write(port, 0x20, 0x0010_0000, 4)  # memory window 0-0x1fffff
    write(port, 0x3e, (before[9] >> 16 & 0xff) | 1 << 6, 1)  # secondary bus reset, the rest as was
    after = read(port, 0x18, 10)
    check(after == before, "%s reads %s after the writes, %s before" % (
        BRIDGE_PORT, [hex(x) for x in after], [hex(x) for x in before]), m)
    for reg, why in (("secondary bus number", "which requester ids depend on"),
                     ("subordinate bus number", "which requester ids depend on"),
                     ("memory window", "above %s, which is not its" % BRIDGE_HIDDEN),
                     ("secondary bus reset", "above %s, which is not its" % BRIDGE_HIDDEN)):
        m.expect(r"keel: pci %s: the service VM changed the %s, %s: write refused" % (
            BRIDGE_PORT, reg, why), timeout=10, start=mark)
    check([l for l in monitor(m, "pci").splitlines() if BRIDGE_HIDDEN in l] == listed,
          "the monitor's listing of %s changed" % BRIDGE_HIDDEN, m)
    ext = read(fn, 0x100, 64)  # PCIe 5.0 7.6.3: the extended capabilities from 0x100
    off, ats = 0x100, None
    while 0x100 <= off < 0x200 and ext[(off - 0x100) // 4] not in (0, 0xffffffff):
        if ext[(off - 0x100) // 4] & 0xffff == 0x0f:
            ats = off
            break
        off = ext[(off - 0x100) // 4] >> 20 & 0xffc
    check(ats, "%s shows no ATS capability: %s" % (ATS_FN, [hex(x) for x in ext[:8]]), m)
    mark = m.mark()
    write(fn, ats + 6, 0x8000, 2)  # ATS control: Enable (10.5.1.3)
    ctrl = read(fn, ats + 4, 1)[0] >> 16
    check(not ctrl & 0x8000, "ATS enable reads back set on %s: %#x" % (ATS_FN, ctrl), m)
    m.expect(r"keel: pci %s: the service VM changed the ATS enable, which Keel does not offer: "
             r"write refused" % ATS_FN, timeout=10, start=mark)


def test_vtd_service_vm():
    image, data = nvme_image("iommu-nvme.img")
    extra = service_devices(image, "intel-iommu,intremap=on") + BRIDGE_DEVICES
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img"),
             "guests/dmatarget.elf": DMATARGET}
    with Machine("iommu_vtd", CFG + BRIDGE_CFG, files, smp=2, timeout=600, extra=extra) as m:
        m.expect(r"keel: iommu: VT-d unit at %#x: .*: DMA remapping on" % VTD_BASE, timeout=120)
        wrote, nvme = devices_work(m, data)
        out = monitor(m, "iommu")
        check(re.search(r"VT-d unit 0 at %#x, .*translation on, queued invalidation on" % VTD_BASE, out),
              "the monitor lists no VT-d unit with translation on:\n" + out, m)
        service_domain(m, out, nvme[0])
        registers_out_of_reach(m)
        bridge_and_ats_refused(m)
        irqs = fault_interrupts(m)
        dma_into_keel(m, nvme[0])  # translation still on: this DMA faults
        check(fault_interrupts(m) > irqs, "the fault was logged without a fault interrupt", m)
        dma_into_guest(m, nvme[0])
        unbound_entries_freed(m, nvme[0])
        forged_msi(m, nvme[0], pci_of(m, "e1000e"))
        nic_works(m, "52:54:00:12:35:01", "10.0.2.15")  # their interrupts still come
        nic_works(m, "52:54:00:12:35:02", "10.0.3.15")
        nvme_back(m, nvme[0], data[:MiB])
        m.send("poweroff -f\n")
        check(m.wait_exit(60) == 0, "no power-off", m)
    image_holds(image, wrote)


def dma_into_keel_amdvi(m, nvme):
    """The NVMe, taken from its driver, writes an Identify page at the start of Keel's code: Keel's
    code is unchanged. QEMU 7.2.22's amd-iommu logs no event for it (its event log never writes
    an entry: amdvi_log_event tests the overflow bit with | for &; and its walk reports no fault
    for an entry that is not present), so the fault log is checked by tests/unit/iommu/test_amd.c;
    QEMU's NVMe also completes the command with status 0, the VT-d run's too."""
    start, _, crc = keel_text(m)
    target = start & ~0xfff
    out = m.shell("nvmedma %s %#x" % (nvme, target), timeout=60)
    check("nvmedma: identify to %#x" % target in out, "nvmedma did not run: %r" % out, m)
    check(keel_text(m)[2] == crc, "Keel's code changed: the DMA landed", m)
    check(m.shell("echo still-here") == "still-here", "the service VM does not answer", m)


def forged_msi_amdvi(m, nvme, devices):
    """AMD-Vi remaps by a table per device id, the entry named by the MSI data's bits 10:0 (an
    entry's index is its vector, so indices below 32 are never given). The monitor lists entries
    for the devices and the I/O APIC (its IVRS device id 00:14.0, for the console), none for the
    NVMe its driver let go (freed on MSI-X mask). The NVMe, taken from its driver, writes 0 (the
    Error Information log's first dword) to 0xFEE00000: entry 0, which Keel gave no one. QEMU
    7.2's DMA carries no requester id, so amd-iommu looks it up in the I/O APIC's table (its
    default devid 0xa0) and refuses it: its one-time "failed to remap interrupt" line, after the
    write, is the proof (it records no event)."""
    out = monitor(m, "iommu")
    check(re.search(r"interrupt remapping on: \d+ entries in \d+ device ids' tables of 256, 8-bit "
                    r"destinations, requester ids verified, other device ids' interrupts aborted", out),
          "the monitor does not say AMD-Vi interrupt remapping is on:\n" + out, m)
    entries = re.findall(r"entry (\d+): ([0-9a-f]{2}:[0-9a-f]{2}\.[0-7])( \(I/O APIC \d+\))? "
                         r"vector 0x([0-9a-f]+) -> apic \d+", out)
    for dev in devices + ["00:14.0"]:
        check(any(e[1] == dev[-7:] for e in entries), "no remapping entry for %s:\n%s" % (dev, out), m)
    check(not any(e[1] == nvme[-7:] for e in entries),
          "%s still holds remapping entries after its driver let it go:\n%s" % (nvme, out), m)
    check(all(int(e[0]) == int(e[3], 16) >= 32 for e in entries), "an entry not at its vector:\n" + out, m)
    refused = "failed to remap interrupt from devid 0xa0"
    check("failed to remap interrupt" not in qemu_stderr(m), "QEMU refused an interrupt before:\n"
          + qemu_stderr(m), m)
    mark = len(qemu_stderr(m))
    out = m.shell("nvmedma %s 0xfee00000 dword 1" % nvme, timeout=60)
    check("nvmedma: dword to 0xfee00000" in out, "nvmedma did not run: %r" % out, m)
    for _ in range(20):
        if refused in qemu_stderr(m)[mark:]:
            break
        time.sleep(0.5)
    check(refused in qemu_stderr(m)[mark:],
          "QEMU's interrupt remapping did not refuse entry 0:\n%s" % qemu_stderr(m)[mark:], m)
    check(m.shell("echo still-here") == "still-here", "the service VM does not answer", m)


def test_amdvi_service_vm():
    """The same with QEMU's amd-iommu: Keel's AMD-Vi driver confines the service VM's devices."""
    image, data = nvme_image("iommu-amdvi-nvme.img")
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img"),
             "guests/dmatarget.elf": DMATARGET}
    with Machine("iommu_amdvi", CFG + BRIDGE_CFG, files, smp=2, timeout=600,
                 extra=service_devices(image, "amd-iommu,intremap=on") + BRIDGE_DEVICES) as m:
        m.expect(r"keel: iommu: AMD-Vi unit at %#x \(00:[0-9a-f]{2}\.0\), .*: DMA remapping on"
                 % AMDVI_BASE, timeout=120)
        m.expect(r"keel: iommu: AMD-Vi interrupt remapping on: a table of 256 entries per device id",
                 timeout=10)
        wrote, nvme = devices_work(m, data)
        out = monitor(m, "iommu")
        check(re.search(r"AMD-Vi unit 0 at %#x, .*translation on, command buffer on, event log on"
                        % AMDVI_BASE, out), "the monitor lists no AMD-Vi unit with translation on:\n" + out, m)
        service_domain(m, out, nvme[0])
        registers_out_of_reach(m, AMDVI_BASE + 0x2020, AMDVI_BASE + 0x18)  # status, control
        bridge_and_ats_refused(m)
        dma_into_keel_amdvi(m, nvme[0])  # translation still on: this DMA is refused
        forged_msi_amdvi(m, nvme[0], pci_of(m, "e1000e"))
        dma_into_guest(m, nvme[0], logged=False)
        out = monitor(m, "iommu")
        check(re.search(r"AMD-Vi unit 0 at %#x, .*translation on, command buffer on" % AMDVI_BASE, out),
              "the AMD-Vi unit is not on after the attack:\n" + out, m)
        m.send("poweroff -f\n")
        check(m.wait_exit(60) == 0, "no power-off", m)
    image_holds(image, wrote)


def test_required_without_an_iommu():
    """`iommu = required` on a machine without an IOMMU: Keel says DMA would be unconfined and
    does not start the service VM."""
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img")}
    with Machine("iommu_required", CFG + "iommu = required\n", files, smp=1, timeout=180) as m:
        m.expect(r"keel: iommu: no IOMMU described \(no DMAR or IVRS table\): device DMA is "
                 r"unconfined", timeout=120)
        m.expect(r"keel: service VM: not started: keel.cfg says iommu = required, and there is "
                 r"no usable IOMMU", timeout=60)
        time.sleep(3)
        check("Linux version" not in m.text(), "the service VM started anyway", m)
