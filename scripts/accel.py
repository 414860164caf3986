# SPDX-License-Identifier: MIT
"""Which accelerator QEMU runs Keel on, for `make run` and the test rig: KVM with the host's
CPU where the host's KVM can nest (Keel needs AMD-V or VT-x inside its VM), else TCG.

KEEL_ACCEL=tcg or KEEL_ACCEL=kvm forces one; a full -accel value (KEEL_ACCEL=tcg,thread=multi)
is passed to QEMU as it is. choose() reads only the files below `root`, so its unit tests
(tests/pyunit/test_accel.py) run it over fake /dev, /proc and /sys trees."""
import collections
import os

# One TCG thread for all vCPUs. Multi-threaded TCG (QEMU 7.2 and 10.0 alike) now and then corrupts
# a VMCB under nested SVM with two CPUs: a #VMEXIT stores Keel's own state, just after its VMRUN, as
# the guest's (an NPF on Keel's page tables). Keel still runs on every CPU; QEMU interleaves them.
TCG_ACCEL = "tcg,thread=single"
TCG_CPU = "EPYC,+svm,+npt"  # TCG models SVM with NPT (shared/EMULATORS.md 1.1), not VMX

# the CPU flag, the vendor module whose `nested` parameter allows nesting, the backend Keel picks
VENDORS = [("svm", "kvm_amd", "AMD-V"), ("vmx", "kvm_intel", "VT-x")]

Accel = collections.namedtuple("Accel", "kind accel cpu backend message")
"""kind: "kvm" or "tcg"; accel and cpu: QEMU's -accel and -cpu values; backend: the name of the
backend Keel runs on that CPU ("AMD-V" or "VT-x"), as its boot report prints it; message: the
line to print at the start of a run."""


def cpu_flags(root):
    """The flags of the first CPU in /proc/cpuinfo (empty when it cannot be read)."""
    try:
        with open(os.path.join(root, "proc/cpuinfo")) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return set(value.split())
    except OSError:
        pass
    return set()


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def kvm_problem(root, flags, opener):
    """Why KVM cannot run Keel here, or None when it can."""
    dev = os.path.join(root, "dev/kvm")
    if not os.path.exists(dev):
        return "no /dev/kvm"
    try:
        os.close(opener(dev, os.O_RDWR | os.O_CLOEXEC))
    except OSError as e:
        return "cannot open /dev/kvm: %s" % (e.strerror or e)
    vendor = [v for v in VENDORS if v[0] in flags]
    if not vendor:
        modules = sorted(m for m in os.listdir(os.path.join(root, "sys/module"))
                         if m.startswith("kvm_")) if os.path.isdir(os.path.join(root, "sys/module")) else []
        return ("the CPU has neither svm nor vmx: this KVM (%s) cannot give a VM hardware "
                "virtualization" % (", ".join(modules) or "no kvm_amd or kvm_intel"))
    flag, module, _ = vendor[0]
    params = os.path.join(root, "sys/module", module, "parameters")
    if not os.path.isdir(os.path.join(root, "sys/module", module)):
        return "the CPU has %s but %s is not loaded" % (flag, module)
    nested = read(os.path.join(params, "nested"))
    if nested is None:
        return "%s has no nested parameter (a kernel too old to nest)" % module
    if nested not in ("1", "Y", "y"):
        return "%s nested=%s: nesting is off (modprobe %s nested=1)" % (module, nested, module)
    return None


def choose(env=None, root="/", opener=os.open):
    """The accelerator for this host, from KEEL_ACCEL in env (default os.environ) and the host's
    /dev/kvm, /proc/cpuinfo and /sys/module below root."""
    env = os.environ if env is None else env
    forced = env.get("KEEL_ACCEL", "").strip()
    kind = forced.split(",")[0]
    if forced and kind not in ("tcg", "kvm"):
        raise ValueError("KEEL_ACCEL=%s: expected tcg or kvm (or an -accel value such as "
                         "tcg,thread=multi)" % forced)
    if kind == "tcg":
        accel = TCG_ACCEL if forced == "tcg" else forced
        return Accel("tcg", accel, TCG_CPU, "AMD-V", "QEMU: TCG (KEEL_ACCEL=%s)" % forced)
    flags = cpu_flags(root)
    vendor = next((v for v in VENDORS if v[0] in flags), None)
    backend = vendor[2] if vendor else "AMD-V"  # without either flag Keel refuses to start anyway
    what = "nested %s (Keel's %s backend)" % (vendor[0].upper(), vendor[2]) if vendor else None
    problem = kvm_problem(root, flags, opener)
    if kind == "kvm":
        said = ", ".join(x for x in (what, problem and "though " + problem) if x)
        return Accel("kvm", forced, "host", backend,
                     "QEMU: KVM (KEEL_ACCEL=%s)%s" % (forced, ", " + said if said else ""))
    if problem:
        return Accel("tcg", TCG_ACCEL, TCG_CPU, "AMD-V", "QEMU: TCG, no usable KVM: " + problem)
    return Accel("kvm", "kvm", "host", backend, "QEMU: KVM, " + what)


if __name__ == "__main__":
    print(choose().message)
