# SPDX-License-Identifier: MIT
"""`make bench P=exits`: Keel's exits per guest I/O request, in the guest and in the service VM, by reason.

One Keel machine (1 CPU, as the virtio-disk part) runs the service VM and one Linux guest with a
virtio disk (a zero-filled file in the service VM's tmpfs) and a virtio NIC on a bridge in the
service VM, both served by keel-dm. Each workload runs twice, with n and with 2n requests, and
`keelctl exits` of both VMs (Keel's counts by exit reason, by the device each port access or
nested page fault went to, keel-dm's doorbells and requests, the service VM's control-device
registers and commands) is read before and after each run; a figure is the difference between
the two runs' counts over the difference in requests, so the fixed costs of a run (the shell
commands that start it, the console session, the readings themselves) cancel. Requests are the
guest's own counts: /sys/block/vda/stat's completed reads or writes; for TCP the 64 KiB
blocks sent (the NIC's packets carry up to 64 KiB each with TSO, as many as TCP decides).
Workloads: randio's 4 KiB random reads and writes (O_DIRECT, queue depth 1; writes end
with one fdatasync), a sequential read (dd bs=64k iflag=direct: per request the block layer
made), and TCP from the guest to the service VM (busybox nc, 64 KiB writes: per 64 KiB).
KEEL_BENCH_RUNS rounds (default 5) in the same boot; each figure is the median (range) over the
rounds.
"""
import collections
import re
import statistics

import guestctl
from rig import Machine, check

N_RANDIO = 512   # requests in a randio run (and twice that)
N_SEQ_MIB = 8    # MiB in a sequential read (and twice that)
N_NET_MIB = 8    # MiB sent over TCP (and twice that): less makes the difference noise
NET_PORT = 5101
EXIT_LINE = re.compile(r"^\s*(\d+) (\S.*?)\s*$")


def parse_exits(text):
    """keelctl exits' lines ("   COUNT LABEL") as {label: count}; labels that repeat (one MSI-X
    table per device) are summed. Other lines (Keel's log sharing the console) are left out."""
    counts = collections.Counter()
    for line in text.splitlines():
        found = EXIT_LINE.match(line)
        if found and not line.startswith("keel:"):
            counts[found.group(2)] += int(found.group(1))
    return counts


def parse_guest_stats(text):
    """(reads completed, writes completed, packets sent + received) from
    `cat /sys/block/vda/stat /sys/class/net/eth0/statistics/{tx,rx}_packets` (stat: 11 or more
    fields, reads completed first, writes completed fifth; Documentation/block/stat.rst)."""
    nums = [line.split() for line in text.splitlines() if re.fullmatch(r"[\d\s]+", line.strip() or "x")]
    stat = next((n for n in nums if len(n) >= 11), None)
    singles = [int(n[0]) for n in nums if len(n) == 1]
    if stat is None or len(singles) < 2:
        raise ValueError("no block stat line and two packet counts in %r" % text)
    return int(stat[0]), int(stat[4]), singles[-2] + singles[-1]


def delta(after, before):
    return collections.Counter({k: after[k] - before.get(k, 0) for k in after})


def per_request(small, large):
    """Per-request counts from two runs: small and large are (exit counts, requests) of the run
    with n and with 2n requests; the difference cancels what both runs spent besides requests."""
    (e1, r1), (e2, r2) = small, large
    if r2 <= r1:
        raise ValueError("the larger run made %d requests, the smaller %d" % (r2, r1))
    return {k: (e2.get(k, 0) - e1.get(k, 0)) / (r2 - r1) for k in set(e1) | set(e2)}


def total(per):
    """All exits: the sum of the "exit REASON" labels (the others break those down)."""
    return sum(v for k, v in per.items() if k.startswith("exit "))


def median_per(rounds):
    """{label: [values over rounds]} from a list of per_request() dicts (a label missing in a
    round counts 0 there)."""
    labels = set().union(*rounds) if rounds else set()
    return {k: [r.get(k, 0.0) for r in rounds] for k in labels}


