#!/usr/bin/env python3
# lab/cut_after_advert.py - cuts a bridge port right after a VRRP advert seen on it, for
# failover benchmarks: every trial and every implementation then sees the same phase.
#
# usage: cut_after_advert.py PORT MAC LIMIT_S WINDOW_S [FAMILIES]
#   Listens on PORT (a packet socket, kernel receive timestamps) for VRRP adverts whose
#   source MAC is MAC. FAMILIES "46" (default): waits for an IPv4 and an IPv6 advert of the
#   same round (at most WINDOW_S apart); "4" or "6": one advert of that family. Then takes
#   PORT down (SIOCSIFFLAGS, what `ip link set PORT down` does) and prints
#   "advert4 T advert6 T cut T0 T1" (epoch seconds; a family not waited for repeats the
#   other's time). Exit 1 when no such advert came within LIMIT_S.
# Run it inside the namespace that holds PORT.
import ctypes, fcntl, socket, struct, sys, time
port, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
limit, window = float(sys.argv[3]), float(sys.argv[4])
fams = sys.argv[5] if len(sys.argv) > 5 else "46"
SO_ATTACH_FILTER, SO_TIMESTAMPNS, SIOCGIFFLAGS, SIOCSIFFLAGS, ETH_P_ALL = 26, 35, 0x8913, 0x8914, 3
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
# ldh [12]; IPv4: ldb [23]; IPv6: ldb [20]; protocol 112: accept; anything else: drop
prog = [(0x28, 0, 0, 12), (0x15, 0, 2, 0x0800), (0x30, 0, 0, 23), (0x05, 0, 0, 2),
        (0x15, 0, 3, 0x86dd), (0x30, 0, 0, 20), (0x15, 0, 1, 112), (0x06, 0, 0, 0xffff),
        (0x06, 0, 0, 0)]
code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in prog))
s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(prog), ctypes.addressof(code)))
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.bind((port, ETH_P_ALL))
ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH", fcntl.ioctl(ctl, SIOCGIFFLAGS, struct.pack("16sH14x", port.encode(), 0))[:18])[1]
down = struct.pack("16sH14x", port.encode(), flags & ~1)
armed = time.time()
deadline = armed + limit
last = {}
while time.time() < deadline:
    s.settimeout(max(deadline - time.time(), 0.001))
    try:
        data, anc, _, addr = s.recvmsg(64, 64)
    except socket.timeout:
        break
    ts = None
    for lvl, typ, val in anc:
        if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", val[:16])
            ts = sec + nsec / 1e9
    # from n1 (not frames to it), received since we listen (not queued before)
    if addr[2] == socket.PACKET_OUTGOING or data[6:12] != mac or ts is None or ts < armed:
        continue
    fam = 4 if data[12:14] == b"\x08\x00" else 6
    if str(fam) not in fams:
        continue
    last[fam] = ts
    if len(fams) > 1:
        other = last.get(10 - fam)
        if other is None or ts - other > window:
            continue
    else:
        last[10 - fam] = ts
    t0 = time.time()
    fcntl.ioctl(ctl, SIOCSIFFLAGS, down)
    print("advert4 %.6f advert6 %.6f cut %.6f %.6f" % (last[4], last[6], t0, time.time()), flush=True)
    sys.exit(0)
sys.exit(1)
