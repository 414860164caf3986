# SPDX-License-Identifier: MIT
"""`make bench P=uefi-boot`: a UEFI guest's boot through Debian's OVMF and GRUB to its shell, under
Keel and under QEMU directly, from the same disk image with the same firmware (issue 21).

The image: a GPT disk whose ESP holds GRUB (scripts/mkgrubdisk.py) with a grub.cfg that boots at
once (timeout 0) the stock kernel and the guest initramfs, console=ttyS0 and tsc_early_khz=N:
firmware cannot pass Keel's TSC rate on, and N is the outer QEMU's TSC, which Keel measures
(its `clock: TSC N MHz` line) and which QEMU's TCG gives a direct guest too, so the same N is
right on both sides. Keel: the service VM up, the image copied into its tmpfs, `keelctl create
--firmware --disk` (512 MiB: GRUB 2.06 cannot load Debian's kernel in 256), then the wall time
from `keelctl start` to the guest's banner on `keelctl console`. QEMU direct: q35 with the same
OVMF_CODE_4M.fd and a fresh copy of OVMF_VARS_4M.fd as pflash, the image on virtio-blk-pci,
512 MiB and 1 vCPU; the wall time from QEMU's start to the banner on its serial port. Both also
give the guest's uptime at its banner (Linux's own part of the boot)."""
import os
import re
import shutil
import time

import mkgrubdisk
from guestctl import boot, ok
from rig import BUILD, OVMF_CODE, OVMF_VARS, Machine, check, kernel_path

BANNER = r"Keel guest bench: [^\n]* up ([0-9.]+) s"
TSC_SLOT = b"tsc_early_khz=@KHZ@@@@@"  # the number is written over it, padded with spaces


def image(out, files=None):
    """(the image's path, the offset of TSC_SLOT's number in it); files: the kernel and the
    initramfs on its ESP, the stock ones unless given."""
    cfg = os.path.join(out, "uefi-boot.grub.cfg")
    with open(cfg, "w") as f:
        f.write("set timeout=0\nset default=0\nmenuentry 'bench' {\n"
                "\tlinux /vmlinuz console=ttyS0 keel.name=bench %s\n\tinitrd /initrd.img\n}\n"
                % TSC_SLOT.decode())
    path = os.path.join(out, "uefi-boot.img")
    mkgrubdisk.build(path, cfg, files or [("vmlinuz", kernel_path()),
                                          ("initrd.img", os.path.join(BUILD, "guest-initrd.img"))])
    data = open(path, "rb").read()
    at = data.find(TSC_SLOT)
    assert at > 0 and data.find(TSC_SLOT, at + 1) < 0, "no single %s in %s" % (TSC_SLOT, path)
    return path, at + len(b"tsc_early_khz=")


def patched(path, offset, khz, dest):
    """A copy of the image at dest with the TSC rate in its grub.cfg."""
    shutil.copy(path, dest)
    with open(dest, "r+b") as f:
        f.seek(offset)
        f.write(b"%-9d" % khz)
    return dest


class DirectFirmware(Machine):
    """QEMU alone booting firmware from pflash with the devices args name (no Keel, no stick)."""

    def __init__(self, name, args):
        super().__init__(name, None, smp=1, mem="512M", timeout=600)
        self.args = args

    def build_disk(self):
        return None

    def firmware_args(self, disk):
        return self.args


class UefiBench:
    """The image, built once, and the TSC rate Keel measured (Keel's side runs first)."""

    def __init__(self, out, service_cfg, service_files):
        self.out, self.cfg, self.files = out, service_cfg, service_files
        self.path, self.offset = image(out)
        self.khz = None

    def keel(self, i):
        """(wall s from `keelctl start` to the banner, the guest's uptime then)."""
        files = dict(self.files, **{"OVMF_CODE_4M.fd": OVMF_CODE, "OVMF_VARS_4M.fd": OVMF_VARS,
                                    "uefi/boot.img": self.path})
        with Machine("bench_uefi_keel%d" % i, self.cfg, files, smp=2, timeout=900) as m:
            boot(m)
            mhz = re.search(r"keel: clock: TSC (\d+) MHz", m.text())
            check(mhz, "no TSC rate in Keel's log", m)
            self.khz = int(mhz.group(1)) * 1000
            m.shell("cp /mnt/keel/uefi/boot.img /root/boot.img && printf '%%-9d' %d | "
                    "dd of=/root/boot.img bs=1 seek=%d conv=notrunc 2>/dev/null"
                    % (self.khz, self.offset), timeout=300)
            ok(m, "create bench --mem 512M --vcpus 1 --firmware --disk /root/boot.img,ro")
            mark = m.mark()
            t0 = time.time()
            m.send("keelctl start bench && keelctl console bench\n")
            up = float(m.expect(BANNER, timeout=600, start=mark).group(1))
            wall = time.time() - t0
            m.send(b"\x1d\n")
            m.expect(r"detached from bench", timeout=30, start=mark)
        return wall, up

    def direct(self, i):
        """The same image and firmware under QEMU alone."""
        assert self.khz, "QEMU direct ran before Keel measured the TSC rate"
        name = "bench_uefi_direct%d" % i
        img = patched(self.path, self.offset, self.khz,
                      os.path.join(BUILD, "tests", name + ".img"))
        vars_fd = os.path.join(BUILD, "tests", name + ".vars.fd")
        shutil.copy(OVMF_VARS, vars_fd)
        args = ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                "-drive", "if=pflash,format=raw,unit=1,file=" + vars_fd,
                "-drive", "if=none,id=d0,format=raw,readonly=on,file=" + img,
                "-device", "virtio-blk-pci,drive=d0,bootindex=0"]
        t0 = time.time()
        with DirectFirmware(name, args) as m:
            up = float(m.expect(BANNER, timeout=590).group(1))
            wall = time.time() - t0
        return wall, up
