# SPDX-License-Identifier: MIT
"""UEFI guests (issue 21): Debian's OVMF, from the boot stick, as a guest's firmware. The
firmware VM starts at OVMF's reset vector with the code mapped read-only below 4 GiB and no
disk, reaches the UEFI Shell on its COM1 through `keelctl console`, and the Shell's `reset`
boots it again in place; with a blank virtio disk from keel-dm the firmware says it found
nothing to boot there and keeps running in its Shell, which maps the disk; Linux on an ESP
boots from the Shell through its EFI stub to its shell, on UEFI and with Keel's ACPI
tables; a truncated firmware file and too little memory are refused with their reasons.
With --vars, the variables the Shell sets are in the VM's file, behind the CFI flash keel-dm
serves, through a reset, a keel-dm restart and a new VM. A disk image with GRUB on its ESP
boots through GRUB's menu to Linux, whose efivarfs variables outlive a reboot, a keel-dm
restart and a new VM; Debian's installer, booted by GRUB, reaches its first dialog."""
import os
import re
import sys
import time

from guestctl import Console, boot, cfg, files, ok, refused, wait_info
from rig import BUILD, ROOT, Machine, OVMF_CODE, OVMF_VARS, check, kernel_path

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import mkdisk  # noqa: E402
import mkgrubdisk  # noqa: E402

# The Shell's prompt: "Shell" in its highlight colour, then "> " (ShellPrintEx's %E...%N).
SHELL_PROMPT = rb"Shell(?:\x1b\[[0-9;]*m)*> "


def uefi_files():
    f = files()
    f["OVMF_CODE_4M.fd"] = OVMF_CODE
    f["OVMF_VARS_4M.fd"] = OVMF_VARS
    return f


def esp_image():
    """A GPT disk whose ESP holds the stock kernel and the guest initramfs (no boot loader)."""
    path = os.path.join(BUILD, "tests", "uefi-esp.img")
    mkdisk.build(path, [("vmlinuz", kernel_path()),
                        ("initrd.img", os.path.join(BUILD, "guest-initrd.img"))])
    return path


