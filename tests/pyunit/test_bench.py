#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of scripts/bench.py's bookkeeping (no emulator): the order in which interleave()
runs the sides, the figures compare_peer() prints, and the L1's QEMU command for a guest."""
import os
import shlex
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import bench  # noqa: E402


class Interleave(unittest.TestCase):
    def order(self, sides, runs):
        calls = []
        results = bench.interleave([lambda i, s=s: calls.append((s, i)) or "%s%d" % (s, i) for s in sides],
                                   runs)
        return calls, results

    def test_two_sides_alternate_who_goes_first(self):
        calls, results = self.order("kd", 3)
        self.assertEqual(calls, [("k", 0), ("d", 0), ("d", 1), ("k", 1), ("k", 2), ("d", 2)])
        self.assertEqual(results, [["k0", "k1", "k2"], ["d0", "d1", "d2"]])

    def test_three_sides_rotate(self):
        calls, results = self.order("kpd", 4)
        self.assertEqual([s for s, _ in calls], list("kpd" "pdk" "dkp" "kpd"))
        self.assertEqual(results, [["k0", "k1", "k2", "k3"], ["p0", "p1", "p2", "p3"],
                                   ["d0", "d1", "d2", "d3"]])

    def test_alternate_keeps_its_pair(self):
        self.assertEqual(bench.alternate(lambda i: i, lambda i: -i, 2), ([0, 1], [0, -1]))


class ComparePeer(unittest.TestCase):
    def test_medians_ranges_and_both_ratios(self):
        line = bench.compare_peer("random read", "IOPS", [400, 500, 450], [1000, 1200, 1100],
                                  [8000, 8200, 7900], bench.HIGHER, "%.0f")
        self.assertEqual(line, "  random read: Keel 450 (400-500) IOPS, KVM L1 1100 (1000-1200) IOPS, "
                         "QEMU direct 8000 (7900-8200) IOPS; Keel/KVM 0.409, Keel/direct 0.056; "
                         "higher is better for Keel")

    def test_one_run_has_no_range(self):
        line = bench.compare_peer("boot", "s", [3.0], [2.0], [1.0], bench.LOWER)
        self.assertIn("Keel 3.0 s, KVM L1 2.0 s, QEMU direct 1.0 s; Keel/KVM 1.500, Keel/direct 3.000",
                      line)


class GuestCommand(unittest.TestCase):
    def test_kvm_and_the_rigs_direct_devices(self):
        l1 = bench.KvmL1.__new__(bench.KvmL1)  # no machine: only the command
        argv = shlex.split(l1.guest_command(extra=["-device", "virtio-blk-pci,drive=vd"]))
        self.assertEqual(argv[:6], ["qemu-system-x86_64", "-machine", "q35", "-enable-kvm", "-cpu",
                                    "host,pmu=off"])
        self.assertEqual(argv[argv.index("-append") + 1], bench.GUEST_CMDLINE)
        self.assertEqual(argv[argv.index("-initrd") + 1], "/guest/initrd.img")
        self.assertEqual(argv[-2:], ["-device", "virtio-blk-pci,drive=vd"])
        self.assertIn("-no-reboot", argv)

    def test_no_initrd_and_an_empty_command_line(self):
        l1 = bench.KvmL1.__new__(bench.KvmL1)
        argv = shlex.split(l1.guest_command(kernel="/guest/exitcost.elf", initrd=None, cmdline=""))
        self.assertNotIn("-initrd", argv)
        self.assertEqual(argv[argv.index("-append") + 1], "")


if __name__ == "__main__":
    unittest.main()
