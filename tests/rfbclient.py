# SPDX-License-Identifier: MIT
"""A small RFB 3.8 client (RFC 6143) for the tests: no authentication, raw
pixels as little-endian XRGB, key and pointer events."""
import socket
import struct
import time


CURSOR = -239


class RFBError(Exception):
    pass


class RFBClient:
    def __init__(self, host, port, timeout=30):
        deadline = time.time() + timeout
        while True:  # the forwarded port may take a moment to answer
            try:
                self.s = socket.create_connection((host, port), timeout=timeout)
                self.version = self._exact(12)
                break
            except (OSError, RFBError):
                if time.time() > deadline:
                    raise
                time.sleep(1)
        if not self.version.startswith(b"RFB 003."):
            raise RFBError("not an RFB server: %r" % self.version)
        self.s.sendall(b"RFB 003.008\n")
        n = self._exact(1)[0]  # 7.1.2: the security types offered
        if n == 0:
            raise RFBError("server refused: %r" % self._string())
        if 1 not in self._exact(n):
            raise RFBError("no 'None' security type offered")
        self.s.sendall(b"\x01")
        if struct.unpack(">I", self._exact(4))[0] != 0:  # 7.1.3 SecurityResult
            raise RFBError("security handshake failed: %r" % self._string())
        self.s.sendall(b"\x01")  # 7.3.1 ClientInit: shared
        self.width, self.height = struct.unpack(">HH", self._exact(4))  # 7.3.2 ServerInit
        self._exact(16)
        self.name = self._string().decode("utf-8", "replace")
        # 7.5.1 SetPixelFormat: 32 bpp, depth 24, little-endian, true colour, 0x00RRGGBB
        self.s.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
        # 7.5.2 SetEncodings: Raw, and the cursor apart (7.8.1 Cursor pseudo-encoding) so that a
        # server never draws one into the pixels
        self.s.sendall(struct.pack(">BxHii", 2, 2, 0, CURSOR))
        self.fb = bytearray(self.width * self.height * 4)
        self.received = 0  # pixels received so far

    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.s.recv(n - len(data))
            if not chunk:
                raise RFBError("the server closed the connection")
            data += chunk
        return data

    def _string(self):
        return self._exact(struct.unpack(">I", self._exact(4))[0])

    def frame(self, incremental=False):
        """Asks for the whole screen (7.5.3) and reads messages until an update with pixels arrives."""
        request = struct.pack(">BBHHHH", 3, 1 if incremental else 0, 0, 0, self.width, self.height)
        self.s.sendall(request)
        while True:
            kind = self._exact(1)[0]
            if kind == 0:  # 7.6.1 FramebufferUpdate
                nrects, pixels = struct.unpack(">xH", self._exact(3))[0], False
                for _ in range(nrects):
                    x, y, w, h, enc = struct.unpack(">HHHHi", self._exact(12))
                    if enc == CURSOR:  # the image, then its bitmask
                        self._exact(w * h * 4 + (w + 7) // 8 * h)
                        continue
                    if enc != 0:
                        raise RFBError("encoding %d, only Raw was asked for" % enc)
                    data, pixels = self._exact(w * h * 4), True
                    self.received += w * h
                    for row in range(h):
                        at = ((y + row) * self.width + x) * 4
                        self.fb[at:at + w * 4] = data[row * w * 4:(row + 1) * w * 4]
                if pixels:
                    return self.fb
                # only the cursor came: the request is answered, ask again
                self.s.sendall(request)
                continue
            if kind == 2:  # 7.6.3 Bell
                continue
            if kind == 3:  # 7.6.4 ServerCutText
                self._exact(3)
                self._string()
                continue
            raise RFBError("unexpected server message %d" % kind)

    def key(self, keysym, down):
        self.s.sendall(struct.pack(">BBxxI", 4, 1 if down else 0, keysym))  # 7.5.4

    def pointer(self, x, y, buttons=0):
        self.s.sendall(struct.pack(">BBHH", 5, buttons, x, y))  # 7.5.5

    def close(self):
        self.s.close()
