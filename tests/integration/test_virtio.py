# SPDX-License-Identifier: MIT
"""Guests with virtio devices served by keel-dm in the service VM, driven by the
stock Debian kernel's own virtio drivers: a 64 MiB pattern written to a virtio
disk is exactly in the backing file after the guest is gone and reads back in
another guest attached read-only; ext2 on a second disk; a shell on hvc0
through `keelctl console`; /dev/hwrng; two guests and the service VM on one
bridge (ping without loss, 64 MiB with a checksum); a guest on a bridge with the
service VM's passed-through NIC reaches the test's peer outside (ping, 16 MiB
each way with a checksum); a hostile driver's looping
descriptor chain puts its device in NEEDS_RESET while another guest's disk
transfer completes intact; a driver that ignores a read-only disk's flag has
each write refused with VIRTIO_BLK_S_IOERR and the file stays as it was; keel-dm killed while a guest's write waits on it is started
again by the service VM's init and the write completes intact."""
import hashlib
import os
import re
import time

from guestctl import GUEST_INITRD, GUEST_KERNEL, Console, boot, files, ok, refused, wait_info
from netns import NetNS
from rig import BUILD, Machine, check

MiB = 1 << 20
PATTERN_CMD = "yes keel-virtio-pattern | head -c %d" % (64 * MiB)
SMALL_CMD = "yes keel-virtio-pattern | head -c %d" % (16 * MiB)