def test_firmware_shell():
    """keelctl create --firmware (the stick's OVMF by default, no disk): OVMF boots through SEC,
    PEI and DXE under Keel and its UEFI Shell answers `ver` on the guest's console; `reset`
    there (0xCF9) resets the VM in place, back to the Shell; with a blank disk it says there is
    nothing to boot and stays in its Shell; Linux on an ESP boots through it to its shell."""
    f = uefi_files()
    f["uefi/esp.img"] = esp_image()
    with Machine("uefi_firmware_shell", cfg(), f, smp=2, timeout=1200) as m:
        boot(m)
        mhz = re.search(r"keel: clock: TSC (\d+) MHz", m.text())
        check(mhz, "no TSC rate in Keel's log", m)
        m.shell("head -c 1048576 /mnt/keel/OVMF_CODE_4M.fd > /tmp/cut.fd")
        refused(m, "create cut --mem 256M --vcpus 1 --firmware /tmp/cut.fd",
                r"cannot load '/tmp/cut.fd': the firmware is not UEFI firmware volumes")
        refused(m, "create small --mem 64M --vcpus 1 --firmware",
                r"firmware needs at least 128 MiB of memory")
        out = ok(m, "create fw --mem 256M --vcpus 1 --firmware")
        check("created fw: 256 MiB, 1 vCPU(s), firmware /mnt/keel/OVMF_CODE_4M.fd" in out,
              "keelctl create --firmware said %r" % out, m)
        ok(m, "start fw")
        mark = m.mark()  # the console replays what the guest printed since it started
        with Console(m, "fw"):
            # the Shell counts down 5 s before startup.nsh; any key skips that
            m.expect(rb"Press .*ESC.* in \d+ seconds", timeout=600, start=mark)
            m.send(" ")
            m.expect(SHELL_PROMPT, timeout=120, start=mark)
            mark = m.mark()
            m.send("ver\r")
            m.expect(rb"UEFI v2\.\d+ \(EDK II, ", timeout=60, start=mark)
            m.expect(SHELL_PROMPT, timeout=60, start=mark)
            # the Shell's reset: OVMF writes 0xCF9, the VM resets in place and boots again
            mark = m.mark()
            m.send("reset\r")
            m.expect(r"keel: vm fw: reset by the guest", timeout=60, start=mark)
            m.expect(rb"Press .*ESC.* in \d+ seconds", timeout=600, start=mark)
            m.send(" ")
            m.expect(SHELL_PROMPT, timeout=120, start=mark)
        info = wait_info(m, "fw", "running", timeout=10)
        # SEC masks the 8259 it never uses: ports nothing answers, counted
        check(re.search(r"^unknown: .* port accesses \(0x21 0xa1\b", info, re.M),
              "keelctl info fw does not list the 8259's ports: %r" % info, m)
        ok(m, "stop fw --force")
        ok(m, "destroy fw")

        # a disk with nothing to boot: OVMF drives keel-dm's virtio-blk, says so, and goes on
        m.shell("dd if=/dev/zero of=/root/blank.img bs=1M count=16 2>/dev/null")
        ok(m, "create fwdisk --mem 256M --vcpus 1 --firmware --disk /root/blank.img")
        ok(m, "start fwdisk")
        mark = m.mark()
        with Console(m, "fwdisk"):
            m.expect(rb'BdsDxe: failed to load Boot\d+ "UEFI Misc Device" from '
                     rb'PciRoot\(0x0\)/Pci\(0x1,0x0\): Not Found', timeout=600, start=mark)
            m.expect(rb"Press .*ESC.* in \d+ seconds", timeout=120, start=mark)
            m.send(" ")
            m.expect(SHELL_PROMPT, timeout=120, start=mark)
            mark = m.mark()
            m.send("map -r\r")
            m.expect(rb"BLK0:.*\s+PciRoot\(0x0\)/Pci\(0x1,0x0\)\s", timeout=60, start=mark)
            m.expect(SHELL_PROMPT, timeout=60, start=mark)
        wait_info(m, "fwdisk", "running", timeout=10)
        ok(m, "stop fwdisk --force")
        ok(m, "destroy fwdisk")

        # Linux from an ESP through its EFI stub, started from the Shell: its shell answers,
        # and it runs on 64-bit UEFI with Keel's ACPI tables, which it got through OVMF
        ok(m, "create efi --mem 256M --vcpus 1 --firmware --disk /mnt/keel/uefi/esp.img,ro")
        ok(m, "start efi")
        mark = m.mark()
        with Console(m, "efi"):
            m.expect(rb"Press .*ESC.* in \d+ seconds", timeout=600, start=mark)
            m.send("\x1b")
            m.expect(SHELL_PROMPT, timeout=120, start=mark)
            # Linux cannot calibrate its TSC in a nested guest: it is told the rate, as Keel
            # tells direct-kernel guests
            m.send("fs0:\\vmlinuz initrd=\\initrd.img console=ttyS0 keel.name=efi "
                   "tsc_early_khz=%d\r" % (int(mhz.group(1)) * 1000), delay=0.02)
            m.expect(r"EFI stub: ", timeout=120, start=mark)
            m.expect(r"Keel guest efi: ", timeout=300, start=mark)
            time.sleep(1)
            m.send("\n")
            m.expect(r"\[efi\] / # ", timeout=60, start=mark)
            out = m.shell("cat /sys/firmware/efi/fw_platform_size; "
                          "dmesg | grep -c 'ACPI: FACP .* KEEL '")
            check(out == "64\n1", "Linux through OVMF: 64-bit UEFI and Keel's FADT? %r" % out, m)
        ok(m, "stop efi --force")
        ok(m, "destroy efi")


# A vendor GUID of the test's own for its variables ("Keelvars" then the number).
VAR_GUID = "4b65656c-7661-7273-8000-000000000021"


def shell_prompt(m, mark):
    """The firmware's countdown skipped with ESC, then its Shell's prompt."""
    m.expect(rb"Press .*ESC.* in \d+ seconds", timeout=600, start=mark)
    m.send("\x1b")
    m.expect(SHELL_PROMPT, timeout=120, start=mark)


def shell(m, line, timeout=120):
    """One Shell command; what it printed up to the next prompt, without its escape sequences."""
    mark = m.mark()
    m.send(line + "\r", delay=0.02)
    end = m.expect(SHELL_PROMPT, timeout=timeout, start=mark)
    with m.lock:
        out = m.buf[mark:end.start()].decode("utf-8", "replace")
    return re.sub(r"\x1b\[[0-9;=?]*[A-Za-z]", "", out)


