#!/usr/bin/env python3
"""trickle.py SOCKET N SECONDS — N clients connect to a daemon's control socket (proto/'s
sessions: u32 length + payload frames, the daemon's Hello first) and trickle a frame a byte
at a time, one byte every 0.25 s, for at most SECONDS, never its last byte. Prints one line:
"closed C of N, replies R", C counting the clients the server closed before SECONDS were
over, R the frames any of them got after the daemon's Hello (a server that waits for whole
requests answers none). Says "connected" on stderr once every client has connected."""
import select
import socket
import struct
import sys
import time

path, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
req = b"vip status"
frame = struct.pack("!I", len(req)) + req
clients = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.setblocking(False)
    clients.append({"s": s, "sent": 0, "closed": False, "replies": 0, "buf": b"", "frames": 0})
print("connected", file=sys.stderr, flush=True)
end = time.monotonic() + seconds
while time.monotonic() < end and not all(c["closed"] for c in clients):
    for c in clients:
        if c["closed"]:
            continue
        # one byte, never the last: the request stays incomplete
        if c["sent"] < len(frame) - 1:
            try:
                c["s"].send(frame[c["sent"]:c["sent"] + 1])
                c["sent"] += 1
            except OSError:
                c["closed"] = True
                continue
        r, _, _ = select.select([c["s"]], [], [], 0)
        if r:
            try:
                data = c["s"].recv(4096)
            except OSError:
                data = b""
            if data:
                c["buf"] += data
                while len(c["buf"]) >= 4:
                    flen = struct.unpack("!I", c["buf"][:4])[0]
                    if len(c["buf"]) < 4 + flen:
                        break
                    c["buf"] = c["buf"][4 + flen:]
                    c["frames"] += 1
                    if c["frames"] > 1:        # the first is the daemon's Hello
                        c["replies"] += 1
            else:
                c["closed"] = True
    time.sleep(0.25)
closed = sum(c["closed"] for c in clients)
print(f"closed {closed} of {n}, replies {sum(c['replies'] for c in clients)}")
