#!/usr/bin/python3
"""connflood.py - many TCP connections that never say Hello, against fabricd's listener
(tests/netns/test_fabricd_limits.sh). Standard library only.

    connflood.py --addr 198.18.0.2:7301 [--idle N] [--loris N] [--loris-tls]
                 [--loris-every S] [--hold S] [--connect-budget N] [--wait-eof]

Opens N idle connections (non-blocking, as fast as the listener takes them; a connect the
backlog refuses or times out is retried, at most --connect-budget connects in all), then
--loris slow-loris connections, each sending one byte every --loris-every seconds (a TLS
record header and a ClientHello's first bytes with --loris-tls, else a plaintext frame
header and a Hello claiming vtepd hv1), and holds everything for --hold seconds, watching
which connections fabricd ends (EOF or reset). With --wait-eof it stops as soon as every slow-loris
connection has been ended, still within --hold. RLIMIT_NOFILE is raised to fit.
Bounded: at most --hold seconds of holding, at most --connect-budget connects.

Prints one line of "key value" pairs, then exits 0 (1 on a usage or setup error):
    idle_opened N idle_retries N idle_closed_by_peer N idle_open N
    loris_opened N loris_closed_by_peer N loris_bytes_max N received_bytes N
received_bytes: what fabricd sent on any of them (nothing, without a TLS handshake done).
"""
import argparse
import errno
import resource
import selectors
import socket
import sys
import time

TLS_LORIS = bytes.fromhex("160301020001") + b"\x00\x01\xfc\x03\x03" + bytes(range(32)) * 8
# a frame header (length 11) and a Hello {version 1, role VTEPD, id "hv1"}
PLAIN_LORIS = b"\x00\x00\x00\x0b" + bytes.fromhex("0a09080110011a03687631") + b"\x00" * 512


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, n)
    if hard != resource.RLIM_INFINITY and hard < want:
        hard = want
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Conn:
    __slots__ = ("sock", "loris", "sent", "closed", "connected")

    def __init__(self, sock, loris):
        self.sock, self.loris, self.sent, self.closed, self.connected = sock, loris, 0, False, False


def open_many(addr, n, budget, deadline, maxpending):
    """n connected sockets (as Conn), retrying refused ones within budget connects."""
    host, port = addr
    done, retries, attempts = [], 0, 0
    pending = {}
    sel = selectors.DefaultSelector()
    while (len(done) + len(pending) < n or pending) and time.monotonic() < deadline:
        while len(done) + len(pending) < n and len(pending) < maxpending and attempts < budget:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            attempts += 1
            err = s.connect_ex((host, port))
            if err in (0, errno.EINPROGRESS):
                pending[s.fileno()] = s
                sel.register(s, selectors.EVENT_WRITE)
            else:
                s.close()
                retries += 1
        if not pending:
            if attempts >= budget:
                break
            continue
        for key, _ in sel.select(timeout=0.5):
            s = pending.pop(key.fd)
            sel.unregister(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                c = Conn(s, False)
                c.connected = True
                done.append(c)
            else:
                s.close()
                retries += 1
    for s in pending.values():
        sel.unregister(s)
        s.close()
    sel.close()
    return done, retries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--loris", type=int, default=0)
    ap.add_argument("--loris-tls", action="store_true")
    ap.add_argument("--loris-every", type=float, default=1.0)
    ap.add_argument("--hold", type=float, default=10.0)
    ap.add_argument("--connect-budget", type=int, default=0)
    ap.add_argument("--connect-timeout", type=float, default=30.0)
    ap.add_argument("--pending", type=int, default=256)
    ap.add_argument("--wait-eof", action="store_true")
    a = ap.parse_args()
    host, _, port = a.addr.rpartition(":")
    if not host or not port.isdigit() or a.idle < 0 or a.loris < 0 or not 0 < a.hold <= 300:
        ap.error("bad arguments")
    budget = a.connect_budget or 3 * (a.idle + a.loris) + 100
    raise_nofile(a.idle + a.loris + 64)
    t0 = time.monotonic()
    cdeadline = t0 + a.connect_timeout
    idle, idle_retries = open_many((host, int(port)), a.idle, budget, cdeadline, a.pending)
    loris, _ = open_many((host, int(port)), a.loris, budget, cdeadline, a.pending)
    for c in loris:
        c.loris = True
    connect_ms = int((time.monotonic() - t0) * 1000)
    deadline = time.monotonic() + a.hold
    payload = TLS_LORIS if a.loris_tls else PLAIN_LORIS
    sel = selectors.DefaultSelector()
    for c in idle + loris:
        sel.register(c.sock, selectors.EVENT_READ, c)
    received = 0
    next_byte = time.monotonic()
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_byte:
            for c in loris:
                if not c.closed and c.sent < len(payload):
                    try:
                        c.sock.send(payload[c.sent:c.sent + 1])
                        c.sent += 1
                    except OSError:
                        pass
            next_byte = now + a.loris_every
        for key, _ in sel.select(timeout=max(0.01, min(next_byte, deadline) - time.monotonic())):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            received += len(data)
            if not data:
                c.closed = True
                sel.unregister(c.sock)
        if a.wait_eof and loris and all(c.closed for c in loris):
            break
    print("connect_ms %d idle_opened %d idle_retries %d idle_closed_by_peer %d idle_open %d "
          "loris_opened %d loris_closed_by_peer %d loris_bytes_max %d received_bytes %d" % (
              connect_ms, len(idle), idle_retries, sum(c.closed for c in idle),
              sum(not c.closed for c in idle), len(loris), sum(c.closed for c in loris),
              max([c.sent for c in loris] or [0]), received))
    sys.stdout.flush()
    for c in idle + loris:
        c.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
