# SPDX-License-Identifier: MIT
"""A network namespace with TAP devices for a test, and the peer processes in it.
Everything it makes lives inside that namespace and is removed afterwards."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class NetNS:
    def __init__(self, name, taps):
        """taps: list of (tap name, host-side address/prefix)."""
        self.name = name
        self.taps = taps
        self.procs = []

    def run(self, *cmd, check=True):
        return subprocess.run(["ip", "netns", "exec", self.name] + list(cmd), check=check,
                              capture_output=True, text=True)

    def __enter__(self):
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.run("ip", "link", "set", "lo", "up")
        for tap, addr in self.taps:
            self.run("ip", "tuntap", "add", "dev", tap, "mode", "tap")
            self.run("ip", "addr", "add", addr, "dev", tap)
            self.run("ip", "link", "set", tap, "up")
        return self

    def prefix(self):
        return ["ip", "netns", "exec", self.name]

    def start_peer(self, addr, port, size, out_dir, seconds=600):
        p = subprocess.Popen(self.prefix() + [sys.executable, os.path.join(ROOT, "tests", "netpeer.py"),
                                              addr, str(port), str(size), out_dir, str(seconds)],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(out_dir, "peer-%d.err" % port), "w"))
        self.procs.append(p)
        return p

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)
