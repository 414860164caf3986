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


def test_virtio_is_freestanding():
    """virtio/ includes only headers from include/ (so it builds in keel-dm and in tests)."""
    bad = []
    for rel in sources():
        if not rel.startswith("virtio/"):
            continue
        for inc in INCLUDE.findall(open(os.path.join(ROOT, rel)).read()):
            if not inc.startswith("keel/") and not os.path.exists(os.path.join(ROOT, "virtio", inc)):
                bad.append("%s includes %s" % (rel, inc))
    if bad:
        raise TestFailure("\n".join(bad))
