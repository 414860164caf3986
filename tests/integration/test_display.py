# SPDX-License-Identifier: MIT
"""Guest displays: a guest started with --gpu runs the stock kernel's virtio-gpu DRM
driver; its framebuffer console shows in `keelctl screenshot` at the mode's size, and
an image the guest writes to /dev/fb0 comes back pixel for pixel in the PNG and, after
`keelctl display`, in QEMU's screendump of the machine's own display. A hostile
driver's malformed commands are each refused with an error response while its picture,
and the other guest's screen, keep working. keel-vnc serves a guest's screen to an RFB
client, whose key and pointer events reach the guest's virtio keyboard and tablet."""
import os
import random
import re
import time

import pngread
from rfbclient import RFBClient
from guestctl import GUEST_INITRD, GUEST_KERNEL, Console, boot, fetch, files, ok, refused, wait_info
from rig import BUILD, Machine, check

W, H = 1024, 768  # the default mode (EDID preferred timing)


def cfg():
    return ("service.kernel = vmlinuz\nservice.initrd = initrd.img\nservice.cmdline = console=ttyS0\n"
            "service.memory = 1G\nservice.vcpus = 2\n")


def create(m, name, devices, mem="256M"):
    out = ok(m, "create %s --mem %s --vcpus 1 --kernel %s --initrd %s --cmdline 'console=ttyS0 "
                "keel.name=%s' %s" % (name, mem, GUEST_KERNEL, GUEST_INITRD, name, devices))
    check("created %s" % name in out, "no 'created' from keelctl create: %r" % out, m)


def screenshot(m, name, tag):
    """`keelctl screenshot NAME` in the service VM, copied out, kept in the test's directory, decoded."""
    ok(m, "screenshot %s /tmp/%s.png" % (name, tag))
    data = fetch(m, "/tmp/%s.png" % tag)
    with open(os.path.join(m.dir, "%s.png" % tag), "wb") as f:
        f.write(data)
    return pngread.read(data)


def send_file(con, path, data, chunk=900):
    """Bytes into a guest's file through its console: base64 in lines shorter than the tty's 4096."""
    import base64
    text = base64.b64encode(data).decode()
    con.run("rm -f %s.b64" % path)
    for i in range(0, len(text), chunk):
        con.run("echo %s >> %s.b64" % (text[i:i + chunk], path))
    con.run("base64 -d %s.b64 > %s" % (path, path))