def test_vars():
    """keelctl create --firmware --vars FILE: FILE is made from OVMF_VARS_4M.fd, a file of the
    wrong size is refused with both sizes; EFI variables the Shell sets with setvar go through
    the CFI flash keel-dm serves into FILE (one set after keel-dm was killed and started again
    while the VM ran); one is there after the Shell's reset, and a new VM made with the same
    FILE finds both with dmpstore."""
    with Machine("uefi_vars", cfg(), uefi_files(), smp=2, timeout=1200) as m:
        boot(m)
        m.shell("head -c 4096 /mnt/keel/OVMF_VARS_4M.fd > /root/short.fd")
        refused(m, "create short --mem 256M --vcpus 1 --firmware --vars /root/short.fd",
                r"--vars /root/short.fd: 4096 bytes, but this firmware's variable store is "
                r"540672 bytes")
        check("short" not in ok(m, "list"), "a refused create left a VM", m)
        out = ok(m, "create v1 --mem 256M --vcpus 1 --firmware --vars /root/vars.fd")
        check("made /root/vars.fd from /mnt/keel/OVMF_VARS_4M.fd" in out,
              "keelctl create --vars said %r" % out, m)
        template = m.shell("md5sum < /mnt/keel/OVMF_VARS_4M.fd")
        check(m.shell("md5sum < /root/vars.fd") == template, "vars.fd is not the template", m)
        ok(m, "start v1")
        mark = m.mark()
        with Console(m, "v1"):
            shell_prompt(m, mark)
            shell(m, "setvar KeelVar -guid %s -nv -bs =4B45454C21" % VAR_GUID)
            # the Shell's reset: the firmware boots again in place and reads its store anew
            mark = m.mark()
            m.send("reset\r")
            m.expect(r"keel: vm v1: reset by the guest", timeout=60, start=mark)
            shell_prompt(m, mark)
            out = shell(m, "dmpstore KeelVar -guid %s" % VAR_GUID)
            check("KeelVar' DataSize = 0x05" in out and "*KEEL!*" in out,
                  "dmpstore KeelVar after a reset: %r" % out, m)
        # keel-dm killed while v1 runs: its init starts it again, which re-opens the store
        old = m.shell("cat /run/keel-dm.lock")
        check(old.isdigit(), "no keel-dm pid in /run/keel-dm.lock: %r" % old, m)
        m.shell("kill -KILL " + old)
        deadline = time.time() + 120
        while "v1: 1 device(s) restored after a restart" not in m.shell("cat /run/keel-dm.log"):
            check(time.time() < deadline, "keel-dm was not started again with v1's store", m)
            time.sleep(2)
        with Console(m, "v1"):
            shell(m, "setvar KeelVar2 -guid %s -nv -bs =5632" % VAR_GUID)
        ok(m, "stop v1 --force")
        ok(m, "destroy v1")
        check(m.shell("md5sum < /root/vars.fd") != template, "vars.fd did not change", m)
        # the keel-dm started again programmed KeelVar2's bytes through its flash
        closed = re.search(r"v1: variable store /root/vars.fd 0xffc00000 closed: (\d+) bytes "
                           r"programmed, (\d+) blocks erased", m.shell("cat /run/keel-dm.log"))
        check(closed and int(closed.group(1)) > 0, "keel-dm's log of v1's store: %r" % (
            closed.group(0) if closed else None), m)
        # UCS-2 names: with the zero bytes gone they read as ASCII
        names = m.shell("tr -d '\\000' < /root/vars.fd | grep -a -o 'KeelVar2*' | sort -u | "
                        "tr '\\n' ' '")
        check(names.split() == ["KeelVar", "KeelVar2"], "vars.fd holds %r" % names, m)

        ok(m, "create v2 --mem 256M --vcpus 1 --firmware --vars /root/vars.fd")
        ok(m, "start v2")
        mark = m.mark()
        with Console(m, "v2"):
            shell_prompt(m, mark)
            out = shell(m, "dmpstore KeelVar -guid %s" % VAR_GUID)
            check(re.search(r"KeelVar' DataSize = 0x05", out) and "*KEEL!*" in out,
                  "dmpstore KeelVar in a new VM: %r" % out, m)
            out = shell(m, "dmpstore KeelVar2 -guid %s" % VAR_GUID)
            check(re.search(r"KeelVar2' DataSize = 0x02", out) and "*V2*" in out,
                  "dmpstore KeelVar2 in a new VM: %r" % out, m)
        ok(m, "stop v2 --force")
        ok(m, "destroy v2")
        log = m.shell("grep -c 'flash command' /run/keel-dm.log; true")
        check(log == "0", "keel-dm saw flash commands OVMF does not use: %s" % log, m)


# The TSC rate in a grub.cfg the test builds before it knows it: the service VM writes Keel's
# measured rate over these bytes (spaces pad it; Linux reads the number as decimal).
TSC_SLOT = b"tsc_early_khz=@KHZ@@@@@"


