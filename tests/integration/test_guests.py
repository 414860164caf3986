# SPDX-License-Identifier: MIT
"""Guest VMs managed from the service VM's serial console with keelctl: two
Linux guests booted to shells and driven through `keelctl console` (each
proven to be that guest's own shell; a guest's clock keeps the host's rate,
which `make bench` relies on); a 4-vCPU
guest spinning on a 2-CPU machine while the service VM keeps answering; a
triple-faulting and a memory-probing guest stopped while the others run;
graceful and forced stop, destroy; every error case with its message and
nothing changed; 20 create/destroy cycles returning memory to the KiB."""
import os
import re
import time

from guestctl import (GUEST_INITRD, GUEST_KERNEL, KVER, PROMPT, Console, boot, cfg, create_linux,
                      files, keelctl, listing, ok, refused, wait_info)
from guestctl import monitor_report
from rig import BUILD, Machine, TestFailure, check, kernel_path


def check_guest_shell(m, con, name, vcpus, mem_mib):
    check(con.run("hostname") == name, "guest %s: wrong hostname" % name, m)
    check(con.run("uname -r") == KVER, "guest %s: uname -r is not %s" % (name, KVER), m)
    check(con.run("nproc") == str(vcpus), "guest %s: nproc is not %d" % (name, vcpus), m)
    kb = int(re.search(r"(\d+)", con.run("grep MemTotal /proc/meminfo")).group(1))
    # the kernel's image and early reservations (some 50 MiB) are not in MemTotal
    check(mem_mib - 64 <= kb / 1024 <= mem_mib,
          "guest %s: MemTotal %d KiB is not 0-64 MiB below %d MiB" % (name, kb, mem_mib), m)
    check(con.run("echo $((6*7))") == "42", "guest %s: shell arithmetic" % name, m)
    guest_date = int(con.run("date +%s"))  # from its RTC, which Keel fills from the firmware's clock
    check(abs(guest_date - time.time()) < 60, "guest %s: date is %+d s off the host's" % (
        name, guest_date - time.time()), m)


def guest_clock(con):
    """(host seconds, the guest's uptime) read as close together as its console allows."""
    h0 = time.time()
    out = con.run("cut -d' ' -f1 /proc/uptime")
    h1 = time.time()
    g = re.search(r"^(\d+\.\d+)$", out, re.M)
    check(g, "no uptime from the guest: %r" % out, con.m)
    return (h0 + h1) / 2, float(g.group(1))


def check_clock_rate(m, name, first, second):
    """The guest's clock ran at the host's rate (within 3%) between two guest_clock readings:
    `make bench` times guest I/O on guest clocks."""
    (h0, g0), (h1, g1) = first, second
    check(h1 - h0 >= 30, "guest %s: only %.0f s between clock readings" % (name, h1 - h0), m)
    rate = (g1 - g0) / (h1 - h0)
    check(0.97 < rate < 1.03, "guest %s: its clock ran at %.3f of host time over %.0f s" % (
        name, rate, h1 - h0), m)