def fmt_spread(values, fmt="%.2f"):
    med = statistics.median(values)
    if len(values) == 1 or min(values) == max(values):
        return fmt % med
    return "%s (%s-%s)" % (fmt % med, fmt % min(values), fmt % max(values))


def report_side(who, rounds, least=0.05):
    """'    guest: 8.00 exits (range): exit HLT 2.00, ...; by device: ...' for one VM: the total, the
    reasons, then the breakdowns, each largest first, those under `least` a request left out."""
    by = median_per(rounds)
    tot = [total(r) for r in rounds]
    med = {k: statistics.median(v) for k, v in by.items()}
    keep = sorted((k for k in med if med[k] >= least), key=lambda k: (-med[k], k))
    reasons = [k for k in keep if k.startswith("exit ")]
    rest = [k for k in keep if not k.startswith("exit ")]
    line = "    %s: %s exits" % (who, fmt_spread(tot))
    if reasons:
        line += ": " + ", ".join("%s %s" % (k[len("exit "):], fmt_spread(by[k])) for k in reasons)
    if rest:
        line += "; of which (or events): " + ", ".join("%s %s" % (k, fmt_spread(by[k])) for k in rest)
    return line


def report(results, runs, clocksource=None):
    """The part's lines. results: {workload: {"what", "unit", "guest": [per-request dicts],
    "service": [...], "rate": [values], "rate_unit"}} in report order; clocksource: the guest's."""
    lines = ["exits per request (Keel, 1 CPU: a Linux guest of 256 MiB and 1 vCPU, its virtio disk and "
             "NIC served by keel-dm; differences between runs of n and 2n requests, so a run's fixed "
             "costs cancel; median (range) of %d round(s) in one boot; requests as the guest counts "
             "them)" % runs]
    if clocksource:
        # Linux's TSC watchdog may reject the TSC under an emulator: then every clock read is an exit
        lines.append("  the guest's clocksource: %s" % clocksource)
    for r in results.values():
        lines.append("  %s, per %s (%s %s):" % (r["what"], r["unit"], fmt_spread(r["rate"], "%.0f"),
                                                 r["rate_unit"]))
        lines.append(report_side("guest", r["guest"]))
        lines.append(report_side("service VM", r["service"]))
    return lines


# --- the machine ---

def exits_of(m, name):
    return parse_exits(guestctl.ok(m, "exits " + name))


def guest_stats(con):
    return parse_guest_stats(con.run("cat /sys/block/vda/stat /sys/class/net/eth0/statistics/tx_packets "
                                     "/sys/class/net/eth0/statistics/rx_packets"))


def one_run(m, command, requests, size, timeout=600):
    """Runs `command` in the guest; returns ((guest exits, requests), (service exits, requests),
    its output), the exits counted around it."""
    g0, s0 = exits_of(m, "bench"), exits_of(m, "service")
    with guestctl.Console(m, "bench") as con:
        st0 = guest_stats(con)
        out = con.run(command + "; echo rc=$?", timeout=timeout)
        st1 = guest_stats(con)
    g1, s1 = exits_of(m, "bench"), exits_of(m, "service")
    check(re.search(r"^rc=0\s*$", out, re.M), "%r failed in the guest: %r" % (command, out), m)
    n = requests(st0, st1, size)
    return (delta(g1, g0), n), (delta(s1, s0), n), out


def randio_rate(out, m):
    found = re.search(r"randio: \w+ \d+ x 4 KiB in [0-9.]+ s: (\d+) IOPS", out)
    check(found, "no randio result in %r" % out, m)
    return float(found.group(1))


def took_rate(out, amount, m):
    """amount over the seconds between the "took START END" uptimes the run printed."""
    found = re.search(r"^took ([0-9.]+) ([0-9.]+)\s*$", out, re.M)
    check(found, "no timing in %r" % out, m)
    return amount / max(float(found.group(2)) - float(found.group(1)), 1e-3)


