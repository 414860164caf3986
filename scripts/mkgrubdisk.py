#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds a GPT disk image whose EFI system partition boots GRUB (Debian's
grub-efi-amd64-bin, as \\EFI\\BOOT\\BOOTX64.EFI, the removable-media path of
UEFI 2.10 3.5.1.1) with a grub.cfg, and the files it names; mkdisk.py lays
out the disk. No root needed.

usage: mkgrubdisk.py DISK_IMAGE GRUB_CFG [DEST=SRC ...]
  e.g. mkgrubdisk.py guest.img grub.cfg vmlinuz=/boot/vmlinuz-6.1.0-57-amd64 initrd.img=initrd"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkdisk  # noqa: E402

GRUB_DIR = "/usr/lib/grub/x86_64-efi"
# What a grub.cfg booting Linux over a serial console uses: GPT and FAT to find it, the menu
# (normal), the Linux loader (linux: the EFI handover), gzip'd initrds read as they are, the
# 16550 and terminal switching, and the commands of a small menu.
MODULES = ["part_gpt", "part_msdos", "fat", "normal", "configfile", "linux", "boot", "echo",
           "serial", "terminal", "terminfo", "test", "sleep", "reboot", "halt", "ls", "cat",
           "search", "search_fs_file", "efifwsetup"]
PREFIX = "/EFI/BOOT"  # GRUB reads PREFIX/grub.cfg on the partition it was loaded from


def grub_efi(out):
    """GRUB as one EFI application with its modules built in."""
    if not os.path.isdir(GRUB_DIR):
        sys.exit("mkgrubdisk: no %s: install grub-efi-amd64-bin (make deps)" % GRUB_DIR)
    subprocess.run(["grub-mkimage", "-O", "x86_64-efi", "-d", GRUB_DIR, "-p", PREFIX,
                    "-o", out] + MODULES, check=True)


def build(disk_path, grub_cfg, files):
    """files: (destination on the ESP, source file) besides GRUB and its grub.cfg."""
    efi = disk_path + ".grubx64.efi"
    grub_efi(efi)
    try:
        mkdisk.build(disk_path, [("EFI/BOOT/BOOTX64.EFI", efi),
                                 (PREFIX.strip("/") + "/grub.cfg", grub_cfg)] + list(files))
    finally:
        os.unlink(efi)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    files = []
    for arg in sys.argv[3:]:
        dest, _, src = arg.partition("=")
        if not src or not os.path.isfile(src):
            sys.exit("mkgrubdisk.py: %s: no such file" % (src or arg))
        files.append((dest, src))
    if not os.path.isfile(sys.argv[2]):
        sys.exit("mkgrubdisk.py: %s: no such file" % sys.argv[2])
    build(sys.argv[1], sys.argv[2], files)


if __name__ == "__main__":
    main()