def grub_image(name, entry, files):
    """A GPT disk image with GRUB on its ESP and a grub.cfg whose first menu entry (the default,
    after 2 s) runs `entry`'s commands; (its path, the offset of TSC_SLOT's number in it)."""
    cfg_path = os.path.join(BUILD, "tests", name + ".grub.cfg")
    with open(cfg_path, "w") as f:
        # OVMF's console is COM1 (and the GOP): GRUB's own console terminal reaches both
        f.write("set timeout=2\nset default=0\n"
                "menuentry 'Boot the first entry' {\n%s}\n"
                "menuentry 'UEFI firmware settings' {\n\tfwsetup\n}\n" % entry)
    path = os.path.join(BUILD, "tests", name + ".img")
    mkgrubdisk.build(path, cfg_path, files)
    data = open(path, "rb").read()
    at = data.find(TSC_SLOT)
    assert at > 0 and data.find(TSC_SLOT, at + 1) < 0, "no single %s in %s" % (TSC_SLOT, path)
    return path, at + len(b"tsc_early_khz=")


def place_image(m, stick_path, dest, offset, khz):
    """Copies a disk image from the stick (mounted read-only) into the service VM and writes the
    TSC rate into its grub.cfg."""
    m.shell("cp %s %s && printf '%%-9d' %d | dd of=%s bs=1 seek=%d conv=notrunc 2>/dev/null"
            % (stick_path, dest, khz, dest, offset), timeout=300)


def guest_shell(m, command):
    """A command at a guest's shell; its output without Keel's and the kernel's log lines, which
    share the port."""
    return re.sub(r"(keel: |\[ *\d+\.\d+\] )[^\n]*(\n|$)", "", m.shell(command)).strip()


def grub_to_shell(m, name, mark, timeout=900):
    """A guest booting through the firmware and GRUB's menu to its shell, all from mark on."""
    m.expect(rb"GNU GRUB +version 2\.", timeout=timeout, start=mark)
    m.expect(rb"\*Boot the first entry", timeout=60, start=mark)
    m.expect(rb"UEFI firmware settings", timeout=60, start=mark)
    m.expect(r"Keel guest %s: " % name, timeout=timeout, start=mark)
    time.sleep(1)
    at = m.mark()
    m.send("\n")
    m.expect(r"\[%s\] / # " % name, timeout=60, start=at)


# A variable the guest writes through efivarfs: attributes (NV|BS|RT = 7, 4 bytes little-endian)
# then the value, "KEEL21" (UEFI 2.10 8.2 SetVariable; the kernel's efivarfs.rst).
EFIVAR = "/sys/firmware/efi/efivars/KeelGrub-" + VAR_GUID
EFIVAR2 = "/sys/firmware/efi/efivars/KeelAfterDm-" + VAR_GUID


def efivar(m, path):
    """A variable read through efivarfs: its attributes and data in hex."""
    return " ".join(guest_shell(m, "od -A n -t x1 %s" % path).split())


def restart_keel_dm(m, name):
    """keel-dm killed while `name` runs; its init starts it again, which takes the VM's devices
    back (the flash's store among them)."""
    old = m.shell("cat /run/keel-dm.lock")
    check(old.isdigit(), "no keel-dm pid in /run/keel-dm.lock: %r" % old, m)
    m.shell("kill -KILL " + old)
    deadline = time.time() + 120
    while not re.search(r"%s: \d+ device\(s\) restored after a restart" % name,
                        m.shell("cat /run/keel-dm.log")):
        check(time.time() < deadline, "keel-dm was not started again with %s's devices" % name, m)
        time.sleep(2)


