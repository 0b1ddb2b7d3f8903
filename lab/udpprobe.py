#!/usr/bin/env python3
"""lab/udpprobe.py - a one-way UDP probe for outage measurements (bench/switchd_fault.sh).

  udpprobe.py send DST PORT COUNT [INTERVAL_MS] [SPORT]
      COUNT datagrams to DST:PORT, one every INTERVAL_MS (1) on an absolute schedule (a late
      one does not shift the rest), from source port SPORT (fixed: one flow, one path).
      Each carries its sequence number. A multicast DST goes out of eth0 (hosts have no
      route for it), with TTL / hop limit 8.
  udpprobe.py recv PORT SECONDS [FAMILY [GROUP]]
      Receives for at most SECONDS (and stops 1 s after the last datagram once some came),
      after joining GROUP on eth0 when one is given (IGMP / MLD from the host's own stack);
      prints "received N lost L gap_ms G first_ms F last_ms T stopped_ms S resumed_ms R
      lostrun_ms U": G is the longest time between two consecutive arrivals less the interval
      they were sent at (so 0 without an outage), F and T the first and last arrival, S and R
      the two arrivals around the longest gap, in epoch ms; arrivals are the kernel's receive
      timestamps (SO_TIMESTAMPNS), so the receiver's own scheduling adds nothing. U is the
      longest run of consecutive sequence numbers never received, times the interval: the
      time the path dropped what was sent on schedule, which neither end's scheduling
      delays change (a sender late by 5 ms sends its datagrams late, it loses none).
      With UDPPROBE_ARRIVALS=FILE in the environment, each first arrival also goes to FILE
      as "SEQ EPOCH_MS" (a line each), for a caller that looks at one moment of the run.
  udpprobe.py tcprecv PORT SECONDS / tcpsend DST PORT SECONDS
      A bulk TCP flow; tcprecv prints "bytes B stall_ms S": S the longest time between two
      reads that returned data.
Bounded in count and time; nothing else is touched.
"""
import os
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # asm-generic/socket.h


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def is_multicast(addr):
    return addr.lower().startswith("ff") if ":" in addr else 224 <= int(addr.split(".")[0]) < 240


def mcast_out(s, dst):
    ifindex = socket.if_nametoindex("eth0")
    if ":" in dst:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 8)
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                     struct.pack("=4s4si", b"\0" * 4, b"\0" * 4, ifindex))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 8)


def join(s, group):
    ifindex = socket.if_nametoindex("eth0")
    if ":" in group:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                     socket.inet_pton(socket.AF_INET6, group) + struct.pack("=I", ifindex))
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     socket.inet_aton(group) + b"\0" * 4 + struct.pack("=i", ifindex))


def send(dst, port, count, interval_ms=1.0, sport=0):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    if is_multicast(dst):
        mcast_out(s, dst)
    if sport:
        s.bind(("::" if ":" in dst else "0.0.0.0", sport))
    t0 = time.monotonic()
    for seq in range(count):
        due = t0 + seq * interval_ms / 1000.0
        while True:
            left = due - time.monotonic()
            if left <= 0:
                break
            time.sleep(left if left > 0.0002 else 0)
        try:
            s.sendto(struct.pack("!Id", seq, interval_ms), (dst, port))
        except OSError:
            pass  # no route for a moment: the receiver sees the gap


def recv(port, seconds, fam="4", group=None):
    af = socket.AF_INET6 if fam == "6" else socket.AF_INET
    s = socket.socket(af, socket.SOCK_DGRAM)
    s.bind(("::" if fam == "6" else "0.0.0.0", port))
    if group:
        join(s, group)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    log = open(os.environ["UDPPROBE_ARRIVALS"], "w") if os.environ.get("UDPPROBE_ARRIVALS") else None
    s.settimeout(0.2)
    end = time.time() + seconds
    n, seen, gap, first, last, interval, prev = 0, set(), 0.0, None, None, 1.0, None
    stopped = resumed = 0.0
    while time.time() < end:
        try:
            data, anc, _, _ = s.recvmsg(64, socket.CMSG_SPACE(16))
        except socket.timeout:
            if last is not None and time.time() * 1000 - last > 1000:
                break
            continue
        now = time.time() * 1000
        for level, kind, val in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(val) >= 16:
                sec, nsec = struct.unpack("=qq", val[:16])
                now = sec * 1000 + nsec / 1e6
        if len(data) < 12:
            continue
        seq, interval = struct.unpack("!Id", data[:12])
        if seq in seen:
            continue
        seen.add(seq)
        n += 1
        if log:
            log.write("%d %.3f\n" % (seq, now))
        if prev is not None and now - prev - interval > gap:
            gap = now - prev - interval
            stopped, resumed = prev, now
        prev = now
        first = now if first is None else first
        last = now
    if log:
        log.close()
    lost = (max(seen) + 1 - n) if seen else 0
    run = longest = 0
    for seq in range(max(seen) + 1 if seen else 0):
        run = 0 if seq in seen else run + 1
        longest = max(longest, run)
    print("received %d lost %d gap_ms %.1f first_ms %.0f last_ms %.0f stopped_ms %.1f "
          "resumed_ms %.1f lostrun_ms %.1f" % (n, lost, max(gap, 0.0), first or 0, last or 0,
                                              stopped, resumed, longest * interval))


def tcprecv(port, seconds):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    ls.settimeout(seconds)
    c, _ = ls.accept()
    c.settimeout(0.5)
    end = time.time() + seconds
    total, stall, prev = 0, 0.0, None
    while time.time() < end:
        try:
            b = c.recv(65536)
        except socket.timeout:
            continue
        if not b:
            break
        now = time.time() * 1000
        if prev is not None and now - prev > stall:
            stall = now - prev
        prev = now
        total += len(b)
    print("bytes %d stall_ms %.1f" % (total, stall))


def tcpsend(dst, port, seconds):
    s = socket.create_connection((dst, port), timeout=5)
    buf = b"x" * 16384
    end = time.time() + seconds
    while time.time() < end:
        s.sendall(buf)
    s.close()


def main(a):
    if len(a) >= 4 and a[0] == "send":
        send(a[1], int(a[2]), int(a[3]), float(a[4]) if len(a) > 4 else 1.0,
             int(a[5]) if len(a) > 5 else 0)
    elif len(a) >= 3 and a[0] == "recv":
        recv(int(a[1]), float(a[2]), a[3] if len(a) > 3 else "4", a[4] if len(a) > 4 else None)
    elif len(a) == 3 and a[0] == "tcprecv":
        tcprecv(int(a[1]), float(a[2]))
    elif len(a) == 4 and a[0] == "tcpsend":
        tcpsend(a[1], int(a[2]), float(a[3]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
