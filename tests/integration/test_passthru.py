# SPDX-License-Identifier: MIT
"""The service VM drives the machine's storage and NICs with its own Linux
drivers: an NVMe disk (read back what the test wrote into the image; what it
writes is in the image after power-off) and an e1000e and a virtio-net NIC,
each on a TAP device in a network namespace this test makes (ping without
loss, 64 MiB each way with a checksum); interrupts keep flowing under load
on the vCPUs Linux chose. Traffic never leaves that namespace."""
import hashlib
import os
import re
import time

from netns import NetNS
from rig import BUILD, Machine, TestFailure, check, kernel_path

MiB = 1 << 20
NICS = [  # (driver, TAP, host address, guest address, MAC)
    ("e1000e", "ktap0", "10.77.1.1", "10.77.1.2", "52:54:00:12:34:01"),
    ("virtio_net", "ktap1", "10.77.2.1", "10.77.2.2", "52:54:00:12:34:02"),
]
XFER = 64 * MiB
CFG = ("service.kernel = vmlinuz\nservice.initrd = initrd.img\nservice.cmdline = console=ttyS0\n"
       "service.memory = 1G\nservice.vcpus = 2\n")


def machine(name, disk):
    files = {"vmlinuz": kernel_path(), "initrd.img": os.path.join(BUILD, "service-initrd.img")}
    extra = ["-drive", "if=none,id=nv,format=raw,file=" + disk, "-device", "nvme,drive=nv,serial=keel1"]
    for i, (drv, tap, _, _, mac) in enumerate(NICS):
        model = "e1000e" if drv == "e1000e" else "virtio-net-pci"
        extra += ["-netdev", "tap,id=n%d,ifname=%s,script=no,downscript=no" % (i, tap),
                  "-device", "%s,netdev=n%d,mac=%s" % (model, i, mac)]
    return Machine(name, CFG, files, smp=2, timeout=900, extra=extra)


def boot(m):
    m.expect(r"Keel service VM: .* up", timeout=300)
    m.expect(r"/ # ", timeout=30)
    time.sleep(1)


def iface_of(m, mac):
    for line in m.shell("for i in /sys/class/net/eth*; do echo ${i##*/} $(cat $i/address); done").splitlines():
        name, addr = line.split()
        if addr == mac:
            return name
    raise TestFailure("no interface with MAC %s" % mac)


def interrupts(m):
    """{irq name: [count per CPU]} from /proc/interrupts."""
    out = {}
    for line in m.shell("cat /proc/interrupts").splitlines()[1:]:
        f = line.split()
        if len(f) >= 4 and f[0].rstrip(":").isdigit():
            out[f[-1]] = [int(x) for x in f[1:3]]
    return out


def check_disk(m, image):
    want = hashlib.sha256(open(image, "rb").read(32 * MiB)).hexdigest()
    got = m.shell("dd if=/dev/nvme0n1 bs=1M count=32 2>/dev/null | sha256sum", timeout=300).split()[0]
    check(got == want, "NVMe data read back differs: %s vs %s" % (got, want), m)
    m.shell("dd if=/dev/urandom of=/tmp/w bs=1M count=8 2>/dev/null")
    wrote = m.shell("sha256sum /tmp/w").split()[0]
    m.shell("dd if=/tmp/w of=/dev/nvme0n1 bs=1M seek=40 conv=fsync 2>/dev/null; sync", timeout=300)
    return wrote


def check_nic(m, ns, out, nic, port):
    drv, tap, host, guest, mac = nic
    dev = iface_of(m, mac)
    check(os.path.basename(m.shell("readlink /sys/class/net/%s/device/driver" % dev)) == drv.replace("_", "-")
          or drv in m.shell("readlink /sys/class/net/%s/device/driver" % dev), "%s is not driven by %s" % (dev, drv), m)
    m.shell("ip addr add %s/24 dev %s; ip link set %s up" % (guest, dev, dev))
    for _ in range(30):
        if m.shell("cat /sys/class/net/%s/carrier" % dev) == "1":
            break
        time.sleep(1)
    ping = m.shell("ping -c 20 -i 0.2 -W 2 %s" % host, timeout=120)
    check(" 0% packet loss" in ping, "%s: ping lost packets:\n%s" % (drv, ping), m)
    got = m.shell("nc %s %d > /tmp/dl; wc -c < /tmp/dl; sha256sum /tmp/dl; rm /tmp/dl"
                  % (host, port), timeout=600).split()
    sent = open(os.path.join(out, "sent-%d" % port)).read().split()[0]
    check(len(got) >= 2 and got[1] == sent, "%s: 64 MiB download differs: %s bytes, sha256 %s" % (
        drv, got[0] if got else "no", got[1] if len(got) > 1 else "none"), m)
    up = m.shell("dd if=/dev/urandom of=/tmp/up bs=1M count=64 2>/dev/null; sha256sum /tmp/up; "
                 "nc %s %d < /tmp/up" % (host, port + 1), timeout=600).split()[0]
    for _ in range(60):
        if os.path.exists(os.path.join(out, "received-%d" % (port + 1))):
            break
        time.sleep(1)
    recv = open(os.path.join(out, "received-%d" % (port + 1))).read().split()
    check(recv == [up, str(XFER)], "%s: 64 MiB upload arrived as %s, sent %s" % (drv, recv, up), m)
    return dev