def test_grub():
    """A disk image with GRUB on its ESP (grub-efi-amd64-bin, a grub.cfg naming the stock kernel
    and the guest initramfs): the firmware boots it through GRUB's menu to the guest's shell,
    where Linux writes a UEFI variable through efivarfs, and another after keel-dm was killed
    and started again; `reboot -f` (Linux's reboot) comes back through the firmware and GRUB
    with both there, and so does a new VM with the same --vars after `keelctl stop`. A firmware
    file that is not there is refused and leaves no VM."""
    img, slot = grub_image("uefi-grub", "\tlinux /vmlinuz console=ttyS0 quiet keel.name=g %s\n"
                           "\tinitrd /initrd.img\n" % TSC_SLOT.decode(),
                           [("vmlinuz", kernel_path()),
                            ("initrd.img", os.path.join(BUILD, "guest-initrd.img"))])
    f = uefi_files()
    f["uefi/grub.img"] = img
    var1 = "07 00 00 00 4b 45 45 4c 32 31"  # NV|BS|RT, "KEEL21"
    var2 = "07 00 00 00 44 4d"  # "DM"
    with Machine("uefi_grub", cfg(), f, smp=2, timeout=1800) as m:
        boot(m)
        mhz = re.search(r"keel: clock: TSC (\d+) MHz", m.text())
        check(mhz, "no TSC rate in Keel's log", m)
        refused(m, "create none --mem 512M --vcpus 1 --firmware /root/none.fd",
                r"cannot read '/root/none\.fd': No such file or directory")
        check("none" not in ok(m, "list"), "a refused create left a VM", m)
        place_image(m, "/mnt/keel/uefi/grub.img", "/root/grub.img", slot,
                    int(mhz.group(1)) * 1000)
        # GRUB 2.06 cannot load Debian's kernel in 256 MiB ("error: out of memory")
        create = "create g --mem 512M --vcpus 1 --firmware --vars /root/g.fd " \
                 "--disk /root/grub.img,ro"
        ok(m, create)
        ok(m, "start g")
        mark = m.mark()
        with Console(m, "g"):
            grub_to_shell(m, "g", mark)
            out = guest_shell(m, "printf '\\007\\000\\000\\000KEEL21' > %s; echo rc=$?" % EFIVAR)
            check(out == "rc=0", "writing %s: %r" % (EFIVAR, out), m)
            check(efivar(m, EFIVAR) == var1, "%s reads %r" % (EFIVAR, efivar(m, EFIVAR)), m)
        restart_keel_dm(m, "g")
        with Console(m, "g"):
            out = guest_shell(m, "printf '\\007\\000\\000\\000DM' > %s; echo rc=$?" % EFIVAR2)
            check(out == "rc=0", "writing %s after a keel-dm restart: %r" % (EFIVAR2, out), m)
            # Linux's reboot: the VM restarts in place, through the firmware and GRUB again
            mark = m.mark()
            m.send("reboot -f\n")
            m.expect(r"keel: vm g: reset by the guest", timeout=120, start=mark)
            grub_to_shell(m, "g", mark)
            got = (efivar(m, EFIVAR), efivar(m, EFIVAR2))
            check(got == (var1, var2), "the efivarfs variables after a reboot: %r" % (got,), m)
        ok(m, "stop g", timeout=120)
        wait_info(m, "g", "stopped", timeout=30)
        ok(m, "destroy g")

        # a new VM with the same store finds both
        ok(m, create)
        ok(m, "start g")
        mark = m.mark()
        with Console(m, "g"):
            grub_to_shell(m, "g", mark)
            got = (efivar(m, EFIVAR), efivar(m, EFIVAR2))
            check(got == (var1, var2), "the efivarfs variables in a new VM: %r" % (got,), m)
        ok(m, "stop g --force")
        ok(m, "destroy g")


DI_IMAGES = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64"


def test_installer():
    """Debian's installer (debian-installer-12-netboot-amd64's kernel and initrd) on an ESP
    with GRUB: the firmware boots it through GRUB's menu, and on the serial console it reaches
    its first dialog, the choice of a language."""
    img, slot = grub_image("uefi-installer", "\tlinux /install/vmlinuz console=ttyS0 %s\n"
                           "\tinitrd /install/initrd.gz\n" % TSC_SLOT.decode(),
                           [("install/vmlinuz", os.path.join(DI_IMAGES, "linux")),
                            ("install/initrd.gz", os.path.join(DI_IMAGES, "initrd.gz"))])
    f = uefi_files()
    f["uefi/installer.img"] = img
    with Machine("uefi_installer", cfg(), f, smp=2, timeout=1800) as m:
        boot(m)
        mhz = re.search(r"keel: clock: TSC (\d+) MHz", m.text())
        check(mhz, "no TSC rate in Keel's log", m)
        place_image(m, "/mnt/keel/uefi/installer.img", "/root/installer.img", slot,
                    int(mhz.group(1)) * 1000)
        # below 737 MiB of MemTotal the installer starts in its low-memory mode (lowmem)
        ok(m, "create di --mem 1G --vcpus 1 --firmware --disk /root/installer.img,ro")
        ok(m, "start di")
        mark = m.mark()
        with Console(m, "di"):
            m.expect(rb"GNU GRUB +version 2\.", timeout=900, start=mark)
            m.expect(rb"\*Boot the first entry", timeout=60, start=mark)
            m.expect(rb"Linux version \S+ \(debian-kernel@lists\.debian\.org\)", timeout=600,
                     start=mark)
            # the installer's newt frontend on the serial line (in GNU screen's window 1)
            m.expect(rb"Select a language", timeout=1200, start=mark)
            m.expect(rb"Choose the language to be used for the installation process", timeout=60,
                     start=mark)
        wait_info(m, "di", "running", timeout=10)
        ok(m, "stop di --force")
        ok(m, "destroy di")
