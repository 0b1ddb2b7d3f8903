#!/usr/bin/python3
"""apipeer.py - API clients on fabricd's Unix socket that test its bounds
(tests/netns/test_fabricd_limits.sh). Standard library only: the few protobuf fields needed
are encoded and decoded by hand.

    apipeer.py SOCKET noreader N [--pid PID] [--wait S]
        Hello (fabricctl), N `status` requests, and never a read: waits up to --wait (30) s
        for fabricd to close the session (seen as a hang-up without reading), sampling
        fabricd's VmRSS (--pid) meanwhile.
        Prints: sent N closed 0|1 rss_before_kb N rss_max_kb N
    apipeer.py SOCKET slowreader N [--chunk BYTES] [--every S] [--wait S]
        Hello, N `status` requests pipelined, then reads --chunk (32768) bytes every --every
        (0.02) s and checks each reply: a status, no error, in order (its counter
        api.requests, which counts the requests fabricd has taken, grows with every reply).
        Stops after N replies, at EOF, or after --wait (60) s.
        Prints: sent N replies N in_order 0|1 errors N eof_early 0|1 first_bad N|-
    apipeer.py SOCKET bigframe LEN [--prehello] [--wait S]
        Hello (none with --prehello), then a frame header declaring LEN bytes and LEN bytes
        of zeros (as many as fabricd takes): waits up to --wait (10) s for the close.
        Prints: closed 0|1 sent_bytes N
Exit 0, or 2 on a usage error.
"""
import argparse
import select
import socket
import sys
import time


def varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def frame(env):
    return len(env).to_bytes(4, "big") + env


HELLO = frame(field(1, b"\x08\x01" b"\x10\x02" + field(3, b"apipeer")))
REQ_STATUS = frame(field(5, b"\x38\x01"))        # Request { status: true }


def read_varint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return n, i


def fields(b):
    """(number, wire type, value) of each top-level field of message b."""
    i = 0
    while i < len(b):
        tag, i = read_varint(b, i)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = read_varint(b, i)
        elif wt == 2:
            n, i = read_varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        yield num, wt, v


def reply_of(env):
    """The Reply in an envelope as {field number: value}, or None if it holds none."""
    for num, _, v in fields(env):
        if num == 6:
            return {n: x for n, _, x in fields(v)}
    return None


def status_counter(status, name):
    """The value of counter `name` in an encoded Status, or None."""
    for num, _, c in fields(status):
        if num == 3:
            kv = {n: x for n, _, x in fields(c)}
            if kv.get(1) == name:
                return kv.get(2)
    return None


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def send_all(s, data, deadline):
    """Sends what the socket takes before the deadline; the number of bytes sent."""
    s.setblocking(False)
    off = 0
    while off < len(data) and time.monotonic() < deadline:
        try:
            off += s.send(data[off:off + 65536])
        except BlockingIOError:
            select.select([], [s], [], 0.1)
        except OSError:
            break
    return off


def hung_up(s, timeout):
    p = select.poll()
    p.register(s, select.POLLRDHUP | select.POLLHUP)
    return any(ev & (select.POLLRDHUP | select.POLLHUP) for _, ev in p.poll(timeout * 1000))


def noreader(a):
    s = connect(a.socket)
    before = rss_kb(a.pid) if a.pid else 0
    deadline = time.monotonic() + a.wait
    data = HELLO + REQ_STATUS * a.n
    sent = send_all(s, data, deadline)
    nreq = max(0, sent - len(HELLO)) // len(REQ_STATUS)
    peak, closed = before, False
    while time.monotonic() < deadline and not closed:
        closed = hung_up(s, 0.2)
        if a.pid:
            peak = max(peak, rss_kb(a.pid))
    print("sent %d closed %d rss_before_kb %d rss_max_kb %d" % (nreq, closed, before, peak))


def slowreader(a):
    s = connect(a.socket)
    deadline = time.monotonic() + a.wait
    sent = send_all(s, HELLO + REQ_STATUS * a.n, deadline)
    nreq = max(0, sent - len(HELLO)) // len(REQ_STATUS)
    buf, replies, errors, in_order, eof, first_bad, last = b"", 0, 0, True, False, "-", -1
    while replies < nreq and time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], 0.5)
        if r:
            try:
                d = s.recv(a.chunk)
            except BlockingIOError:
                d = None
            except OSError:                   # fabricd closed with our requests unread
                d = b""
            if d == b"":
                eof = True
                break
            buf += d or b""
        while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[:4], "big"):
            n = int.from_bytes(buf[:4], "big")
            env, buf = buf[4:4 + n], buf[4 + n:]
            r = reply_of(env)
            if r is None:
                continue                      # fabricd's Hello
            errors += 1 in r
            n = status_counter(r[7], b"api.requests") if 7 in r else None
            if (n is None or n <= last) and in_order:
                in_order, first_bad = False, str(replies)
            last = n if n is not None else last
            replies += 1
        time.sleep(a.every)
    print("sent %d replies %d in_order %d errors %d eof_early %d first_bad %s" % (
        nreq, replies, in_order, errors, eof, first_bad))


def bigframe(a):
    s = connect(a.socket)
    deadline = time.monotonic() + a.wait
    data = (b"" if a.prehello else HELLO) + a.n.to_bytes(4, "big") + bytes(a.n)
    sent = send_all(s, data, deadline)
    closed = hung_up(s, max(0.0, deadline - time.monotonic()))
    print("closed %d sent_bytes %d" % (closed, sent))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("mode", choices=["noreader", "slowreader", "bigframe"])
    ap.add_argument("n", type=int)
    ap.add_argument("--pid", type=int, default=0)
    ap.add_argument("--wait", type=float, default=0)
    ap.add_argument("--chunk", type=int, default=32768)
    ap.add_argument("--every", type=float, default=0.02)
    ap.add_argument("--prehello", action="store_true")
    a = ap.parse_args()
    a.wait = a.wait or {"noreader": 30, "slowreader": 60, "bigframe": 10}[a.mode]
    if not 0 < a.n <= 1 << 24 or not 0 < a.wait <= 300 or not 0 < a.chunk <= 1 << 20 or \
            not 0 <= a.every <= 1:
        ap.error("bad arguments")
    {"noreader": noreader, "slowreader": slowreader, "bigframe": bigframe}[a.mode](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
