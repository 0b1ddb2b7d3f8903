#!/usr/bin/env python3
"""notify_listen.py PATH SECONDS — what systemd's notify socket would receive: binds a Unix
datagram socket at PATH and prints every message it gets for SECONDS (at most), one per
line, its lines joined with '|'."""
import os
import socket
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("listening", file=sys.stderr, flush=True)
end = time.monotonic() + seconds
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        data = s.recv(4096)
    except socket.timeout:
        break
    print("|".join(data.decode(errors="replace").strip().split("\n")), flush=True)
os.unlink(path)