def show_image(con, m):
    """Two random rows, each 16 times, in turn, written to the guest's /dev/fb0 once fbcon lets
    go of it; every byte of each pixel is checked. Returns the two rows as the PNG's RGB."""
    rnd = random.Random(9)
    row_a, row_b = (bytes(rnd.randrange(256) for _ in range(4 * W)) for _ in range(2))
    stride = con.run("cat /sys/class/graphics/fb0/stride")
    check(stride == str(4 * W), "fb0 stride %r" % stride, m)
    con.run("for v in /sys/class/vtconsole/vtcon*; do grep -q 'frame buffer' $v/name && "
            "echo 0 > $v/bind; done")
    send_file(con, "/tmp/ra", row_a)
    send_file(con, "/tmp/rb", row_b)
    con.run("for r in ra rb; do cp /tmp/$r /tmp/$r.16; for i in 1 2 3 4; do "
            "cat /tmp/$r.16 /tmp/$r.16 > /tmp/t; mv /tmp/t /tmp/$r.16; done; done")
    out = con.run("cat " + " ".join(["/tmp/ra.16 /tmp/rb.16"] * (H // 32)) + " > /dev/fb0; echo rc=$?")
    check(out.endswith("rc=0"), "writing /dev/fb0: %r" % out, m)
    time.sleep(2)
    # /dev/fb0 is XRGB8888 little-endian: bytes B, G, R, X; the PNG has R, G, B
    return [bytes(b for x in range(W) for b in (r[4 * x + 2], r[4 * x + 1], r[4 * x]))
            for r in (row_a, row_b)]


def wait_for(con, m, command, want, what, timeout=120):
    deadline = time.time() + timeout
    while True:
        out = con.run(command)
        if out == want:
            return
        check(time.time() < deadline, "%s: %r" % (what, out), m)
        time.sleep(2)


def display_files():
    f = files()
    f["guests/badgpu.elf"] = os.path.join(BUILD, "guests", "badgpu.elf")
    return f


# tests/guests/badgpu.c's answers, in order, and its picture: a 64x48 gradient at the top left
BADGPU_REFUSED = ["resource 0: 0x1203", "unknown format: 0x1205", "huge resource: 0x1201",
                  "short body: 0x1200", "duplicate resource: 0x1203", "backing outside RAM: 0x1200",
                  "backing wraps: 0x1200", "entries past the request: 0x1200",
                  "transfer without backing: 0x1200", "transfer past the backing: 0x1205",
                  "transfer outside the resource: 0x1205", "transfer to no resource: 0x1203",
                  "scanout 5: 0x1202", "scanout rect outside: 0x1205", "flush outside: 0x1205",
                  "unknown command: 0x1200"]


def badgpu_row(y):
    return bytes(b for x in range(64) for b in ((x * 4) & 0xff, (y * 5) & 0xff, ((x + y) * 2) & 0xff))


def start_display_guest(m, name):
    """A guest with --gpu, started, its fbcon up on /dev/fb0 at the default mode; returns info."""
    m.shell("dmesg -n 1")
    create(m, name, "--gpu")
    info = ok(m, "info " + name)
    check(re.search(r"gpu %dx%d, display off" % (W, H), info) and re.search(r"keyboard", info) and
          re.search(r"tablet", info), "info before start: %r" % info, m)
    ok(m, "start " + name)
    with Console(m, name) as con:
        con.wait_shell(timeout=500)
        con.run("dmesg -n 1")
        wait_for(con, m, "cat /sys/class/graphics/fb0/virtual_size", "%d,%d" % (W, H),
                 "%s's /dev/fb0 size" % name)
        check(con.run("cat /sys/class/graphics/fb0/bits_per_pixel") == "32", "fb0 is not 32 bpp", m)
    return info


def local_rows_like(m, tag, want):
    """How many of the guest image's rows QEMU's screendump of the machine's display shows, centred
    (clipped where the display is smaller), and the display's size."""
    fw, fh, rgb = m.screendump(os.path.join(m.dir, "local-%s.ppm" % tag))
    x0, y0, cw = max(0, (fw - W) // 2), max(0, (fh - H) // 2), min(W, fw)
    same = sum(1 for y in range(min(H, fh))
               if rgb[((y0 + y) * fw + x0) * 3:((y0 + y) * fw + x0 + cw) * 3] == want[(y // 16) % 2][:cw * 3])
    return same, fw, fh


def lit_pixels(m, tag):
    fw, fh, rgb = m.screendump(os.path.join(m.dir, "local-%s.ppm" % tag))
    return sum(1 for i in range(0, len(rgb), 3) if rgb[i:i + 3] != b"\0\0\0")


def local_display(m, want):
    """`keelctl display NAME` puts the guest's screen on the machine's display; --service takes it back."""
    refused(m, "display nosuch", r"'nosuch' has no display")
    check(lit_pixels(m, "before") > 200, "the machine's display shows no service VM console", m)
    ok(m, "display d1")
    time.sleep(1)
    same, fw, fh = local_rows_like(m, "d1", want)
    check(same == min(H, fh), "the machine's %dx%d display shows %d of the guest's %d rows" % (
        fw, fh, same, min(H, fh)), m)
    info = ok(m, "info d1")
    check("on the local display" in info, "info does not say d1 is on the display: %r" % info, m)
    out = ok(m, "display --service")
    check("service VM's console" in out, "display --service: %r" % out, m)
    time.sleep(1)
    same, fw, fh = local_rows_like(m, "service", want)
    check(same == 0, "the guest's image stays on the display (%d rows) after --service" % same, m)
    check(lit_pixels(m, "service") > 200, "the service VM's console is not back on the display", m)


def test_guest_screen():
    """fbcon's console at the mode's size, then a known image through /dev/fb0, pixel for pixel;
    then a hostile driver next to it."""
    with Machine("display_screen", cfg(), display_files(), smp=1, timeout=1500) as m:
        boot(m)
        start_display_guest(m, "d1")
        with Console(m, "d1") as con:
            con.run("echo keel display test > /dev/tty1")
            time.sleep(2)
        info = ok(m, "info d1")
        check(re.search(r"gpu %dx%d, showing %dx%d" % (W, H, W, H), info), "info once up: %r" % info, m)
        w, h, rows = screenshot(m, "d1", "console")
        check((w, h) == (W, H), "the screenshot is %dx%d, the console %dx%d" % (w, h, W, H), m)
        lit = sum(1 for r in rows for x in range(0, len(r), 3) if r[x:x + 3] != b"\0\0\0")
        check(200 < lit < W * H // 2, "the console screenshot has %d lit pixels" % lit, m)

        with Console(m, "d1") as con:
            want = show_image(con, m)
        w, h, rows = screenshot(m, "d1", "image")
        check((w, h) == (W, H), "the image screenshot is %dx%d" % (w, h), m)
        bad = [y for y in range(H) if rows[y] != want[(y // 16) % 2]]
        check(not bad, "%d rows differ from the image written to /dev/fb0, the first %d" % (
            len(bad), bad[0] if bad else -1), m)
        local_display(m, want)

        ok(m, "create bad --mem 16M --vcpus 1 --kernel /mnt/keel/guests/badgpu.elf --gpu")
        ok(m, "start bad")
        mark = m.mark()
        with Console(m, "bad"):
            m.expect(r"badgpu: picture up|FAIL[^\n]*", timeout=120, start=mark)
        out = m.buf[mark:].decode("utf-8", "replace")
        check("badgpu: picture up" in out, "badgpu did not finish: %s" % m.tail(20), m)
        missing = [r for r in BADGPU_REFUSED if "badgpu: " + r not in out]
        check(not missing, "badgpu's malformed commands were not refused as expected: %s" % missing, m)
        wait_info(m, "bad", "running", timeout=5)
        w, h, rows = screenshot(m, "bad", "badgpu")
        check((w, h) == (64, 48), "badgpu's screen is %dx%d, its scanout 64x48" % (w, h), m)
        bad = [y for y in range(h) if rows[y] != badgpu_row(y)]
        check(not bad, "%d rows of badgpu's picture differ, the first %d" % (len(bad), bad[0] if bad else -1), m)
        ok(m, "destroy bad")
        # the other guest's display still works: its screen follows a new image
        with Console(m, "d1") as con:
            con.run("cat " + " ".join(["/tmp/rb.16 /tmp/ra.16"] * (H // 32)) + " > /dev/fb0")
            time.sleep(2)
        w, h, rows = screenshot(m, "d1", "after")
        bad = [y for y in range(H) if rows[y] != want[1 - (y // 16) % 2]]
        check(not bad, "d1's screen did not follow its new image: %d rows differ" % len(bad), m)
        ok(m, "destroy d1")


def input_events(con, dev):
    """(type, code, value) of each struct input_event (24 bytes on x86-64) captured in dev's file."""
    words = [int(w) for w in con.run("od -An -tu2 -v -w24 /tmp/%s" % dev).split()]
    return [(words[i + 8], words[i + 9], words[i + 10] | words[i + 11] << 16)
            for i in range(0, len(words) - 11, 12)]


def test_vnc():
    """keel-vnc on the port `keelctl info` names: an RFB client gets the guest's pixels, and its key
    and pointer events reach the guest's virtio keyboard and tablet."""
    mac = "52:54:00:12:34:41"
    m = Machine("display_vnc", cfg(), files(), smp=1, timeout=1500,
                extra=["-netdev", "user,id=n0", "-device", "e1000e,netdev=n0,mac=" + mac])
    with m:
        boot(m)
        nic = m.shell("grep -l %s /sys/class/net/*/address" % mac).split("/")[-2:-1]
        check(nic, "no service VM interface has the e1000e's MAC", m)
        m.shell("ip addr add 10.0.2.15/24 dev %s && ip link set %s up" % (nic[0], nic[0]))
        start_display_guest(m, "v1")
        info = ok(m, "info v1")
        port = re.search(r"VNC port (\d+)", info)
        check(port, "keelctl info shows no VNC port: %r" % info, m)
        host_port = m.forward_port("10.0.2.15", port.group(1))
        with Console(m, "v1") as con:
            want = show_image(con, m)
            for kind, dev in (("keyboard", "kbd"), ("tablet", "ptr")):
                ev = con.run("for e in /sys/class/input/event*; do grep -q 'Keel virtio %s' "
                             "$e/device/name && echo ${e##*/}; done" % kind)
                check(re.fullmatch(r"event\d+", ev), "no evdev device for the %s: %r" % (kind, ev), m)
                con.run("(cat /dev/input/%s > /tmp/%s &)" % (ev, dev))
        rfb = RFBClient("127.0.0.1", host_port, timeout=60)
        try:
            check((rfb.width, rfb.height) == (W, H) and rfb.name == "v1",
                  "the VNC server shows %dx%d named %r" % (rfb.width, rfb.height, rfb.name), m)
            fb = rfb.frame()
            got = [bytes(b for x in range(W) for b in (fb[r + 4 * x + 2], fb[r + 4 * x + 1], fb[r + 4 * x]))
                   for r in range(0, W * H * 4, W * 4)]
            bad = [y for y in range(H) if got[y] != want[(y // 16) % 2]]
            check(not bad, "%d rows over VNC differ from the guest's image, the first %d" % (
                len(bad), bad[0] if bad else -1), m)
            rfb.key(ord("a"), True)
            rfb.key(ord("a"), False)
            rfb.pointer(512, 384, 1)
            rfb.pointer(512, 384, 0)
            time.sleep(3)
        finally:
            rfb.close()
        with Console(m, "v1") as con:
            keys = input_events(con, "kbd")
            check((1, 30, 1) in keys and (1, 30, 0) in keys,  # EV_KEY KEY_A down, up
                  "the guest's keyboard saw %r, not KEY_A down and up" % keys, m)
            ptr = input_events(con, "ptr")
            x = 512 * 32767 // (W - 1)
            check((3, 0, x) in ptr and (1, 0x110, 1) in ptr and (1, 0x110, 0) in ptr,
                  "the guest's tablet saw %r, not ABS_X %d and BTN_LEFT down, up" % (ptr, x), m)
        ps = m.shell("ps | grep '[k]eel-vnc v1'")
        check(re.search(r"^\s*\d+\s+nobody\s", ps), "keel-vnc does not run as nobody: %r" % ps, m)
        ok(m, "destroy v1")
        info = m.shell("ps | grep -c '[k]eel-vnc'")
        check(info == "0", "keel-vnc still runs after the guest is gone: %r" % info, m)