def test_two_guests_and_isolation():
    """Two Linux guests run side by side and answer on their consoles; a triple-faulting guest
    and one reading outside its RAM are stopped with their reasons while the Linux guests go on;
    stop (power button) and destroy give back every KiB."""
    with Machine("guests_two", cfg(), files(), smp=2, timeout=1200) as m:
        boot(m)
        vms, free0 = listing(m)
        check(list(vms) == ["service"], "unexpected VMs at boot: %s" % vms, m)
        create_linux(m, "g1", "256M", 1)
        create_linux(m, "g2", "320M", 2)
        vms, _ = listing(m)
        check(vms.get("g1") == ("created", 1, 256) and vms.get("g2") == ("created", 2, 320),
              "list after create: %s" % vms, m)
        ok(m, "start g1")
        ok(m, "start g2")
        with Console(m, "g1") as con:
            con.wait_shell()
            check_guest_shell(m, con, "g1", 1, 256)
            con.run("echo written-in-g1 > /tmp/note")
            clock0 = guest_clock(con)
        with Console(m, "g2") as con:
            con.wait_shell()
            check_guest_shell(m, con, "g2", 2, 320)
            con.run("echo written-in-g2 > /tmp/note")

        for g in ("triplefault", "escape"):
            ok(m, "create %s --mem 16M --vcpus 1 --kernel /mnt/keel/guests/%s.elf" % (g, g))
            ok(m, "start %s" % g)
        info = wait_info(m, "triplefault", "dead")
        check(re.search(r"state: +dead: vCPU 0: triple fault", info), "triplefault: %r" % info, m)
        check(int(re.search(r"exits: +(\d+)", info).group(1)) > 0, "exits of a dead VM: %r" % info, m)
        info = wait_info(m, "escape", "dead")  # it first checks its 16 MiB are clean: slow in TCG
        check(re.search(r"state: +dead: vCPU 0: read from guest-physical 1000000, outside its RAM",
                        info), "escape: %r" % info, m)
        with Console(m, "g1") as con:
            m.send("\n")
            # g1's own shell, not some shell: its hostname and the note only it holds
            check(con.run("hostname; cat /tmp/note") == "g1\nwritten-in-g1", "g1 stopped answering", m)
            while time.time() - clock0[0] < 31:
                time.sleep(1)
            check_clock_rate(m, "g1", clock0, guest_clock(con))
        with Console(m, "g2") as con:
            m.send("\n")
            check(con.run("hostname; cat /tmp/note") == "g2\nwritten-in-g2", "g2 lost its state", m)
        ok(m, "destroy triplefault")
        ok(m, "destroy escape")

        out = ok(m, "stop g2", timeout=60)  # the power button: the guest's acpid powers off
        check("stopped g2" in out and "forced" not in out, "stop g2: %r" % out, m)
        vms, _ = listing(m)
        check(vms["g2"][0] == "stopped" and vms["g1"][0] == "running", "after stop: %s" % vms, m)
        ok(m, "destroy g2")
        with Console(m, "g1") as con:
            m.send("\n")
            check(con.run("hostname; cat /tmp/note") == "g1\nwritten-in-g1", "g1 died with g2", m)
        check("forced" in ok(m, "stop g1 --force"), "stop --force did not say forced", m)
        ok(m, "destroy g1")
        vms, free1 = listing(m)
        check(list(vms) == ["service"] and free1 == free0,
              "after destroying all: %s, %d KiB free, was %d" % (vms, free1, free0), m)


def test_four_vcpus_on_two_cpus():
    """A 4-vCPU guest spinning on every vCPU of a 2-CPU machine: the service VM's shell still
    answers promptly (its vCPUs run as soon as they wake), and every loop finishes."""
    with Machine("guests_4vcpu", cfg(), files(), smp=2, timeout=1200) as m:
        boot(m)
        create_linux(m, "wide", "384M", 4)
        ok(m, "start wide")
        with Console(m, "wide") as con:
            con.wait_shell(timeout=500)
            check(con.run("nproc") == "4", "guest does not have 4 vCPUs", m)
            con.run("for i in 1 2 3 4; do (n=0; while [ $n -lt 60000 ]; do n=$((n+1)); done; "
                    "echo loop-done > /tmp/done.$i) & done")
        worst, times = 0.0, []
        for _ in range(5):
            t0, c0 = time.time(), m.cpu_seconds()
            check(m.shell("echo service-answers", timeout=30) == "service-answers",
                  "service VM shell", m)
            # QEMU's CPU time where the host gave it less than the wall clock (a loaded host)
            times.append((time.time() - t0, m.cpu_seconds() - c0))
            worst = max(worst, min(times[-1]))
            time.sleep(1)
        with open(os.path.join(m.dir, "answers.txt"), "w") as f:  # the figures, pass or fail
            f.write("".join("answer in %.2f s wall, %.2f s of QEMU's CPU time\n" % t for t in times))
        vms, _ = listing(m)
        check(vms["wide"][0] == "running", "wide is %s" % vms["wide"][0], m)
        with Console(m, "wide") as con:
            m.send("\n")
            con.run("wait", timeout=600)
            deadline = time.time() + 600
            while con.run("ls /tmp/ | grep -c done") != "4":
                check(time.time() < deadline, "the guest's loops did not finish", m)
                time.sleep(5)
        # a woken vCPU runs next (sched.c): 0.15-0.32 s measured; round robin behind the
        # spinners took up to 3.2 s, so 2.5 s tells the two apart with room for a loaded host
        check(worst < 2.5, "the service VM took %.1f s of QEMU's time to answer while the guest "
              "spun" % worst, m)
        ok(m, "stop wide --force")
        ok(m, "destroy wide")


