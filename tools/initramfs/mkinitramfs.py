#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds a gzip'd cpio (newc) initramfs from Debian's busybox-static, the
kernel modules named (with their dependencies from modules.dep, loaded in
order by /etc/modules.load), an init script and extra files. Device nodes
are written straight into the archive, so no root is needed. A --dynamic
program comes with the shared libraries ldd finds for it, at their paths.

usage: mkinitramfs.py OUT --init FILE [--kver VER] [--module NAME ...] [--file DEST=SRC ...]
                      [--dynamic DEST=SRC ...]"""
import argparse
import gzip
import os
import re
import stat
import subprocess
import sys

BUSYBOX = "/bin/busybox"


class Cpio:
    """SVR4 "newc" format: 110-byte ASCII header, name, data, each padded to 4."""

    def __init__(self):
        self.out = bytearray()
        self.ino = 1000
        self.seen = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        self.ino += 1
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0))
        self.out += hdr.encode() + nb
        self.out += b"\0" * (-(110 + len(nb)) % 4)
        self.out += data
        self.out += b"\0" * (-len(data) % 4)

    def dirs(self, path):
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.seen:
                self.seen.add(d)
                self._entry(d, stat.S_IFDIR | 0o755)

    def file(self, path, data, mode=0o644):
        self.dirs(path)
        self._entry(path.strip("/"), stat.S_IFREG | mode, data)

    def symlink(self, path, target):
        self.dirs(path)
        self._entry(path.strip("/"), stat.S_IFLNK | 0o777, target.encode())

    def node(self, path, kind, major, minor, mode=0o600):
        self.dirs(path)
        self._entry(path.strip("/"), kind | mode, rdev=(major, minor))

    def directory(self, path):
        self.dirs(path + "/x")

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return bytes(self.out)


def module_closure(kver, names):
    """Module files for names and everything they depend on, dependencies first."""
    base = "/lib/modules/%s" % kver
    deps, by_name = {}, {}
    for line in open(base + "/modules.dep"):
        mod, _, rest = line.partition(":")
        deps[mod] = rest.split()
        by_name[os.path.basename(mod).split(".ko")[0].replace("-", "_")] = mod
    order = []

    def visit(mod):
        if mod in order:
            return
        for d in deps.get(mod, []):
            visit(d)
        order.append(mod)

    for n in names:
        key = n.replace("-", "_")
        if key not in by_name:
            sys.exit("mkinitramfs: no module %s for kernel %s" % (n, kver))
        visit(by_name[key])
    return base, order


def shared_libraries(program):
    """The absolute paths ldd lists for program: its libraries and the dynamic loader."""
    out = subprocess.run(["ldd", program], capture_output=True, text=True)
    if out.returncode:
        sys.exit("mkinitramfs: ldd %s: %s" % (program, out.stderr.strip()))
    libs = re.findall(r"^\s*(?:\S+ => )?(/\S+) \(0x", out.stdout, re.M)
    if "not found" in out.stdout:
        sys.exit("mkinitramfs: %s needs a library this machine lacks:\n%s" % (program, out.stdout))
    return libs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--init", required=True)
    ap.add_argument("--kver", default=None)
    ap.add_argument("--module", action="append", default=[])
    ap.add_argument("--file", action="append", default=[])
    ap.add_argument("--dynamic", action="append", default=[])
    a = ap.parse_args()
    c = Cpio()
    for d in ("proc", "sys", "dev", "tmp", "run", "root", "mnt", "etc", "var/log"):
        c.directory(d)
    c.node("dev/console", stat.S_IFCHR, 5, 1)
    c.node("dev/null", stat.S_IFCHR, 1, 3, 0o666)
    c.node("dev/ttyS0", stat.S_IFCHR, 4, 64)
    c.file("bin/busybox", open(BUSYBOX, "rb").read(), 0o755)
    c.symlink("bin/sh", "busybox")
    c.file("init", open(a.init, "rb").read(), 0o755)
    c.file("etc/hostname", b"keel-service\n")
    c.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
    c.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    if a.module:
        kver = a.kver or sorted(os.listdir("/lib/modules"))[-1]
        base, order = module_closure(kver, a.module)
        for mod in order:
            c.file("lib/modules/%s/%s" % (kver, mod), open(os.path.join(base, mod), "rb").read())
        c.file("etc/modules.load", "".join("/lib/modules/%s/%s\n" % (kver, m) for m in order).encode())
    libs = []
    for spec in a.dynamic:
        libs += [l for l in shared_libraries(spec.partition("=")[2]) if l not in libs]
    for spec in a.file + a.dynamic:
        dest, _, src = spec.partition("=")
        mode = os.stat(src).st_mode & 0o777
        c.file(dest, open(src, "rb").read(), mode)
    for lib in libs:  # the file a symlink names, at the path the loader looks for
        c.file(lib, open(os.path.realpath(lib), "rb").read(), 0o755)
    with open(a.out, "wb") as f:
        f.write(gzip.compress(c.finish(), 6))


if __name__ == "__main__":
    main()
