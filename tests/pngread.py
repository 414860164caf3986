# SPDX-License-Identifier: MIT
"""Reads an 8-bit truecolour PNG (PNG spec, 2nd ed., 11.2.2 IHDR, 9 filters) into rows of RGB bytes."""
import struct
import zlib


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def read(data):
    """(width, height, [row bytes, 3 per pixel]); ValueError for anything else than RGB 8-bit."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG signature")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(kind + body) != crc:
            raise ValueError("bad CRC in chunk %r" % kind)
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if not ihdr or ihdr[2:] != (8, 2, 0, 0, 0):
        raise ValueError("not 8-bit RGB without interlace: IHDR %r" % (ihdr,))
    w, h = ihdr[0], ihdr[1]
    raw, stride, rows, prev = zlib.decompress(idat), 3 * w, [], bytes(3 * w)
    if len(raw) != h * (stride + 1):
        raise ValueError("%d bytes of image data for %dx%d" % (len(raw), w, h))
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride) if f else ():
            a = line[x - 3] if x >= 3 else 0
            b, c = prev[x], prev[x - 3] if x >= 3 else 0
            line[x] = (line[x] + (a, b, (a + b) // 2, _paeth(a, b, c))[f - 1]) & 0xff
        rows.append(bytes(line))
        prev = rows[-1]
    return w, h, rows