def test_errors_and_create_destroy_cycles():
    """Each bad request is refused with its message and changes nothing; 20 create/destroy
    cycles leave free memory exactly where it started."""
    with Machine("guests_errors", cfg(), files(), smp=2, timeout=1200) as m:
        boot(m)
        vms0, free0 = listing(m)
        create_linux(m, "one", "128M", 1)
        vms1, free1 = listing(m)
        check(free1 <= free0 - 128 * 1024, "128 MiB guest: free %d -> %d KiB" % (free0, free1), m)
        refused(m, "create one --mem 128M --vcpus 1 --kernel %s" % GUEST_KERNEL,
                r"a VM called 'one' exists already")
        refused(m, "create big --mem 64G --vcpus 1 --kernel %s" % GUEST_KERNEL,
                r"not enough free memory: 65536 MiB asked, \d+ MiB free")
        refused(m, "create nofile --mem 64M --vcpus 1 --kernel /mnt/keel/guests/missing",
                r"cannot read '/mnt/keel/guests/missing': No such file or directory")
        refused(m, "create junk --mem 64M --vcpus 1 --kernel /mnt/keel/keel.cfg",
                r"cannot load '/mnt/keel/keel.cfg': neither a Linux bzImage")
        refused(m, "create many --mem 128M --vcpus 99 --kernel %s" % GUEST_KERNEL,
                r"vCPUs must be between 1 and \d+")
        refused(m, "create small --mem 16M --vcpus 1 --kernel %s --initrd %s" % (
            GUEST_KERNEL, GUEST_INITRD), r"cannot load '%s': " % GUEST_KERNEL)
        refused(m, "create tiny --mem 8M --vcpus 1 --kernel /mnt/keel/guests/spin.elf",
                r"memory must be a multiple of 2 MiB, at least 16 MiB")
        for op in ("start", "stop", "destroy", "info", "console"):
            refused(m, "%s nosuch" % op, r"no VM called 'nosuch'")
        refused(m, "destroy service", r"'service' is the service VM")
        out = m.shell("su -s /bin/sh nobody -c 'keelctl list' 2>&1; echo rc=$?")
        check("must be run as root" in out and out.endswith("rc=1"), "not root: %r" % out, m)
        vms2, free2 = listing(m)
        check(vms2 == vms1 and free2 == free1, "the errors changed something: %s %d -> %s %d" % (
            vms1, free1, vms2, free2), m)
        ok(m, "destroy one")
        _, free3 = listing(m)
        check(free3 == free0, "destroy: %d KiB free, was %d" % (free3, free0), m)

        out = m.shell("n=0; for i in $(seq 20); do keelctl create c$i --mem 96M --vcpus 2 "
                      "--kernel /mnt/keel/guests/spin.elf >/dev/null && keelctl start c$i >/dev/null "
                      "&& keelctl destroy c$i >/dev/null && n=$((n+1)); done; echo cycles=$n",
                      timeout=600)
        check(out.endswith("cycles=20"), "create/start/destroy cycles: %r" % out, m)
        vms4, free4 = listing(m)
        check(list(vms4) == ["service"] and free4 == free0,
              "after 20 cycles: %s, %d KiB free, was %d" % (vms4, free4, free0), m)