def pattern_md5(size=64 * MiB):
    line = b"keel-virtio-pattern\n"
    data = line * (size // len(line) + 1)
    return hashlib.md5(data[:size]).hexdigest()


# One physical CPU: these guests do not need a second (tests/integration/test_guests.py runs
# guests on two), and one CPU keeps the heavy I/O fast under TCG.
SMP = 1


def cfg():
    return ("service.kernel = vmlinuz\nservice.initrd = initrd.img\nservice.cmdline = console=ttyS0\n"
            "service.memory = 1G\nservice.vcpus = 2\n")


def create(m, name, devices, mem="256M", console="hvc0"):
    out = ok(m, "create %s --mem %s --vcpus 1 --kernel %s --initrd %s --cmdline 'console=%s "
                "keel.name=%s' %s" % (name, mem, GUEST_KERNEL, GUEST_INITRD, console, name, devices))
    check("created %s" % name in out, "no 'created' from keelctl create: %r" % out, m)


def md5_in(con_or_m, cmd):
    out = con_or_m.run(cmd + " | md5sum", timeout=600) if hasattr(con_or_m, "run") else \
        con_or_m.shell(cmd + " | md5sum", timeout=600)
    found = re.search(r"\b([0-9a-f]{32})\b", out)
    return found.group(1) if found else out


def check_exit_counts(m, name):
    """keelctl exits after a guest's disk I/O: its reasons add up to at most the exits keelctl
    info counts afterwards, its disk's doorbells reached keel-dm, the guest's EOIs went to its
    local APIC; the service VM's answers to them went through the control device."""
    counts = {}
    for label, vm in ((name, name), ("service", "service")):
        out = ok(m, "exits " + vm)
        counts[label] = {g[1]: int(g[0]) for g in re.findall(r"^ *(\d+) (\S.*)$", out, re.M)}
    g, s = counts[name], counts["service"]
    total = int(re.search(r"^exits: +(\d+)$", ok(m, "info " + name), re.M).group(1))
    reasons = sum(n for k, n in g.items() if k.startswith("exit "))
    check(1000 <= reasons <= total, "%s's exit reasons add up to %d, keelctl info then counted %d: %r"
          % (name, reasons, total, g), m)
    check(g.get("keel-dm doorbell writes", 0) >= 64 and g.get("mmio local APIC", 0) > 0 and
          g.get("exit nested page fault", 0) >= g["keel-dm doorbell writes"],
          "%s's 64 MiB write shows no doorbells or EOIs: %r" % (name, g), m)
    check(s.get("control command DM_MSI", 0) > 0 and s.get("control read IRQ_STATUS", 0) > 0 and
          s.get("control command EXITS", 0) >= 2,
          "the service VM's control device counts show no keel-dm work: %r" % s, m)
    refused(m, "exits nosuch", r"exits: no VM called 'nosuch'")


def test_disk_console_rng():
    """A 64 MiB pattern through a virtio disk (a loop block device: O_DIRECT) into the backing
    file and back out read-only; ext2 on a second disk (a tmpfs file: the page cache); the shell
    on hvc0; /dev/hwrng."""
    with Machine("virtio_disk", cfg(), files(), smp=SMP, timeout=1800) as m:
        boot(m)
        m.shell("dd if=/dev/zero of=/tmp/d1.img bs=1M count=64 2>/dev/null; "
                "dd if=/dev/zero of=/tmp/d2.img bs=1M count=32 2>/dev/null")
        refused(m, "create bad --mem 128M --vcpus 1 --kernel %s --disk /tmp/missing.img" % GUEST_KERNEL,
                r"--disk /tmp/missing\.img: No such file or directory")
        check("bad" not in ok(m, "list"), "a refused create left a VM behind", m)
        m.shell("losetup /dev/loop0 /tmp/d1.img")
        create(m, "g1", "--disk /dev/loop0 --disk /tmp/d2.img --console virtio --rng")
        info = ok(m, "info g1")
        check(re.search(r"disk /dev/loop0 \(O_DIRECT\)", info) and
              re.search(r"disk /tmp/d2.img \(page cache\)", info) and re.search(r"rng", info),
              "keelctl info does not list g1's devices: %r" % info, m)
        ok(m, "start g1")
        with Console(m, "g1") as con:
            con.wait_shell(timeout=500)
            check(con.run("cat /sys/class/tty/console/active") == "hvc0",
                  "g1's console is not hvc0", m)
            out = con.run("%s | dd of=/dev/vda bs=1M iflag=fullblock conv=fsync 2>&1" % PATTERN_CMD, timeout=900)
            check("64+0 records out" in out, "write to vda: %r" % out, m)
            out = con.run("mke2fs -q /dev/vdb && mount -t ext2 /dev/vdb /mnt && echo ext2-works > "
                          "/mnt/f && umount /mnt && mount -t ext2 /dev/vdb /mnt && cat /mnt/f",
                          timeout=300)
            check(out.endswith("ext2-works"), "ext2 on vdb: %r" % out, m)
            con.run("umount /mnt")
            rng = con.run("cat /sys/class/misc/hw_random/rng_current")
            check(rng.startswith("virtio_rng"), "hw_random uses %r, not virtio_rng" % rng, m)
            a = con.run("head -c 32 /dev/hwrng | od -An -tx1 | tr -d ' \\n'")
            b = con.run("head -c 32 /dev/hwrng | od -An -tx1 | tr -d ' \\n'")
            check(len(a) == 64 and len(b) == 64 and a != b and a != "0" * 64,
                  "/dev/hwrng gave %r and %r" % (a, b), m)
        check_exit_counts(m, "g1")
        ok(m, "destroy g1")
        m.shell("losetup -d /dev/loop0")
        want = pattern_md5()
        got = md5_in(m, "head -c %d /tmp/d1.img" % (64 * MiB))
        check(got == want, "backing file holds %s, the pattern is %s" % (got, want), m)

        create(m, "g2", "--disk /tmp/d1.img,ro")
        ok(m, "start g2")
        with Console(m, "g2") as con:
            con.wait_shell(timeout=500)
            got = md5_in(con, "head -c %d /dev/vda" % (64 * MiB))
            check(got == want, "g2 reads %s from the read-only disk, the pattern is %s" % (got, want), m)
            out = con.run("echo x | dd of=/dev/vda conv=fsync 2>&1; echo rc=$?")
            check(not out.endswith("rc=0"), "writing a read-only disk succeeded: %r" % out, m)
        ok(m, "destroy g2")
        check(md5_in(m, "head -c %d /tmp/d1.img" % (64 * MiB)) == want,
              "the read-only guest changed the backing file", m)


def test_bridge_between_guests():
    """Two guests and the service VM on one bridge: ping without loss, 64 MiB with a checksum."""
    with Machine("virtio_net", cfg(), files(), smp=SMP, timeout=1800) as m:
        boot(m)
        m.shell("ip link add br0 type bridge && ip addr add 10.78.0.1/24 dev br0 && ip link set br0 up")
        refused(m, "create bad --mem 128M --vcpus 1 --kernel %s --net nosuchbr" % GUEST_KERNEL,
                r"--net nosuchbr: no bridge called 'nosuchbr'")
        check("bad" not in ok(m, "list"), "a refused create left a VM behind", m)
        for i, name in enumerate(("n1", "n2")):
            create(m, name, "--net br0", console="ttyS0")
            ok(m, "start " + name)
            with Console(m, name) as con:
                con.wait_shell(timeout=500)
                con.run("ip addr add 10.78.0.%d/24 dev eth0 && ip link set eth0 up" % (i + 2))
        with Console(m, "n1") as con:
            out = con.run("ping -c 10 -i 0.2 10.78.0.3", timeout=120)
            check(" 0% packet loss" in out, "n1 -> n2 ping: %r" % out, m)
            out = con.run("ping -c 10 -i 0.2 10.78.0.1", timeout=120)
            check(" 0% packet loss" in out, "n1 -> service VM ping: %r" % out, m)
            con.run("(nc -l -p 5001 | md5sum > /tmp/got) & sleep 1")
        with Console(m, "n2") as con:
            con.run("%s | nc 10.78.0.2 5001" % PATTERN_CMD, timeout=900)
        with Console(m, "n1") as con:
            deadline = time.time() + 120
            got = ""
            while time.time() < deadline and not re.search(r"[0-9a-f]{32}", got):
                got = con.run("cat /tmp/got")
                time.sleep(2)
            check(pattern_md5() in got, "n1 received %r, the pattern is %s" % (got, pattern_md5()), m)
        ok(m, "destroy n1")
        ok(m, "destroy n2")


def test_hostile_driver():
    """A looping descriptor chain puts that guest's disk in NEEDS_RESET and keel-dm has the guest
    switched off, saying why in `keelctl info`; another guest's disk transfer at the same time
    completes intact."""
    f = files()
    f["guests/badring.elf"] = f["guests/spin.elf"].replace("spin.elf", "badring.elf")
    with Machine("virtio_hostile", cfg(), f, smp=SMP, timeout=1800) as m:
        boot(m)
        m.shell("dd if=/dev/zero of=/tmp/good.img bs=1M count=16 2>/dev/null; "
                "dd if=/dev/zero of=/tmp/bad.img bs=1M count=1 2>/dev/null")
        create(m, "good", "--disk /tmp/good.img")
        ok(m, "start good")
        ok(m, "create bad --mem 16M --vcpus 1 --kernel /mnt/keel/guests/badring.elf "
              "--disk /tmp/bad.img")
        with Console(m, "good") as con:
            con.wait_shell(timeout=500)
            con.run("(%s | dd of=/dev/vda bs=1M iflag=fullblock conv=fsync 2>/dev/null; "
                    "echo done > /tmp/w) & sleep 1" % SMALL_CMD)
        ok(m, "start bad")
        info = wait_info(m, "bad", "stopped")
        check(re.search(r"stopped: its virtio disk 00:01.0 misbehaved: queue 0: descriptor chain loops",
                        info), "bad was not stopped for its looping chain: %r" % info, m)
        log = m.shell("grep 'bad: 00:01.0 disk' /run/keel-dm.log")
        check("descriptor chain loops: the VM stops" in log, "keel-dm did not log the looping chain: %r" % log, m)
        with Console(m, "good") as con:
            deadline = time.time() + 900
            while con.run("cat /tmp/w 2>/dev/null") != "done":
                check(time.time() < deadline, "the good guest's write did not finish", m)
                time.sleep(5)
            got = md5_in(con, "head -c %d /dev/vda" % (16 * MiB))
            check(got == pattern_md5(16 * MiB), "the good guest's disk holds %s" % got, m)
        wait_info(m, "good", "running", timeout=5)
        ok(m, "destroy bad")
        ok(m, "destroy good")


def test_read_only_disk_hostile_driver():
    """A driver that ignores VIRTIO_BLK_F_RO (tests/guests/badro.c) writes, discards and zeroes a
    read-only disk: each request completes with VIRTIO_BLK_S_IOERR and only its status byte
    written (virtio 1.2 5.2.6.2), the device stays usable and reads what the disk holds, the VM
    keeps running, and the backing file is unchanged."""
    f = files()
    f["guests/badro.elf"] = f["guests/spin.elf"].replace("spin.elf", "badro.elf")
    with Machine("virtio_readonly", cfg(), f, smp=SMP, timeout=900) as m:
        boot(m)
        m.shell("yes keel-virtio-pattern | head -c %d > /tmp/ro.img" % MiB)
        want = pattern_md5(MiB)
        check(md5_in(m, "cat /tmp/ro.img") == want, "the backing file is not the pattern", m)
        ok(m, "create badro --mem 16M --vcpus 1 --kernel /mnt/keel/guests/badro.elf "
              "--disk /tmp/ro.img,ro")
        ok(m, "start badro")
        mark = m.mark()
        with Console(m, "badro"):
            m.expect(r"PASS badro|FAIL badro[^\n]*", timeout=300, start=mark)
        out = m.buf[mark:].decode("utf-8", "replace")
        check("PASS badro" in out, "badro: %s" % re.findall(r"(?:badro|FAIL)[^\n]*", out), m)
        for what in ("write", "discard", "write zeroes"):
            check(re.search(r"badro: %s: status 1, used length 1\b" % what, out),
                  "keel-dm did not refuse the %s with VIRTIO_BLK_S_IOERR" % what, m)
        check("badro: read back: keel-virtio-pattern" in out, "badro read back something else", m)
        wait_info(m, "badro", "running", timeout=5)
        ok(m, "destroy badro")
        got = md5_in(m, "cat /tmp/ro.img")
        check(got == want, "the read-only disk's backing file changed: %s, was %s" % (got, want), m)


def test_keel_dm_restart():
    """keel-dm killed while a guest's disk write waits on it: the service VM's init starts it
    again, the device comes back as the guest's driver left it and the write completes intact."""
    size = 32 * MiB
    with Machine("virtio_restart", cfg(), files(), smp=SMP, timeout=1800) as m:
        boot(m)
        m.shell("dmesg -n 1; dd if=/dev/zero of=/tmp/r.img bs=1M count=32 2>/dev/null")  # no kernel lines in outputs
        create(m, "r1", "--disk /tmp/r.img", console="ttyS0")  # ttyS0: Keel's, not keel-dm's
        ok(m, "start r1")
        with Console(m, "r1") as con:
            con.wait_shell(timeout=500)
            con.run("dmesg -n 1; head -c 4096 /dev/vda > /dev/null")  # the driver is up and has used its queue
        old = m.shell("cat /run/keel-dm.lock")
        check(old.isdigit(), "no keel-dm pid in /run/keel-dm.lock: %r" % old, m)
        m.shell("kill -STOP " + old)  # frozen: the write below has to wait for it
        with Console(m, "r1") as con:
            con.run("(yes keel-virtio-pattern | head -c %d | dd of=/dev/vda bs=64k iflag=fullblock "
                    "oflag=direct conv=fsync 2>/dev/null; echo rc=$? > /tmp/w) & sleep 5" % size)
            check(con.run("cat /tmp/w 2>/dev/null; echo .") == ".",
                  "the write finished while keel-dm was stopped", m)
        m.shell("kill -KILL " + old)
        deadline = time.time() + 120
        while "restored after a restart" not in m.shell("cat /run/keel-dm.log"):
            check(time.time() < deadline, "keel-dm was not started again with r1's disk", m)
            time.sleep(2)
        new = m.shell("cat /run/keel-dm.lock")
        check(new.isdigit() and new != old, "keel-dm's pid after the restart: %r" % new, m)
        with Console(m, "r1") as con:
            deadline = time.time() + 600
            while con.run("cat /tmp/w 2>/dev/null") != "rc=0":
                check(time.time() < deadline, "r1's write did not finish after the restart", m)
                time.sleep(5)
            got = md5_in(con, "head -c %d /dev/vda" % size)
            check(got == pattern_md5(size), "r1 reads %s back, the pattern is %s" % (got, pattern_md5(size)), m)
        ok(m, "destroy r1")
        got = md5_in(m, "head -c %d /tmp/r.img" % size)
        check(got == pattern_md5(size), "the backing file holds %s" % got, m)
        restarts = m.shell("grep -c 'found dead' /run/keel-dm.log")
        check(restarts == "1", "keel-dm was started again %s times, not once" % restarts, m)


def sha256_of(out):
    """The SHA-256 in a command's output (a kernel message may come with it)."""
    found = re.search(r"\b([0-9a-f]{64})\b", out)
    return found.group(1) if found else out


def test_guest_reaches_outside_peer():
    """A guest on a bridge with the service VM's passed-through e1000e reaches the test's peer
    behind it (a TAP in a network namespace of this test): ping without loss, 16 MiB each way."""
    size, port, mac = 16 * MiB, 5200, "52:54:00:12:34:21"
    out = os.path.join(BUILD, "tests", "virtio_outside_peer")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.unlink(os.path.join(out, f))
    with NetNS("keelvo%d" % os.getpid(), [("ktap2", "10.79.0.1/24")]) as ns:
        m = Machine("virtio_outside", cfg(), files(), smp=SMP, timeout=1800,
                    extra=["-netdev", "tap,id=n0,ifname=ktap2,script=no,downscript=no",
                           "-device", "e1000e,netdev=n0,mac=" + mac])
        m.command_prefix = ns.prefix()
        with m:
            ns.start_peer("10.79.0.1", port, size, out, seconds=1500)
            boot(m)
            m.shell("dmesg -n 1")  # the NIC's "Link is Up" would land in the middle of a command's output
            nic = m.shell("grep -l %s /sys/class/net/*/address" % mac).split("/")[-2:-1]
            check(nic, "no service VM interface has the e1000e's MAC", m)
            m.shell("ip link add br0 type bridge && ip link set %s master br0 && ip link set %s up && "
                    "ip link set br0 up" % (nic[0], nic[0]))
            create(m, "o1", "--net br0", console="ttyS0")
            ok(m, "start o1")
            with Console(m, "o1") as con:
                con.wait_shell(timeout=500)
                con.run("dmesg -n 1; ip addr add 10.79.0.2/24 dev eth0 && ip link set eth0 up")
                out_ping = con.run("ping -c 10 -i 0.2 -W 2 10.79.0.1", timeout=120)
                check(" 0% packet loss" in out_ping, "o1 -> outside peer ping: %r" % out_ping, m)
                got = sha256_of(con.run("nc 10.79.0.1 %d | sha256sum" % port, timeout=600))
                sent = open(os.path.join(out, "sent-%d" % port)).read().split()[0]
                check(got == sent, "o1 downloaded %s from the peer, which sent %s" % (got, sent), m)
                up = sha256_of(con.run("head -c %d /dev/urandom > /tmp/up; sha256sum < /tmp/up; "
                                       "nc 10.79.0.1 %d < /tmp/up" % (size, port + 1), timeout=600))
            deadline = time.time() + 60
            received = os.path.join(out, "received-%d" % (port + 1))
            while not os.path.exists(received) and time.time() < deadline:
                time.sleep(1)
            check(os.path.exists(received), "the peer received nothing from o1", m)
            got = open(received).read().split()
            check(got == [up, str(size)], "the peer received %s from o1, which sent %s" % (got, up), m)
            ok(m, "destroy o1")
