# SPDX-License-Identifier: MIT
"""Checks on the source tree itself: the layering rules of STYLE.md."""
import glob
import os
import re

from rig import ROOT, TestFailure

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


def sources():
    for pattern in ("**/*.c", "**/*.h", "**/*.S"):
        for path in glob.glob(os.path.join(ROOT, pattern), recursive=True):
            rel = os.path.relpath(path, ROOT)
            if not rel.startswith("build/"):
                yield rel


def test_backend_headers_stay_private():
    """Nothing outside arch/x86/svm/ and arch/x86/vmx/ includes their headers (unit tests may)."""
    bad = []
    for rel in sources():
        if rel.startswith("tests/unit/"):
            continue
        for inc in INCLUDE.findall(open(os.path.join(ROOT, rel), errors="replace").read()):
            for backend in ("svm", "vmx"):
                here = rel.startswith("arch/x86/%s/" % backend)
                if not here and re.search(r"(^|/)%s/[^/]+\.h$" % backend, inc):
                    bad.append("%s includes %s" % (rel, inc))
    if bad:
        raise TestFailure("\n".join(bad))


def test_every_file_says_what_it_is_for():
    """Each source file opens with an SPDX line and a one-line purpose comment."""
    bad = []
    for rel in sources():
        if rel.startswith("tests/fuzz/corpus"):
            continue
        head = open(os.path.join(ROOT, rel), errors="replace").read().splitlines()[:3]
        if len(head) < 2 or "SPDX-License-Identifier" not in head[0] or not head[1].lstrip().startswith(("/*", "//")):
            bad.append(rel)
    if bad:
        raise TestFailure("missing SPDX or purpose line: " + ", ".join(bad))


# Which headers each part of the tree may include (STYLE.md "header tiers"). System and compiler
# headers (<stdint.h>, <poll.h>...) are free everywhere but in the hypervisor and virtio/.
TIERS = [
    # (where, may include: prefixes of <...> names; None: any system header too)
    ("include/uapi/", ("stdint.h", "stddef.h")),
    ("include/lib/", ("lib/", "stdbool.h", "stddef.h", "stdint.h", "stdarg.h")),
    ("include/virtio/", ("virtio/", "lib/")),
    ("virtio/", ("virtio/", "lib/")),
    ("tools/", ("uapi/", "lib/", "virtio/", None)),
]
HYPERVISOR = ("boot/", "arch/", "core/", "drivers/", "lib/", "vmm/", "iommu/", "include/keel/")
OURS = ("keel/", "arch/", "lib/", "uapi/", "virtio/", "vmm/", "drivers/", "core/", "boot/", "iommu/",
        "tests/", "tools/")


def includes(rel):
    """The <...> includes of a file (quoted ones are its own folder's private headers)."""
    text = open(os.path.join(ROOT, rel), errors="replace").read()
    return re.findall(r'^\s*#\s*include\s*<([^>]+)>', text, re.M)


def test_header_tiers():
    """uapi is self-contained, lib includes only lib, virtio/ only its API and lib, tools never the
    hypervisor's internal headers, and the hypervisor never virtio's API."""
    bad = []
    for rel in sources():
        if rel.startswith("tests/"):
            continue
        for inc in includes(rel):
            if rel.startswith(HYPERVISOR) and inc.startswith("virtio/"):
                bad.append("%s (hypervisor) includes <%s>" % (rel, inc))
            for where, allowed in TIERS:
                if not rel.startswith(where):
                    continue
                system_ok = None in allowed and not inc.startswith(OURS)
                if not system_ok and not inc.startswith(tuple(a for a in allowed if a)):
                    bad.append("%s includes <%s>" % (rel, inc))
    if bad:
        raise TestFailure("\n".join(bad))


def test_source_folders_stay_small():
    """No source folder holds more than 16 C files directly (a folder per concern instead)."""
    counts = {}
    for rel in sources():
        if rel.endswith(".c") and not rel.startswith(("tests/fuzz/corpus", "tests/data")):
            counts[os.path.dirname(rel)] = counts.get(os.path.dirname(rel), 0) + 1
    big = ["%s has %d" % (d, n) for d, n in sorted(counts.items()) if n > 16]
    if big:
        raise TestFailure("folders with more than 16 C files: " + ", ".join(big))


def c_sources():
    return sorted(rel for rel in sources()
                  if rel.endswith((".c", ".h")) and not rel.startswith(("tests/data/", "tests/fuzz/corpus")))


def test_every_c_file_is_formatted():
    """clang-format (Debian 12's, with the checked-in .clang-format) leaves every C file as it is;
    the config never disables formatting, and each `clang-format off` has a reason above it."""
    import subprocess
    config = open(os.path.join(ROOT, ".clang-format")).read()
    if re.search(r"^\s*DisableFormat:\s*true", config, re.M):
        raise TestFailure(".clang-format sets DisableFormat")
    p = subprocess.run(["clang-format", "--dry-run", "--Werror"] + c_sources(), cwd=ROOT,
                       capture_output=True, text=True)
    if p.returncode:
        files = sorted(set(re.findall(r"^(\S+?):\d+:\d+: error", p.stderr, re.M)))
        raise TestFailure("not formatted (run clang-format -i on them): " + ", ".join(files)
                          + "\n" + p.stderr[:2000])
    bad = []
    for rel in c_sources():
        lines = open(os.path.join(ROOT, rel), errors="replace").read().splitlines()
        for i, line in enumerate(lines):
            if "clang-format off" in line:
                above = lines[i - 1].strip() if i else ""
                if not above.startswith(("/*", "//", "*")) or "clang-format" in above:
                    bad.append("%s:%d" % (rel, i + 1))
    if bad:
        raise TestFailure("clang-format off without a reason on the line above: " + ", ".join(bad))


def test_guest_physical_maps_change_in_one_place():
    """A VM's guest-physical map is changed and read only in vmm/vm_gpa.c, under its lock and
    with the flush that makes a removal complete."""
    bad = []
    rx = re.compile(r"\bpt_(map|unmap|walk|lookup)\s*\(\s*&[\w.>-]*gpa\b")
    for rel in c_sources():
        if rel.startswith(("tests/", "vmm/vm_gpa.c")):
            continue
        text = open(os.path.join(ROOT, rel), errors="replace").read()
        bad += ["%s: pt_%s" % (rel, m) for m in rx.findall(text)]
    if bad:
        raise TestFailure("guest-physical map changed outside vmm/vm_gpa.c: " + ", ".join(bad))