def test_no_control_device():
    """keelctl outside Keel (the same initramfs booted by QEMU itself) says what is missing."""
    direct = (kernel_path(), os.path.join(BUILD, "service-initrd.img"), "console=ttyS0")
    with Machine("guests_nodev", None, smp=1, timeout=300, direct=direct) as m:
        m.expect(PROMPT, timeout=240)
        time.sleep(1)
        out, rc = keelctl(m, "list")
        check(rc == 1 and "the Keel control device is missing" in out, "no device: %d %r" % (rc, out), m)


def reboot_and_check(m, con_name, how, boot_ids, marker):
    """After `how` (a callable that resets the guest), the guest's banner and shell come back with
    a boot id not seen before and the marker still on its disk."""
    mark = m.mark()
    how()
    with Console(m, con_name) as con:
        # the new banner: a console attached again shows what came since it detached
        m.expect(r"Keel guest %s: " % con_name, timeout=240, start=mark)
        time.sleep(1)
        prompt = m.mark()
        m.send("\n")
        m.expect(r"\[%s\] / # " % con_name, timeout=60, start=prompt)
        boot_id = con.run("cat /proc/sys/kernel/random/boot_id")
        check(re.fullmatch(r"[0-9a-f-]{36}", boot_id) and boot_id not in boot_ids,
              "%s: boot id %r after the reset, seen before: %s" % (con_name, boot_id, boot_ids), m)
        boot_ids.append(boot_id)
        got = con.run("head -c %d /dev/vda" % len(marker))
        check(got == marker, "%s: the disk holds %r after the reset, not %r" % (con_name, got, marker), m)
    return mark