def check_load(m, ns, out, dev, host, port):
    """Disk reads and a 64 MiB download on the e1000e at once: the download arrives intact and
    over the e1000e (its receive counter grows by all of it), and the NVMe's I/O queues and the
    e1000e's own vectors (not the idle virtio NIC's) take interrupts, each on the CPUs its
    affinity allows."""
    rx_bytes = "cat /sys/class/net/%s/statistics/rx_bytes" % dev
    rx0 = int(m.shell(rx_bytes))
    before = interrupts(m)
    got = re.findall(r"\b[0-9a-f]{64}\b", m.shell(
        "(dd if=/dev/nvme0n1 of=/dev/null bs=64k count=512 2>/dev/null &); nc %s %d | sha256sum"
        % (host, port), timeout=600))
    m.shell("sleep 2")
    after = interrupts(m)
    sent = open(os.path.join(out, "sent-%d" % port)).read().split()[0]
    check(got and got[0] == sent, "the download under load differs: got %s, the peer sent %s" % (
        got, sent), m)
    rx = int(m.shell(rx_bytes)) - rx0
    check(rx >= XFER, "the e1000e (%s) received %d bytes during the %d-byte download" % (dev, rx, XFER), m)
    rising = [n for n in after if n in before and sum(after[n]) > sum(before[n])]
    nic = [n for n in rising if re.fullmatch(r"%s(-.*)?" % re.escape(dev), n)]
    check(any(n.startswith("nvme0q") and n != "nvme0q0" for n in rising), "NVMe I/O queues took no interrupts: %s" % rising, m)
    check(nic, "the e1000e (%s) took no interrupts under load; rising: %s" % (dev, rising), m)
    for name in [n for n in rising if n.startswith("nvme")] + nic:
        irq = m.shell("grep -w '%s$' /proc/interrupts | cut -d: -f1" % name).strip()
        cpus = m.shell("cat /proc/irq/%s/effective_affinity_list" % irq)
        grew = [c for c in range(2) if after[name][c] > before[name][c]]
        expected = {int(x) for x in re.findall(r"\d+", cpus)}
        check(set(grew) <= expected, "%s rose on CPUs %s, affinity %s" % (name, grew, cpus), m)


def test_storage_and_network():
    out = os.path.join(BUILD, "tests", "passthru")
    image = os.path.join(BUILD, "tests", "passthru-nvme.img")
    os.makedirs(os.path.dirname(image), exist_ok=True)
    with open(image, "wb") as f:
        f.write(os.urandom(64 * MiB))
    with NetNS("keelpt%d" % os.getpid(), [(n[1], n[2] + "/24") for n in NICS]) as ns:
        m = machine("passthru", image)
        m.command_prefix = ns.prefix()
        with m:
            os.makedirs(out, exist_ok=True)
            for f in os.listdir(out):
                if f.startswith(("sent-", "received-", "peer-")):
                    os.unlink(os.path.join(out, f))
            for i, nic in enumerate(NICS):
                ns.start_peer(nic[2], 5000 + 10 * i, XFER, out)
            boot(m)
            wrote = check_disk(m, image)
            devs = [check_nic(m, ns, out, nic, 5000 + 10 * i) for i, nic in enumerate(NICS)]
            ns.start_peer(NICS[0][2], 5100, XFER, out)
            time.sleep(1)
            check_load(m, ns, out, devs[0], NICS[0][2], 5100)
            m.send("poweroff -f\n")
            check(m.wait_exit(120) == 0, "no power-off", m)
    with open(image, "rb") as f:
        f.seek(40 * MiB)
        on_disk = hashlib.sha256(f.read(8 * MiB)).hexdigest()
    if on_disk != wrote:
        raise TestFailure("the 8 MiB the service VM wrote are not in the image after power-off")
