# SPDX-License-Identifier: MIT
"""Guest displays: a guest started with --gpu runs the stock kernel's virtio-gpu DRM
driver; its framebuffer console shows in `keelctl screenshot` at the mode's size, and
an image the guest writes to /dev/fb0 comes back pixel for pixel in the PNG. A hostile
driver's malformed commands are each refused with an error response while its picture,
and the other guest's screen, keep working."""
import os
import random
import re
import time

import pngread
from guestctl import GUEST_INITRD, GUEST_KERNEL, Console, boot, fetch, files, ok, wait_info
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


def test_guest_screen():
    """fbcon's console at the mode's size, then a known image through /dev/fb0, pixel for pixel;
    then a hostile driver next to it."""
    with Machine("display_screen", cfg(), display_files(), smp=1, timeout=1500) as m:
        boot(m)
        m.shell("dmesg -n 1")
        create(m, "d1", "--gpu")
        info = ok(m, "info d1")
        check(re.search(r"gpu %dx%d, display off" % (W, H), info), "info before start: %r" % info, m)
        ok(m, "start d1")
        with Console(m, "d1") as con:
            con.wait_shell(timeout=500)
            con.run("dmesg -n 1")
            wait_for(con, m, "cat /sys/class/graphics/fb0/virtual_size", "%d,%d" % (W, H),
                     "d1's /dev/fb0 size")
            check(con.run("cat /sys/class/graphics/fb0/bits_per_pixel") == "32", "fb0 is not 32 bpp", m)
            con.run("echo keel display test > /dev/tty1")
            time.sleep(2)
        info = ok(m, "info d1")
        check(re.search(r"gpu %dx%d, showing %dx%d" % (W, H, W, H), info), "info once up: %r" % info, m)
        w, h, rows = screenshot(m, "d1", "console")
        check((w, h) == (W, H), "the screenshot is %dx%d, the console %dx%d" % (w, h, W, H), m)
        lit = sum(1 for r in rows for x in range(0, len(r), 3) if r[x:x + 3] != b"\0\0\0")
        check(200 < lit < W * H // 2, "the console screenshot has %d lit pixels" % lit, m)

        # Two random rows, each 16 times, in turn: every byte of each pixel is checked.
        rnd = random.Random(9)
        row_a, row_b = (bytes(rnd.randrange(256) for _ in range(4 * W)) for _ in range(2))
        with Console(m, "d1") as con:
            stride = con.run("cat /sys/class/graphics/fb0/stride")
            check(stride == str(4 * W), "fb0 stride %r" % stride, m)
            # fbcon lets go of the framebuffer: nothing but the image draws on it
            con.run("for v in /sys/class/vtconsole/vtcon*; do grep -q 'frame buffer' $v/name && "
                    "echo 0 > $v/bind; done")
            send_file(con, "/tmp/ra", row_a)
            send_file(con, "/tmp/rb", row_b)
            con.run("for r in ra rb; do cp /tmp/$r /tmp/$r.16; for i in 1 2 3 4; do "
                    "cat /tmp/$r.16 /tmp/$r.16 > /tmp/t; mv /tmp/t /tmp/$r.16; done; done")
            out = con.run("cat " + " ".join(["/tmp/ra.16 /tmp/rb.16"] * (H // 32)) +
                          " > /dev/fb0; echo rc=$?")
            check(out.endswith("rc=0"), "writing /dev/fb0: %r" % out, m)
            time.sleep(2)
        w, h, rows = screenshot(m, "d1", "image")
        check((w, h) == (W, H), "the image screenshot is %dx%d" % (w, h), m)
        # /dev/fb0 is XRGB8888 little-endian: bytes B, G, R, X; the PNG has R, G, B
        want = [bytes(b for x in range(W) for b in (r[4 * x + 2], r[4 * x + 1], r[4 * x]))
                for r in (row_a, row_b)]
        bad = [y for y in range(H) if rows[y] != want[(y // 16) % 2]]
        check(not bad, "%d rows differ from the image written to /dev/fb0, the first %d" % (
            len(bad), bad[0] if bad else -1), m)

        ok(m, "create bad --mem 16M --vcpus 1 --kernel /mnt/keel/guests/badgpu.elf --gpu")
        ok(m, "start bad")
        mark = m.mark()
        with Console(m, "bad"):
            m.expect(r"badgpu: picture up|FAIL[^\n]*", timeout=120, start=mark)
        out = m.buf[mark:].decode("utf-8", "replace")
        check("badgpu: picture up" in out, "badgpu did not finish: %s" % m.tail(20), m)
        missing = [r for r in BADGPU_REFUSED if "badgpu: " + r not in out]
        check(not missing, "badgpu's malformed commands were not refused as expected: %s" % missing, m)
        info = wait_info(m, "bad", "running", timeout=5)
        check(re.search(r"state: +running", info), "bad is not running after its commands: %r" % info, m)
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
