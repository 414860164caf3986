#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of scripts/accel.py, the choice between KVM and TCG, over fake /dev, /proc and /sys
trees: nesting on and off on AMD and Intel, a vendor module missing, /dev/kvm missing or
unopenable, a paravirtual KVM that shows no svm/vmx, and KEEL_ACCEL forcing either."""
import errno
import os
import shutil
import stat
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import accel  # noqa: E402

BASE_FLAGS = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge cmov lm constant_tsc nx"


class FakeHost:
    """A directory holding what accel.choose() reads: dev/kvm, proc/cpuinfo, sys/module/*."""

    def __init__(self, flags=(), kvm_dev=True, modules=None, cpus=2):
        """modules: {name: {parameter: value}}; a parameter value of None leaves that file out."""
        self.root = tempfile.mkdtemp(prefix="keel-accel-")
        self.opened = []
        for d in ("dev", "proc", "sys/module"):
            os.makedirs(os.path.join(self.root, d))
        if kvm_dev:
            open(os.path.join(self.root, "dev/kvm"), "w").close()
        with open(os.path.join(self.root, "proc/cpuinfo"), "w") as f:
            for cpu in range(cpus):
                f.write("processor\t: %d\nmodel name\t: Fake CPU\nflags\t\t: %s\n\n" % (
                    cpu, " ".join([BASE_FLAGS] + list(flags))))
        for name, params in (modules or {}).items():
            pdir = os.path.join(self.root, "sys/module", name, "parameters")
            os.makedirs(pdir)
            for key, value in params.items():
                if value is not None:
                    with open(os.path.join(pdir, key), "w") as f:
                        f.write(value + "\n")

    def opener(self, path, mode):
        self.opened.append(path)
        return os.open(path, mode)

    def choose(self, env=None, opener=None):
        return accel.choose(env or {}, self.root, opener or self.opener)

    def close(self):
        shutil.rmtree(self.root)


def refuse(err):
    def opener(path, mode):
        raise OSError(err, os.strerror(err), path)
    return opener


class AccelTest(unittest.TestCase):
    def host(self, **kw):
        h = FakeHost(**kw)
        self.addCleanup(h.close)
        return h

    def assertTcg(self, a, why):
        self.assertEqual((a.kind, a.accel, a.cpu, a.backend),
                         ("tcg", "tcg,thread=single", "EPYC,+svm,+npt", "AMD-V"))
        self.assertEqual(a.message, "QEMU: TCG, no usable KVM: " + why)

    def test_amd_nesting_on(self):
        h = self.host(flags=["svm"], modules={"kvm": {}, "kvm_amd": {"nested": "1"}})
        a = h.choose()
        self.assertEqual((a.kind, a.accel, a.cpu, a.backend), ("kvm", "kvm", "host", "AMD-V"))
        self.assertEqual(a.message, "QEMU: KVM, nested SVM (Keel's AMD-V backend)")
        self.assertEqual(h.opened, [os.path.join(h.root, "dev/kvm")])

    def test_intel_nesting_on(self):
        h = self.host(flags=["vmx", "ept"], modules={"kvm": {}, "kvm_intel": {"nested": "Y"}})
        a = h.choose()
        self.assertEqual((a.kind, a.accel, a.cpu, a.backend), ("kvm", "kvm", "host", "VT-x"))
        self.assertEqual(a.message, "QEMU: KVM, nested VMX (Keel's VT-x backend)")

    def test_amd_nesting_off(self):
        h = self.host(flags=["svm"], modules={"kvm_amd": {"nested": "0"}})
        self.assertTcg(h.choose(), "kvm_amd nested=0: nesting is off (modprobe kvm_amd nested=1)")

    def test_intel_nesting_off(self):
        h = self.host(flags=["vmx"], modules={"kvm_intel": {"nested": "N"}})
        self.assertTcg(h.choose(), "kvm_intel nested=N: nesting is off (modprobe kvm_intel nested=1)")

    def test_vendor_module_missing(self):
        h = self.host(flags=["vmx"], modules={"kvm": {}, "kvm_amd": {"nested": "1"}})
        self.assertTcg(h.choose(), "the CPU has vmx but kvm_intel is not loaded")

    def test_no_nested_parameter(self):
        h = self.host(flags=["svm"], modules={"kvm_amd": {"nested": None, "npt": "1"}})
        self.assertTcg(h.choose(), "kvm_amd has no nested parameter (a kernel too old to nest)")

    def test_no_dev_kvm(self):
        h = self.host(flags=["svm"], kvm_dev=False, modules={"kvm_amd": {"nested": "1"}})
        self.assertTcg(h.choose(), "no /dev/kvm")
        self.assertEqual(h.opened, [])

    def test_dev_kvm_unopenable(self):
        h = self.host(flags=["vmx"], modules={"kvm_intel": {"nested": "Y"}})
        self.assertTcg(h.choose(opener=refuse(errno.EACCES)), "cannot open /dev/kvm: Permission denied")
        self.assertTcg(h.choose(opener=refuse(errno.ENXIO)),
                       "cannot open /dev/kvm: No such device or address")

    def test_dev_kvm_node_unopenable(self):
        """The real open() of a /dev/kvm this process may not open: as root, a character device
        whose driver is not there (open fails with ENXIO, as when kvm.ko is not loaded); as
        another user, a mode-000 file."""
        h = self.host(flags=["svm"], modules={"kvm_amd": {"nested": "1"}})
        node = os.path.join(h.root, "dev/kvm")
        if os.geteuid() == 0:
            with open("/proc/devices") as f:
                used = {int(w[0]) for w in (l.split() for l in f) if w and w[0].isdigit()}
            os.unlink(node)
            os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(min(set(range(234, 255)) - used), 0))
        else:
            os.chmod(node, 0)
        a = h.choose()
        self.assertEqual(a.kind, "tcg")
        self.assertRegex(a.message, r"^QEMU: TCG, no usable KVM: cannot open /dev/kvm: "
                                    r"(No such device or address|Permission denied)$")

    def test_paravirtual_kvm_without_svm_or_vmx(self):
        """/dev/kvm opens, but the CPU (e.g. a PVM guest's) has no hardware virtualization to nest."""
        h = self.host(flags=["hypervisor"], modules={"kvm": {}, "kvm_pvm": {"force": "N"}})
        self.assertTcg(h.choose(), "the CPU has neither svm nor vmx: this KVM (kvm_pvm) cannot give "
                                   "a VM hardware virtualization")
        self.assertEqual(len(h.opened), 1)

    def test_no_cpuinfo(self):
        h = self.host(modules={"kvm_amd": {"nested": "1"}})
        os.unlink(os.path.join(h.root, "proc/cpuinfo"))
        self.assertTcg(h.choose(), "the CPU has neither svm nor vmx: this KVM (kvm_amd) cannot give "
                                   "a VM hardware virtualization")

    def test_force_tcg_over_usable_kvm(self):
        h = self.host(flags=["svm"], modules={"kvm_amd": {"nested": "1"}})
        a = h.choose({"KEEL_ACCEL": "tcg"})
        self.assertEqual((a.kind, a.accel, a.cpu, a.backend, a.message),
                         ("tcg", "tcg,thread=single", "EPYC,+svm,+npt", "AMD-V",
                          "QEMU: TCG (KEEL_ACCEL=tcg)"))

    def test_force_tcg_with_options(self):
        h = self.host(flags=["svm"], modules={"kvm_amd": {"nested": "1"}})
        a = h.choose({"KEEL_ACCEL": "tcg,thread=multi"})
        self.assertEqual((a.kind, a.accel, a.cpu), ("tcg", "tcg,thread=multi", "EPYC,+svm,+npt"))

    def test_force_kvm_where_nesting_is_off(self):
        h = self.host(flags=["vmx"], modules={"kvm_intel": {"nested": "N"}})
        a = h.choose({"KEEL_ACCEL": "kvm"})
        self.assertEqual((a.kind, a.accel, a.cpu, a.backend), ("kvm", "kvm", "host", "VT-x"))
        self.assertEqual(a.message, "QEMU: KVM (KEEL_ACCEL=kvm), nested VMX (Keel's VT-x backend), "
                                    "though kvm_intel nested=N: nesting is off (modprobe kvm_intel nested=1)")

    def test_force_kvm_where_it_works(self):
        h = self.host(flags=["svm"], modules={"kvm_amd": {"nested": "1"}})
        a = h.choose({"KEEL_ACCEL": "kvm"})
        self.assertEqual((a.kind, a.backend, a.message),
                         ("kvm", "AMD-V", "QEMU: KVM (KEEL_ACCEL=kvm), nested SVM (Keel's AMD-V backend)"))

    def test_unknown_accel_is_refused(self):
        h = self.host(flags=["svm"], modules={"kvm_amd": {"nested": "1"}})
        with self.assertRaisesRegex(ValueError, "KEEL_ACCEL=hvf: expected tcg or kvm"):
            h.choose({"KEEL_ACCEL": "hvf"})

    def test_empty_accel_chooses(self):
        h = self.host(flags=["svm"], modules={"kvm_amd": {"nested": "1"}})
        self.assertEqual(h.choose({"KEEL_ACCEL": ""}).kind, "kvm")


if __name__ == "__main__":
    unittest.main(verbosity=2)
