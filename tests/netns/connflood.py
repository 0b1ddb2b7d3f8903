#!/usr/bin/python3
"""connflood.py - many TCP connections that never get to a Hello, against fabricd's listener
(tests/netns/test_fabricd_limits.sh). Standard library only.

    connflood.py --addr 198.18.0.2:7301 [--idle N] [--loris-tls N] [--loris-plain N]
                 [--loris-every S] [--burst N --settle K] [--pending N]
                 [--connect-timeout S] [--connect-budget N] [--hold S] [--wait-eof]

In this order:
 1. --idle connections, opened non-blocking, at most --pending (256) connecting at a time; a
    connect that fails (the backlog refused it, or it timed out) is retried, at most
    --connect-budget connects in all (default three per connection) within
    --connect-timeout seconds (30). Idle connections never send a byte.
 2. the slow-loris connections: --loris-tls ones dribble a TLS record header and the start of
    a ClientHello, --loris-plain ones a plaintext frame with a Hello claiming vtepd hv1, one
    byte each at once and then one every --loris-every seconds (1);
 3. --burst more idle connections, once every slow-loris one has spoken; when K (--settle)
    of them have been ended by fabricd - so fabricd has taken at least K newcomers since the
    slow-loris ones spoke - how many slow-loris connections fabricd had ended by then
    (a listener that evicts silent connections first has ended none); at most 10 s;
 4. everything held for --hold seconds (10), or with --wait-eof only until fabricd has ended
    every slow-loris connection.
It watches which connections fabricd ends (EOF or reset) throughout. RLIMIT_NOFILE is
raised to fit. Every loop is bounded by these counts and deadlines.

Prints one line of "key value" pairs and exits 0 (2 on a usage error):
    connect_ms N idle_opened N idle_retries N idle_closed_by_peer N idle_open N
    loris_opened N loris_closed_by_peer N loris_bytes_min N loris_bytes_max N
    burst_opened N burst_closed_at_settle N loris_closed_at_settle N received_bytes N
connect_ms: how long step 1 took; loris_bytes_*: the fewest and most bytes a slow-loris
connection sent; received_bytes: what fabricd sent on any of them (nothing, since none
finishes a TLS handshake).
"""
import argparse
import resource
import selectors
import socket
import sys
import time

TLS_LORIS = bytes.fromhex("1603010200" "010001fc0303") + bytes(range(32)) * 8
# a frame header (length 11) and a Hello {version 1, role VTEPD, id "hv1"}
PLAIN_LORIS = bytes.fromhex("0000000b" "0a09" "0801" "1001" "1a03687631") + b"\x00" * 512


class Conn:
    __slots__ = ("sock", "payload", "sent", "closed")

    def __init__(self, sock, payload=b""):
        self.sock, self.payload, self.sent, self.closed = sock, payload, 0, False


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= n:
        return
    if hard != resource.RLIM_INFINITY and hard < n:
        hard = n
    resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))


