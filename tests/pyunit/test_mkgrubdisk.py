#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of scripts/mkgrubdisk.py: the image it builds has a protective MBR, a GPT whose one
partition is an EFI system partition, and on it GRUB as an x86-64 PE image at the removable-media
path with the grub.cfg and files given, read back with mtools; a missing file is refused."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import uuid
import zlib

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts")
sys.path.insert(0, SCRIPTS)
import mkgrubdisk  # noqa: E402

ESP_TYPE = uuid.UUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")  # UEFI 2.10 table 5.14
MACHINE_X64 = 0x8664  # PE/COFF machine type for x86-64 (PE format, "Machine Types")


@unittest.skipUnless(os.path.isdir(mkgrubdisk.GRUB_DIR), "grub-efi-amd64-bin not installed")
class MkGrubDisk(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="keel-mkgrubdisk-")
        self.cfg = os.path.join(self.dir, "grub.cfg")
        with open(self.cfg, "w") as f:
            f.write("set timeout=2\nmenuentry 'one' {\n\tlinux /vmlinuz console=ttyS0\n}\n")
        self.kernel = os.path.join(self.dir, "kernel")
        with open(self.kernel, "wb") as f:
            f.write(os.urandom(100000))
        self.disk = os.path.join(self.dir, "disk.img")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def read_esp(self, path):
        """A file from the ESP, through mtools at the partition's offset."""
        with open(self.disk, "rb") as f:
            f.seek(512)
            hdr = f.read(92)
            entries_lba = struct.unpack_from("<Q", hdr, 72)[0]
            f.seek(entries_lba * 512)
            first = struct.unpack_from("<Q", f.read(128), 32)[0]
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
        return subprocess.run(["mtype", "-i", "%s@@%d" % (self.disk, first * 512), "::" + path],
                              check=True, capture_output=True, env=env).stdout

    def test_layout_and_files(self):
        mkgrubdisk.build(self.disk, self.cfg, [("vmlinuz", self.kernel)])
        with open(self.disk, "rb") as f:
            mbr = f.read(512)
            hdr = f.read(512)
            entries = f.read(128 * 128)
        self.assertEqual(mbr[510:512], b"\x55\xaa")
        self.assertEqual(mbr[446 + 4], 0xEE)  # protective MBR (UEFI 2.10 5.2.3)
        self.assertEqual(hdr[:8], b"EFI PART")
        size = struct.unpack_from("<I", hdr, 12)[0]
        crc = struct.unpack_from("<I", hdr, 16)[0]
        self.assertEqual(zlib.crc32(hdr[:16] + b"\0\0\0\0" + hdr[20:size]), crc)
        self.assertEqual(uuid.UUID(bytes_le=entries[:16]), ESP_TYPE)
        self.assertEqual(struct.unpack_from("<I", hdr, 88)[0], zlib.crc32(entries))
        efi = self.read_esp("/EFI/BOOT/BOOTX64.EFI")
        self.assertEqual(efi[:2], b"MZ")
        pe = struct.unpack_from("<I", efi, 0x3C)[0]
        self.assertEqual(efi[pe:pe + 4], b"PE\0\0")
        self.assertEqual(struct.unpack_from("<H", efi, pe + 4)[0], MACHINE_X64)
        self.assertEqual(self.read_esp("/EFI/BOOT/grub.cfg"), open(self.cfg, "rb").read())
        self.assertEqual(self.read_esp("/vmlinuz"), open(self.kernel, "rb").read())

    def test_missing_file(self):
        p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "mkgrubdisk.py"), self.disk,
                            self.cfg, "vmlinuz=" + os.path.join(self.dir, "nothing")],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("nothing: no such file", p.stderr)
        self.assertFalse(os.path.exists(self.disk))


if __name__ == "__main__":
    unittest.main()
