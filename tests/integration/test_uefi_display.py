# SPDX-License-Identifier: MIT
"""UEFI guests with --gpu (issue 21): OVMF's virtio-gpu driver gives the firmware a screen,
which `keelctl screenshot` and VNC show, and keys typed over VNC reach the firmware through
the PS/2 keyboard controller (an i8042) keel-dm serves: its Shell runs what was typed."""
import base64
import gzip
import hashlib
import os
import re
import time

import pngread
from rfbclient import RFBClient
from guestctl import Console, boot, files, ok
from rig import Machine, OVMF_CODE, OVMF_VARS, check

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
    """`keelctl screenshot NAME` in the service VM; its size."""
    out = ok(m, "screenshot %s /tmp/%s.png" % (name, tag))
    size = re.search(r"wrote /tmp/%s.png: (\d+)x(\d+)" % tag, out)
    check(size, "keelctl screenshot said %r" % out, m)
    return int(size.group(1)), int(size.group(2))


CHUNK = 2048  # bytes of the file a piece: short bursts on the serial console, where a long one
# lost bytes under load (three copies of one 9 KiB screenshot in a row in make test)


def fetch_png(m, tag, tries=3):
    """A screenshot copied out over the serial console gzipped, in pieces, each MD5-checked and
    asked for again when it came damaged, the whole checked too; kept in the test's directory:
    rows."""
    path = "/tmp/%s.png.gz" % tag
    out = m.shell("gzip -c /tmp/%s.png > %s; md5sum < %s; wc -c < %s" % (tag, path, path, path))
    info = re.match(r"([0-9a-f]{32})\b.*?\n\s*(\d+)", out, re.S)
    check(info, "no MD5 and size of %s: %r" % (path, out[:200]), m)
    size, data = int(info.group(2)), b""
    for i in range((size + CHUNK - 1) // CHUNK):
        for t in range(tries):
            try:
                piece = fetch_piece(m, path, i)
                break
            except Exception:
                if t == tries - 1:
                    raise
        data += piece
    check(hashlib.md5(data).hexdigest() == info.group(1), "%s came over the console damaged" % path, m)
    data = gzip.decompress(data)
    with open(os.path.join(m.dir, "%s.png" % tag), "wb") as f:
        f.write(data)
    return pngread.read(data)[2]


def fetch_piece(m, path, i):
    """Piece i of a file, base64 over the console, checked by its MD5."""
    cut = "dd if=%s bs=%d skip=%d count=1 2>/dev/null" % (path, CHUNK, i)
    out = m.shell("%s | md5sum; %s | base64" % (cut, cut))
    lines = out.splitlines()
    want = re.match(r"([0-9a-f]{32})\b", lines[0] if lines else "")
    check(want, "no MD5 of piece %d of %s: %r" % (i, path, out[:200]), m)
    piece = base64.b64decode("".join(l for l in lines[1:] if re.fullmatch(r"[A-Za-z0-9+/=]+", l)))
    check(hashlib.md5(piece).hexdigest() == want.group(1), "piece %d of %s damaged" % (i, path), m)
    return piece


def vnc_rows(rfb):
    """The whole screen over VNC, as RGB rows like the PNG's."""
    fb, w = rfb.frame(), rfb.width
    return [bytes(b for x in range(w) for b in (fb[r + 4 * x + 2], fb[r + 4 * x + 1], fb[r + 4 * x]))
            for r in range(0, w * rfb.height * 4, w * 4)]


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
    """A firmware VM with --gpu: OVMF's Shell shows over VNC (not blank); `ver` and Enter typed
    over VNC reach it through keel-dm's PS/2 keyboard: its answer comes on the guest's COM1 and
    on its screen, and `keelctl screenshot` has the same pixels as VNC."""
    with Machine("uefi_display_gpu_keys", cfg(), uefi_files(), smp=2, timeout=1200,
                 extra=["-netdev", "user,id=n0", "-device", "e1000e,netdev=n0,mac=" + MAC]) as m:
        boot(m)
        m.shell("dmesg -n 1")  # the NIC's link messages would split the rig's markers
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
        w, h = screenshot(m, "fwg", "shell")
        info = ok(m, "info fwg")
        port = re.search(r"VNC port (\d+)", info)
        check(port, "keelctl info shows no VNC port: %r" % info, m)
        host_port = m.forward_port("10.0.2.15", port.group(1))
        rfb = RFBClient("127.0.0.1", host_port, timeout=60)
        try:
            check((rfb.width, rfb.height) == (w, h),
                  "VNC shows %dx%d, the screenshot %dx%d" % (rfb.width, rfb.height, w, h), m)
            before = vnc_rows(rfb)
            n = lit(before)
            check(n > 500, "the firmware's screen (%dx%d) has %d lit pixels over VNC" % (w, h, n), m)
            mark = m.mark()
            with Console(m, "fwg"):
                type_keys(rfb, "ver\r")
                # the Shell's answer, which the test did not type, on COM1
                m.expect(rb"UEFI v2\.\d+ \(EDK II, ", timeout=120, start=mark)
                m.expect(SHELL_PROMPT, timeout=60, start=mark)
            time.sleep(2)
            after = vnc_rows(rfb)
        finally:
            rfb.close()
        changed = sum(1 for a, b in zip(before, after) if a != b)
        check(changed > 8 and lit(after) > n, "the screen after `ver` differs in %d rows over VNC, "
              "%d lit pixels (before: %d)" % (changed, lit(after), n), m)
        # keel-dm's controller as OVMF set it up (its command byte 0x67), with the 8 key events
        info = ok(m, "info fwg")
        kbc = re.search(r"kbc ports 0x60 0x64 IRQ 1, command byte (0x\w+), (\d+) key events", info)
        check(kbc and kbc.groups() == ("0x67", "8"), "keelctl info fwg: %r" % info, m)
        # keelctl screenshot: what VNC shows, before and after
        check(screenshot(m, "fwg", "ver") == (w, h), "the screenshot's size changed", m)
        sums = m.shell("md5sum /tmp/shell.png /tmp/ver.png | cut -d' ' -f1 | uniq | wc -l")
        check(sums == "2", "keelctl screenshot did not change after `ver`", m)
        rows = fetch_png(m, "ver")
        check(rows == after, "keelctl screenshot differs from what VNC shows", m)
        ok(m, "stop fwg --force")
        ok(m, "destroy fwg")
