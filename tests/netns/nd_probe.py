#!/usr/bin/python3
"""nd_probe.py IFACE DST_MAC SRC_IP6 TARGET [--unspec]

Sends one Neighbor Solicitation for TARGET the way a router does when it re-validates an
entry: unicast to DST_MAC and TARGET, with NO source link-layer address option (RFC 4861
4.3 allows that). With --unspec it is a DAD probe instead (source ::, to the solicited-node
group). Prints "<target-link-layer-address> <flags>" of the first Neighbor Advertisement
for TARGET, or "none" after 2 s.
"""
import sys
import socket
import time
from scapy.all import (AsyncSniffer, Ether, IPv6, ICMPv6ND_NS, ICMPv6ND_NA,
                       ICMPv6NDOptDstLLAddr, get_if_hwaddr, in6_getnsma, in6_getnsmac, inet_pton, inet_ntop,
                       sendp, conf)

conf.verb = 0
iface, dst_mac, src, target = sys.argv[1:5]
unspec = "--unspec" in sys.argv[5:]
# The source MAC is set: scapy would put zeros there when it finds no route, and a bridge
# drops frames from an invalid source.
mine = get_if_hwaddr(iface)
if unspec:
    group = inet_ntop(socket.AF_INET6, in6_getnsma(inet_pton(socket.AF_INET6, target)))
    pkt = (Ether(src=mine, dst=in6_getnsmac(inet_pton(socket.AF_INET6, group))) /
           IPv6(src="::", dst=group, hlim=255) / ICMPv6ND_NS(tgt=target))
else:
    pkt = Ether(src=mine, dst=dst_mac) / IPv6(src=src, dst=target, hlim=255) / ICMPv6ND_NS(tgt=target)
sniffer = AsyncSniffer(iface=iface, count=1, timeout=2,
                       lfilter=lambda p: ICMPv6ND_NA in p and p[ICMPv6ND_NA].tgt == target)
sniffer.start()
time.sleep(0.2)
sendp(pkt, iface=iface)
sniffer.join()
ans = sniffer.results[0] if sniffer.results else None
if ans is None:
    print("none")
else:
    na = ans[ICMPv6ND_NA]
    lla = ans[ICMPv6NDOptDstLLAddr].lladdr if ICMPv6NDOptDstLLAddr in ans else "-"
    flags = ("R" if na.R else "") + ("S" if na.S else "") + ("O" if na.O else "")
    print(lla, flags or "-", ans[IPv6].dst)
