#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of scripts/bench.py's bookkeeping (no emulator): the order in which interleave()
runs the sides, the figures compare_peer() prints, the L1's QEMU command for a guest, and
bench_exits' reading of keelctl exits and the guest's counters and its per-request report."""
import os
import shlex
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import bench  # noqa: E402
import bench_exits as bx  # noqa: E402
import bench_uefi  # noqa: E402


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


# keelctl exits as the service VM's console shows it: right-aligned counts, one MSI-X table per
# device (the label repeats), and a line of Keel's log in between.
EXITS_TEXT = """keelctl exits bench
         120 exit port I/O
keel: vm bench: a log line 7 of its own
          40 exit nested page fault
          30 mmio local APIC
           5 mmio MSI-X table
           5 mmio MSI-X table
          12 keel-dm doorbell writes
"""

STATS_TEXT = """cat /sys/block/vda/stat /sys/class/net/eth0/statistics/tx_packets /sys/class/net/eth0/statistics/rx_packets
    2051        0    16408      337        9        0       72        1        0      484      338        0        0        0        0
12
34
[bench] / # """


class ExitCounts(unittest.TestCase):
    def test_labels_summed_and_log_lines_left_out(self):
        self.assertEqual(bx.parse_exits(EXITS_TEXT), {"exit port I/O": 120, "exit nested page fault": 40,
                                                      "mmio local APIC": 30, "mmio MSI-X table": 10,
                                                      "keel-dm doorbell writes": 12})

    def test_guest_counters(self):
        self.assertEqual(bx.parse_guest_stats(STATS_TEXT), (2051, 9, 46))

    def test_guest_counters_missing_is_an_error(self):
        with self.assertRaises(ValueError):
            bx.parse_guest_stats("cat: can't open '/sys/block/vda/stat'\n12\n34\n")

    def test_per_request_cancels_fixed_costs(self):
        # both runs spent 100 HLT and 50 port exits besides their requests; 3 HLT a request
        small = ({"exit HLT": 100 + 3 * 1000, "exit port I/O": 50}, 1000)
        large = ({"exit HLT": 100 + 3 * 2000, "exit port I/O": 50, "mmio local APIC": 2000}, 2000)
        per = bx.per_request(small, large)
        self.assertEqual(per, {"exit HLT": 3.0, "exit port I/O": 0.0, "mmio local APIC": 2.0})
        self.assertEqual(bx.total(per), 3.0)  # only the reasons: the rest breaks them down

    def test_per_request_needs_more_requests_in_the_larger_run(self):
        with self.assertRaises(ValueError):
            bx.per_request(({}, 1000), ({}, 1000))

    def test_delta(self):
        self.assertEqual(bx.delta({"a": 5, "b": 2}, {"a": 3}), {"a": 2, "b": 2})

    def test_report_line_largest_first_medians_and_small_ones_left_out(self):
        rounds = [{"exit HLT": 2.0, "exit nested page fault": 5.0, "exit CPUID": 0.01, "mmio local APIC": 2.0},
                  {"exit HLT": 2.0, "exit nested page fault": 7.0, "mmio local APIC": 2.0},
                  {"exit HLT": 2.0, "exit nested page fault": 6.0, "mmio local APIC": 2.0}]
        self.assertEqual(bx.report_side("guest", rounds),
                         "    guest: 8.00 (7.01-9.00) exits: nested page fault 6.00 (5.00-7.00), "
                         "HLT 2.00; of which (or events): mmio local APIC 2.00")

    def test_report(self):
        res = {"randread": {"what": "4 KiB random read", "unit": "read", "rate_unit": "IOPS",
                            "rate": [400.0, 500.0], "guest": [{"exit HLT": 1.0}, {"exit HLT": 1.0}],
                            "service": [{"exit port I/O": 24.0}, {"exit port I/O": 24.0}]}}
        lines = bx.report(res, 2, "acpi_pm")
        self.assertIn("median (range) of 2 round(s)", lines[0])
        self.assertEqual(lines[1:], ["  the guest's clocksource: acpi_pm","  4 KiB random read, per read (450 (400-500) IOPS):",
                                     "    guest: 1.00 exits: HLT 1.00",
                                     "    service VM: 24.00 exits: port I/O 24.00"])


class UefiImage(unittest.TestCase):
    def test_the_tsc_rate_lands_in_grub_cfg_once(self):
        import tempfile
        with tempfile.TemporaryDirectory() as out:
            small = os.path.join(out, "small")
            with open(small, "w") as f:
                f.write("not a kernel\n")
            path, offset = bench_uefi.image(out, [("vmlinuz", small), ("initrd.img", small)])
            dest = bench_uefi.patched(path, offset, 2097000, os.path.join(out, "p.img"))
            data = open(dest, "rb").read()
            self.assertEqual(data.count(b"tsc_early_khz=2097000  "), 1)
            self.assertNotIn(bench_uefi.TSC_SLOT, data)
            self.assertIn(bench_uefi.TSC_SLOT, open(path, "rb").read())  # the original kept

if __name__ == "__main__":
    unittest.main()