def workloads(vd_mib):
    """(key, what, per what, rate unit, command(n, port), n, requests(stats before, after, n),
    rate(output, n, m))."""
    reads = lambda a, b, n: b[0] - a[0]  # noqa: E731
    writes = lambda a, b, n: b[1] - a[1]  # noqa: E731
    # not the NIC's packets: with TSO and GRO a packet carries up to 64 KiB, as many as TCP decides
    blocks = lambda a, b, n: n * 16  # noqa: E731
    iops = lambda out, n, m: randio_rate(out, m)  # noqa: E731
    mibs = lambda out, n, m: took_rate(out, n, m)  # noqa: E731
    return [
        ("randread", "4 KiB random read (randio, O_DIRECT, QD1)", "read", "IOPS",
         lambda n, p: "randio read /dev/vda %d %d" % (n, vd_mib), N_RANDIO, reads, iops),
        ("randwrite", "4 KiB random write (randio, O_DIRECT, QD1, one fdatasync)", "write", "IOPS",
         lambda n, p: "randio write /dev/vda %d %d" % (n, vd_mib), N_RANDIO, writes, iops),
        ("seqread", "sequential read (dd bs=64k iflag=direct)", "read request", "MiB/s",
         lambda n, p: "dd if=/dev/vda of=/dev/null bs=64k count=%d iflag=direct" % (n * 16), N_SEQ_MIB, reads,
         mibs),
        ("net", "TCP from the guest to the service VM (nc, 64 KiB writes)", "64 KiB sent",
         "MiB/s", lambda n, p: "dd if=/dev/zero bs=64k count=%d | nc 10.80.0.1 %d" % (n * 16, p),
         N_NET_MIB, blocks, mibs),
    ]


TIMED = "s=$(cut -d' ' -f1 /proc/uptime); %s; rc=$?; e=$(cut -d' ' -f1 /proc/uptime); echo took $s $e; (exit $rc)"


def run_boot(bench, i, runs):
    """One boot: each workload, `runs` rounds of a run of n and one of 2n; {workload: result}."""
    results = collections.OrderedDict()
    with Machine("bench_exits%d" % i, bench.CFG % 1, bench.guest_files(), smp=1, timeout=3600) as m:
        bench.service_shell(m)
        m.shell("dd if=/dev/zero of=/tmp/vd.img bs=1M count=%d 2>/dev/null" % bench.VD_MIB)
        m.shell("ip link add br0 type bridge && ip addr add 10.80.0.1/24 dev br0 && ip link set br0 up")
        m.shell("%s --disk /tmp/vd.img --net br0" % bench.GUEST_CREATE, timeout=120)
        guestctl.ok(m, "start bench")
        with guestctl.Console(m, "bench") as con:
            con.wait_shell(timeout=590)
            con.run("ip addr add 10.80.0.2/24 dev eth0 && ip link set eth0 up && sleep 2")
            clocksource = con.run("cat /sys/devices/system/clocksource/clocksource0/current_clocksource")
        port = NET_PORT
        for key, what, unit, rate_unit, cmd, n, requests, rate in workloads(bench.VD_MIB):
            r = results.setdefault(key, {"what": what, "unit": unit, "rate_unit": rate_unit,
                                         "guest": [], "service": [], "rate": []})
            for _ in range(runs):
                pair = []
                for size in (n, 2 * n):
                    port += 1
                    if key == "net":
                        # the listener holds its own FIFO open: it never closes its sending half
                        m.shell("rm -f /tmp/nin; mkfifo /tmp/nin; (nc -l -p %d <>/tmp/nin >/dev/null &); "
                                "sleep 1" % port)
                    pair.append(one_run(m, TIMED % cmd(size, port), requests, size))
                (g1, s1, _), (g2, s2, out) = pair
                check(g2[1] > g1[1], "%s: the run of %d made %d requests, the run of %d %d"
                      % (key, 2 * n, g2[1], n, g1[1]), m)
                r["guest"].append(per_request(g1, g2))
                r["service"].append(per_request(s1, s2))
                r["rate"].append(rate(out, 2 * n, m))
        bench.power_off(m)
    return results, clocksource.strip()


def part(bench, out):
    runs = bench.RUNS
    results, clocksource = run_boot(bench, 0, runs)
    return report(results, runs, clocksource)
