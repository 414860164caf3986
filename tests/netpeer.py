#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The network peer of the passthrough tests, run inside a network namespace
the test made. On PORT it sends SIZE bytes of seeded pseudo-random data and
closes; on PORT+1 it reads exactly SIZE bytes and writes their SHA-256 to
OUT/received-PORT. The data's SHA-256 goes to OUT/sent-PORT at start.
Serves one connection per port, then exits after a time limit.

usage: netpeer.py ADDRESS PORT SIZE OUT_DIR [SECONDS]"""
import hashlib
import os
import random
import socket
import sys
import threading


def data(size, seed):
    rnd = random.Random(seed)
    return rnd.randbytes(size)


def serve_send(addr, port, blob):
    s = socket.create_server((addr, port))
    c, _ = s.accept()
    c.sendall(blob)
    # a graceful end: anything the client sent is read first, or close() answers it with a
    # reset, and the client's stack drops what it has not yet handed to the reader
    c.shutdown(socket.SHUT_WR)
    c.settimeout(30)
    try:
        while c.recv(1 << 16):
            pass
    except OSError:
        pass
    c.close()
    s.close()


def serve_receive(addr, port, size, out):
    s = socket.create_server((addr, port))
    c, _ = s.accept()
    h, got = hashlib.sha256(), 0
    while got < size:
        chunk = c.recv(min(1 << 20, size - got))
        if not chunk:
            break
        h.update(chunk)
        got += len(chunk)
    c.close()
    s.close()
    with open(os.path.join(out, "received-%d" % port), "w") as f:
        f.write("%s %d\n" % (h.hexdigest(), got))


def main():
    addr, port, size, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    limit = float(sys.argv[5]) if len(sys.argv) > 5 else 600
    blob = data(size, port)
    with open(os.path.join(out, "sent-%d" % port), "w") as f:
        f.write(hashlib.sha256(blob).hexdigest() + "\n")
    threads = [threading.Thread(target=serve_send, args=(addr, port, blob), daemon=True),
               threading.Thread(target=serve_receive, args=(addr, port + 1, size, out), daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(limit)


if __name__ == "__main__":
    main()