def open_many(addr, n, state, deadline, maxpending):
    """n connected sockets, retrying failed connects while state["budget"] lasts."""
    done, pending = [], {}
    sel = selectors.DefaultSelector()
    while (len(done) < n or pending) and time.monotonic() < deadline:
        while len(done) + len(pending) < n and len(pending) < maxpending and state["budget"] > 0:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            state["budget"] -= 1
            s.connect_ex(addr)
            pending[s.fileno()] = s
            sel.register(s, selectors.EVENT_WRITE)
        if not pending:
            break
        for key, _ in sel.select(timeout=0.5):
            s = pending.pop(key.fd)
            sel.unregister(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                done.append(s)
            else:
                s.close()
                state["retries"] += 1
    for s in pending.values():
        sel.unregister(s)
        s.close()
    sel.close()
    return done


def dribble(loris):
    for c in loris:
        if not c.closed and c.sent < len(c.payload):
            try:
                c.sock.send(c.payload[c.sent:c.sent + 1])
                c.sent += 1
            except OSError:
                pass


class Watch:
    """Reads every connection given, marking those fabricd ends; dribbles the loris."""

    def __init__(self, every):
        self.sel = selectors.DefaultSelector()
        self.received = 0
        self.every = every
        self.loris = []
        self.next_byte = time.monotonic()

    def add(self, conns):
        for c in conns:
            self.sel.register(c.sock, selectors.EVENT_READ, c)

    def turn(self, deadline):
        if self.loris and time.monotonic() >= self.next_byte:
            dribble(self.loris)
            self.next_byte = time.monotonic() + self.every
        end = min(self.next_byte, deadline) if self.loris else deadline
        for key, _ in self.sel.select(timeout=max(0.01, min(0.2, end - time.monotonic()))):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            self.received += len(data)
            if not data:
                c.closed = True
                self.sel.unregister(c.sock)

    def until(self, cond, seconds):
        deadline = time.monotonic() + seconds
        while not cond() and time.monotonic() < deadline:
            self.turn(deadline)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--loris-tls", type=int, default=0)
    ap.add_argument("--loris-plain", type=int, default=0)
    ap.add_argument("--loris-every", type=float, default=1.0)
    ap.add_argument("--burst", type=int, default=0)
    ap.add_argument("--settle", type=int, default=0)
    ap.add_argument("--pending", type=int, default=256)
    ap.add_argument("--connect-timeout", type=float, default=30.0)
    ap.add_argument("--connect-budget", type=int, default=0)
    ap.add_argument("--hold", type=float, default=10.0)
    ap.add_argument("--wait-eof", action="store_true")
    a = ap.parse_args()
    host, _, port = a.addr.rpartition(":")
    counts = (a.idle, a.loris_tls, a.loris_plain, a.burst)
    if (not host or not port.isdigit() or min(counts) < 0 or sum(counts) > 100000 or
            not 0 < a.hold <= 300 or not 0 < a.connect_timeout <= 300 or
            not 0.05 <= a.loris_every <= 60 or not 1 <= a.pending <= 4096 or
            not 0 <= a.settle <= a.burst):
        ap.error("bad arguments")
    addr = (host, int(port))
    raise_nofile(sum(counts) + a.pending + 64)
    state = {"budget": a.connect_budget or 3 * sum(counts) + 100, "retries": 0}
    t0 = time.monotonic()
    deadline = t0 + a.connect_timeout
    idle = [Conn(s) for s in open_many(addr, a.idle, state, deadline, a.pending)]
    idle_retries = state["retries"]
    loris = [Conn(s, TLS_LORIS) for s in open_many(addr, a.loris_tls, state, deadline, a.pending)]
    loris += [Conn(s, PLAIN_LORIS) for s in open_many(addr, a.loris_plain, state, deadline, a.pending)]
    connect_ms = int((time.monotonic() - t0) * 1000)
    w = Watch(a.loris_every)
    w.add(idle + loris)
    w.loris = loris
    w.turn(time.monotonic())                  # every slow-loris connection speaks now
    burst = [Conn(s) for s in open_many(addr, a.burst, state, deadline, a.pending)]
    w.add(burst)
    w.until(lambda: sum(c.closed for c in burst) >= a.settle, 10)
    burst_settled = sum(c.closed for c in burst)
    loris_settled = sum(c.closed for c in loris)
    w.until(lambda: a.wait_eof and loris and all(c.closed for c in loris), a.hold)
    sent = [c.sent for c in loris] or [0]
    print("connect_ms %d idle_opened %d idle_retries %d idle_closed_by_peer %d idle_open %d "
          "loris_opened %d loris_closed_by_peer %d loris_bytes_min %d loris_bytes_max %d "
          "burst_opened %d burst_closed_at_settle %d loris_closed_at_settle %d "
          "received_bytes %d" % (
              connect_ms, len(idle), idle_retries, sum(c.closed for c in idle),
              sum(not c.closed for c in idle), len(loris), sum(c.closed for c in loris),
              min(sent), max(sent), len(burst), burst_settled, loris_settled, w.received))
    sys.stdout.flush()
    for c in idle + loris + burst:
        c.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