def test_guest_reboot():
    """A Linux guest's own reboot (`reboot -f`: Linux's default ACPI reset register; the
    initramfs's /init is a script, which plain `reboot` would only signal) and `keelctl reboot`
    each restart it in place: its kernel is loaded again, the shell comes back with a new boot id,
    and what it wrote to its virtio disk is there. A triple-faulting guest created with
    `--on-crash reset` resets again and again (Keel's log says so, rate-limited) while one
    created with the default stops dead; `keelctl stop` then `keelctl start` boots the guest again
    with its disk; another Linux guest runs on throughout, untouched."""
    with Machine("guest_reboot", cfg(), files(), smp=2, timeout=900) as m:
        boot(m)
        create_linux(m, "calm", "128M", 1)
        ok(m, "start calm")
        m.shell("dd if=/dev/zero of=/tmp/r.img bs=1M count=4 2>/dev/null")
        create_linux(m, "rb", "192M", 1, "--disk /tmp/r.img")
        ok(m, "start rb")
        marker = "keel-reboot-marker-%d" % int(time.time())
        boot_ids = []
        with Console(m, "calm") as con:
            con.wait_shell()
            con.run("echo calm-since-the-start > /tmp/note")
        with Console(m, "rb") as con:
            con.wait_shell()
            boot_ids.append(con.run("cat /proc/sys/kernel/random/boot_id"))
            con.run("printf %s | dd of=/dev/vda conv=fsync 2>/dev/null; echo rc=$?" % marker)
            check(con.run("head -c %d /dev/vda" % len(marker)) == marker, "rb: marker not written", m)

        def keelctl_reboot():
            mark = m.mark()
            out = ok(m, "reboot rb")
            check("rebooted rb" in out, "keelctl reboot: %r" % out, m)
            m.expect(r"vm rb: reset by keelctl reboot \(reset 1\)", timeout=60, start=mark)
        reboot_and_check(m, "rb", keelctl_reboot, boot_ids, marker)

        def guest_reboot():
            with Console(m, "rb"):
                m.send("\n")
                m.expect(r"\[rb\] / # ", timeout=30)
                mark = m.mark()
                m.send("reboot -f\n")
                try:
                    m.expect(r"vm rb: reset by the guest \(ACPI reset register\) \(reset 2\)",
                             timeout=120, start=mark)
                except TestFailure:
                    monitor_report(m)  # where the guest is
                    raise
        reboot_and_check(m, "rb", guest_reboot, boot_ids, marker)
        info = ok(m, "info rb")
        check(re.search(r"^state: +running$", info, re.M) and re.search(r"^resets: +2$", info, re.M) and
              re.search(r"^on-crash: stop$", info, re.M), "info rb after two resets: %r" % info, m)
        refused(m, "reboot nosuch", r"no VM called 'nosuch'")

        def stop_start():  # a stopped VM starts again from power-on, with the same disk
            check("forced" in ok(m, "stop rb --force"), "stop rb --force", m)
            refused(m, "reboot rb", r"'rb' is not running \(stopped\)")
            out = ok(m, "start rb")
            check("rb was stopped: creating it again" in out and "started rb" in out,
                  "start of the stopped rb: %r" % out, m)
        reboot_and_check(m, "rb", stop_start, boot_ids, marker)
        refused(m, "create bad --mem 16M --vcpus 1 --kernel /mnt/keel/guests/triplefault.elf --on-crash maybe",
                r"--on-crash takes stop or reset, not 'maybe'")

        mark = m.mark()
        ok(m, "create tfr --mem 16M --vcpus 1 --kernel /mnt/keel/guests/triplefault.elf --on-crash reset")
        ok(m, "create tfs --mem 16M --vcpus 1 --kernel /mnt/keel/guests/triplefault.elf")
        ok(m, "start tfr")
        ok(m, "start tfs")
        m.expect(r"vm tfr: reset after a triple fault of vCPU 0 \(on_crash reset\) \(reset 1\)",
                 timeout=60, start=mark)
        # a second line at least a second later, counting the resets it did not log
        m.expect(r"vm tfr: reset after a triple fault of vCPU 0 \(on_crash reset\) "
                 r"\(reset (\d+); (\d+) more since the last line\)", timeout=60, start=mark)
        info = wait_info(m, "tfs", "dead")
        check(re.search(r"state: +dead: vCPU 0: triple fault", info), "tfs: %r" % info, m)
        info = ok(m, "info tfr")
        resets = int(re.search(r"^resets: +(\d+)", info, re.M).group(1))
        check(resets >= 3 and re.search(r"^on-crash: reset$", info, re.M) and
              re.search(r"^state: +(running|resetting)$", info, re.M), "info tfr: %r" % info, m)
        log = m.buf[mark:].decode("utf-8", "replace")
        lines = len(re.findall(r"vm tfr: reset ", log))
        check(lines * 2 <= resets + 1, "%d log lines for %d resets: not rate-limited" % (lines, resets), m)
        check("vm tfr: stopped" not in log, "tfr stopped instead of resetting", m)
        ok(m, "stop tfr --force")
        ok(m, "destroy tfr")
        ok(m, "destroy tfs")

        info = ok(m, "info calm")
        check(re.search(r"^state: +running$", info, re.M) and re.search(r"^resets: +0$", info, re.M),
              "calm did not run throughout: %r" % info, m)
        with Console(m, "calm") as con:
            m.send("\n")
            check(con.run("hostname; cat /tmp/note") == "calm\ncalm-since-the-start", "calm lost its state", m)
        with Console(m, "rb") as con:
            m.send("\n")
            check(con.run("hostname") == "rb", "rb stopped answering", m)
        ok(m, "stop rb --force")
        ok(m, "destroy rb")
        ok(m, "stop calm --force")
        ok(m, "destroy calm")
