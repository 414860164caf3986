# SPDX-License-Identifier: MIT
"""UEFI guests with --gpu (issue 21): OVMF's virtio-gpu driver gives the firmware a screen,
which `keelctl screenshot` and VNC show, and keys typed over VNC reach the firmware through
the PS/2 keyboard controller (an i8042) keel-dm serves: its Shell runs what was typed."""
import os
import re
import time

import pngread
from rfbclient import RFBClient
from guestctl import Console, boot, fetch, files, ok
from rig import BUILD, Machine, OVMF_CODE, OVMF_VARS, check

# The Shell's prompt: "Shell" in its highlight colour, then "> " (ShellPrintEx's %E...%N).
SHELL_PROMPT = rb"Shell(?:\x1b\[[0-9;]*m)*> "
MAC = "52:54:00:12:34:51"


def cfg():
    return ("service.kernel = vmlinuz\nservice.initrd = initrd.img\nservice.cmdline = console=ttyS0\n"
            "service.memory = 1G\nservice.vcpus = 2\n")


def uefi_files():
    f = files()
    f["OVMF_CODE_4M.fd"] = OVMF_CODE
    f["OVMF_VARS_4M.fd"] = OVMF_VARS
    return f


def screenshot(m, name, tag):
    """`keelctl screenshot NAME`, copied out, kept in the test's directory: (w, h, rows)."""
    ok(m, "screenshot %s /tmp/%s.png" % (name, tag))
    data = fetch(m, "/tmp/%s.png" % tag)
    with open(os.path.join(m.dir, "%s.png" % tag), "wb") as f:
        f.write(data)
    return pngread.read(data)


def lit(rows):
    return sum(1 for r in rows for x in range(0, len(r), 3) if r[x:x + 3] != b"\0\0\0")


# X11 keysyms (RFB 7.5.4): Latin-1 letters are their codes, Return is 0xff0d
RETURN = 0xff0d


def type_keys(rfb, text):
    for ch in text:
        sym = RETURN if ch == "\r" else ord(ch)
        rfb.key(sym, True)
        rfb.key(sym, False)
        time.sleep(0.2)


def test_gpu_keys():
    """A firmware VM with --gpu: OVMF's screen shows in `keelctl screenshot` (not blank) and over
    VNC; `ver` and Enter typed over VNC reach the Shell through the PS/2 keyboard, which answers
    on the guest's COM1 and on its screen."""
    with Machine("uefi_display_gpu_keys", cfg(), uefi_files(), smp=2, timeout=1200,
                 extra=["-netdev", "user,id=n0", "-device", "e1000e,netdev=n0,mac=" + MAC]) as m:
        boot(m)
        nic = m.shell("grep -l %s /sys/class/net/*/address" % MAC).split("/")[-2:-1]
        check(nic, "no service VM interface has the e1000e's MAC", m)
        m.shell("ip addr add 10.0.2.15/24 dev %s && ip link set %s up" % (nic[0], nic[0]))
        out = ok(m, "create fwg --mem 256M --vcpus 1 --firmware --gpu")
        check("created fwg" in out, "keelctl create said %r" % out, m)
        ok(m, "start fwg")
        mark = m.mark()
        with Console(m, "fwg"):
            m.expect(rb"Press .*ESC.* in \d+ seconds", timeout=600, start=mark)
            m.send("\x1b")
            m.expect(SHELL_PROMPT, timeout=120, start=mark)
        time.sleep(2)
        w, h, rows = screenshot(m, "fwg", "shell")
        n = lit(rows)
        check(n > 500, "the firmware's screen (%dx%d) has %d lit pixels" % (w, h, n), m)
        info = ok(m, "info fwg")
        port = re.search(r"VNC port (\d+)", info)
        check(port, "keelctl info shows no VNC port: %r" % info, m)
        host_port = m.forward_port("10.0.2.15", port.group(1))
        rfb = RFBClient("127.0.0.1", host_port, timeout=60)
        try:
            check((rfb.width, rfb.height) == (w, h),
                  "VNC shows %dx%d, the screenshot %dx%d" % (rfb.width, rfb.height, w, h), m)
            fb = rfb.frame()
            got = [bytes(b for x in range(w) for b in (fb[r + 4 * x + 2], fb[r + 4 * x + 1], fb[r + 4 * x]))
                   for r in range(0, w * h * 4, w * 4)]
            check(got == rows, "VNC's pixels differ from the screenshot's", m)
            mark = m.mark()
            with Console(m, "fwg"):
                type_keys(rfb, "ver\r")
                # the Shell's answer, which the test did not type, on COM1
                m.expect(rb"UEFI v2\.\d+ \(EDK II, ", timeout=120, start=mark)
                m.expect(SHELL_PROMPT, timeout=60, start=mark)
        finally:
            rfb.close()
        # keel-dm's controller as OVMF set it up (its command byte 0x67), with the 8 key events
        info = ok(m, "info fwg")
        kbc = re.search(r"kbc ports 0x60 0x64 IRQ 1, command byte (0x\w+), (\d+) key events", info)
        check(kbc and kbc.groups() == ("0x67", "8"), "keelctl info fwg: %r" % info, m)
        time.sleep(2)
        w2, h2, rows2 = screenshot(m, "fwg", "ver")
        changed = sum(1 for a, b in zip(rows, rows2) if a != b)
        check((w2, h2) == (w, h) and changed > 8,
              "the screen after `ver` (%dx%d) differs in %d rows" % (w2, h2, changed), m)
        ok(m, "stop fwg --force")
        ok(m, "destroy fwg")
