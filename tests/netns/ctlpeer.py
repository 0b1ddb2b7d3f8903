#!/usr/bin/env python3
"""ctlpeer.py SOCKET MODE SECONDS — hostile fabricctl-like clients of a daemon's control
socket (proto/ctlsrv: u32 length + Envelope frames; the daemon's Hello first). Frames are
hand-encoded: Hello (role FABRICCTL, id "atk") and Request{vip_status} (vipd), or
Request{agent_status} (vtepd) in the -agent modes.

  neverread  one session: Hello, then pipelined requests as fast as the socket takes them,
             never reading (a 4 KiB receive buffer). Prints "closed_by_daemon yes|no sent N"
             after SECONDS or once the daemon closed it.
  poll       16 sessions, each sending a request and reading its reply every 50 ms for
             SECONDS. Prints "replies N errors N".
  poll-agent the same on vtepd's socket."""
import select
import socket
import struct
import sys
import time

HELLO = bytes.fromhex("0a09080110021a0361746b")
VIP_STATUS = bytes.fromhex("2a024001")     # Envelope.request{vip_status = true}
AGENT_STATUS = bytes.fromhex("2a024801")   # Envelope.request{agent_status = true}


def frame(b):
    return struct.pack("!I", len(b)) + b


def read_frame(s, deadline):
    buf = b""
    while time.monotonic() < deadline:
        need = 4 if len(buf) < 4 else 4 + struct.unpack("!I", buf[:4])[0]
        if len(buf) >= need and len(buf) >= 4:
            return buf[:need]
        r, _, _ = select.select([s], [], [], max(0, deadline - time.monotonic()))
        if not r:
            return None
        d = s.recv(need - len(buf))
        if not d:
            return None
        buf += d
    return None


path, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
end = time.monotonic() + seconds
if mode == "neverread":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(path)
    s.sendall(frame(HELLO))
    s.setblocking(False)
    sent, closed = 0, False
    req = frame(VIP_STATUS) * 64
    while time.monotonic() < end and not closed:
        try:
            n = s.send(req)
            sent += n // len(frame(VIP_STATUS))
        except BlockingIOError:
            time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    print(f"closed_by_daemon {'yes' if closed else 'no'} sent {sent}")
elif mode in ("poll", "poll-agent"):
    req = frame(AGENT_STATUS if mode == "poll-agent" else VIP_STATUS)
    socks = []
    for _ in range(16):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(frame(HELLO))
        read_frame(s, time.monotonic() + 2)     # the daemon's Hello
        socks.append(s)
    print("connected", file=sys.stderr, flush=True)
    replies = errors = 0
    while time.monotonic() < end:
        for s in list(socks):
            try:
                s.sendall(req)
                if read_frame(s, time.monotonic() + 1):
                    replies += 1
                else:
                    errors += 1
                    socks.remove(s)
            except OSError:
                errors += 1
                socks.remove(s)
        time.sleep(0.05)
    print(f"replies {replies} errors {errors}")
