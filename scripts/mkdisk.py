#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds a GPT disk image holding one FAT32 EFI system partition, without
root or loop devices: mtools fills the file system, this script writes the
GPT around it (UEFI 2.10 chapter 5).

usage: mkdisk.py DISK_IMAGE DEST=SRC [DEST=SRC ...]
  e.g. mkdisk.py build/keel-usb.img EFI/BOOT/BOOTX64.EFI=build/keel.efi keel.cfg=keel.cfg"""
import os
import struct
import subprocess
import sys
import uuid
import zlib

SECTOR = 512
FIRST_LBA = 2048  # 1 MiB alignment
ENTRIES = 128
ENTRY_SIZE = 128
ESP_TYPE = uuid.UUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")


def gpt_header(current, backup, first, last, disk_guid, entries_lba, entries_crc):
    fmt = "<8sIIIIQQQQ16sQIII"
    fields = [b"EFI PART", 0x00010000, 92, 0, 0, current, backup, first, last,
              disk_guid.bytes_le, entries_lba, ENTRIES, ENTRY_SIZE, entries_crc]
    crc = zlib.crc32(struct.pack(fmt, *fields))
    fields[3] = crc
    return struct.pack(fmt, *fields).ljust(SECTOR, b"\0")


def make_fat(fat_path, files):
    """files: list of (destination path on the ESP, source file)."""
    need = sum(os.path.getsize(src) for _, src in files)
    mib = max(64, (need * 5 // 4) // (1 << 20) + 16)
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    if os.path.exists(fat_path):
        os.unlink(fat_path)
    with open(fat_path, "wb") as f:
        f.truncate(mib << 20)
    run = lambda *a: subprocess.run(a, check=True, env=env)
    run("mformat", "-i", fat_path, "-F", "-v", "KEEL", "::")
    made = set()
    for dest, src in files:
        parts = dest.strip("/").split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in made:
                run("mmd", "-i", fat_path, "::/" + d)
                made.add(d)
        run("mcopy", "-i", fat_path, src, "::/" + "/".join(parts))


def write_disk(fat_path, disk_path):
    fat_size = os.path.getsize(fat_path)
    fat_sectors = (fat_size + SECTOR - 1) // SECTOR
    entry_sectors = ENTRIES * ENTRY_SIZE // SECTOR
    total = FIRST_LBA + fat_sectors + entry_sectors + 1 + 2048
    last_usable = total - entry_sectors - 2
    # Stable GUIDs make the image reproducible; derive them from the content size.
    disk_guid = uuid.uuid5(uuid.NAMESPACE_URL, "keel-disk-%d" % fat_size)
    part_guid = uuid.uuid5(uuid.NAMESPACE_URL, "keel-esp-%d" % fat_size)
    name = "EFI system partition".encode("utf-16-le").ljust(72, b"\0")
    entry = struct.pack("<16s16sQQQ72s", ESP_TYPE.bytes_le, part_guid.bytes_le, FIRST_LBA,
                        FIRST_LBA + fat_sectors - 1, 0, name)
    entries = entry.ljust(ENTRIES * ENTRY_SIZE, b"\0")
    ecrc = zlib.crc32(entries)
    # Protective MBR (UEFI 2.10 5.2.3): one partition of type 0xEE over the disk.
    mbr = bytearray(SECTOR)
    mbr[446:462] = struct.pack("<BBBBBBBBII", 0, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF, 1,
                               min(total - 1, 0xFFFFFFFF))
    mbr[510:512] = b"\x55\xaa"
    with open(disk_path, "wb") as d:
        d.truncate(total * SECTOR)
        d.write(mbr)
        d.write(gpt_header(1, total - 1, FIRST_LBA, last_usable, disk_guid, 2, ecrc))
        d.write(entries)
        d.seek(FIRST_LBA * SECTOR)
        with open(fat_path, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                d.write(chunk)
        d.seek((total - 1 - entry_sectors) * SECTOR)
        d.write(entries)
        d.write(gpt_header(total - 1, 1, FIRST_LBA, last_usable, disk_guid,
                           total - 1 - entry_sectors, ecrc))


def build(disk_path, files):
    fat_path = disk_path + ".fat"
    make_fat(fat_path, files)
    write_disk(fat_path, disk_path)
    os.unlink(fat_path)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    files = []
    for arg in sys.argv[2:]:
        dest, _, src = arg.partition("=")
        if not src or not os.path.isfile(src):
            sys.exit("mkdisk.py: %s: no such file" % (src or arg))
        files.append((dest, src))
    build(sys.argv[1], files)


if __name__ == "__main__":
    main()
