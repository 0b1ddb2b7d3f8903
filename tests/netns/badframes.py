#!/usr/bin/python3
"""badframes.py IFACE DST_MAC VRID VIP4 VIP6 NODE4

Sends, once each, frames vipd must drop, and prints one line per frame: the drop reason
vipd is expected to count for it (its `fabricctl vip status` name), or "unseen" for a frame
its packet filter must not even let through. Every frame targets DST_MAC (the master, whose
primary IPv4 address is NODE4) and, where it carries an advert, claims priority 255 so that
a vipd that wrongly accepted it would visibly give up mastership.
"""
import sys
from scapy.all import (ARP, Dot1Q, Ether, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IP, IPv6, Raw,
                       VRRPv3, conf, get_if_hwaddr, sendp)

conf.verb = 0
iface, dst, vrid, vip4, vip6, node4 = (sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4],
                                       sys.argv[5], sys.argv[6])
me = get_if_hwaddr(iface)
src4, src6 = "198.18.0.100", "2001:db8:18::100"
E = Ether(src=me, dst=dst)


def vrrp4(ttl=255, dst4="224.0.0.18", ip_src=src4, **kw):
    v = dict(vrid=vrid, priority=255, adv=10, addrlist=[vip4])
    v.update(kw)
    return E / IP(src=ip_src, dst=dst4, ttl=ttl, proto=112) / VRRPv3(**v)


def vrrp6(hlim=255, ip_src="fe80::1", **kw):
    v = dict(vrid=vrid, priority=255, adv=10, addrlist=[vip6])
    v.update(kw)
    return E / IPv6(src=ip_src, dst="ff02::12", hlim=hlim, nh=112) / VRRPv3(**v)


def ns(hlim=255, src=src6, tgt=vip6, opts=b"", code=0, cksum=None):
    m = ICMPv6ND_NS(tgt=tgt, code=code)
    if cksum is not None:
        m.cksum = cksum
    return E / IPv6(src=src, dst=vip6, hlim=hlim) / m / Raw(opts)


arp_ok = dict(hwsrc=me, psrc=src4, pdst=vip4)
frames = [
    ("truncated", Ether(src=me, dst=dst, type=0x0806) / Raw(bytes(ARP(op=1, **arp_ok))[:10])),
    ("arp_format", E / ARP(op=1, hwlen=8, **arp_ok)),
    ("arp_format", E / ARP(op=1, ptype=0x86dd, **arp_ok)),
    ("arp_op", E / ARP(op=7, **arp_ok)),
    ("arp_sender", E / ARP(op=1, hwsrc="01:00:5e:00:00:01", psrc=src4, pdst=vip4)),
    ("ttl", vrrp4(ttl=254)),
    ("vrrp_dest", vrrp4(dst4="198.18.0.11")),
    ("vrrp_version", vrrp4(version=2)),
    ("vrrp_type", vrrp4(type=2)),
    ("vrrp_checksum", vrrp4(chksum=0x1234)),
    ("vrrp_length", vrrp4(ipcount=3)),
    ("vrrp_interval", vrrp4(adv=0)),
    ("vrrp_vrid", vrrp4(vrid=(vrid % 255) + 1)),
    ("vrrp_length", vrrp4(ipcount=0, addrlist=[])),
    ("own_frame", vrrp4(ip_src=node4)),
    ("vrrp_source", vrrp6(ip_src=src6)),
    # Tagged for VLAN 100: the kernel strips the tag before a packet socket on the parent
    # sees it; vipd's filter must drop it, or VLAN 100's routers would join this group.
    ("unseen", Ether(src=me, dst=dst) / Dot1Q(vlan=100) /
     IP(src=src4, dst="224.0.0.18", ttl=255, proto=112) /
     VRRPv3(vrid=vrid, priority=255, adv=10, addrlist=[vip4])),
    ("ip_checksum", E / IP(bytes(IP(src=src4, dst="224.0.0.18", ttl=255, proto=112, chksum=0xbeef) /
                                 VRRPv3(vrid=vrid, priority=255, adv=10, addrlist=[vip4])))),
    ("ip_fragment", E / IP(src=src4, dst="224.0.0.18", ttl=255, proto=112, flags="MF") /
     VRRPv3(vrid=vrid, priority=255, adv=10, addrlist=[vip4])),
    ("truncated", Ether(src=me, dst=dst, type=0x0800) / Raw(bytes(IP(src=src4, dst="224.0.0.18", ttl=255, proto=112) /
                                VRRPv3(vrid=vrid, priority=255, adv=10, addrlist=[vip4]))[:30])),
    ("ttl", vrrp6(hlim=1)),
    ("vrrp_checksum", vrrp6(chksum=0x1234)),
    ("ttl", ns(hlim=64)),
    ("icmp6_checksum", ns(cksum=0x1234)),
    ("nd_code", ns(code=1)),
    ("nd_target", ns(tgt="ff02::1")),
    ("nd_option", ns(opts=b"\x01\x00" + b"\x00" * 6)),
    ("nd_option", ns(opts=b"\x01\x02" + b"\x00" * 6)),
    ("nd_unspec_src", E / IPv6(src="::", dst="ff02::1:ff00:10", hlim=255) /
     ICMPv6ND_NS(tgt=vip6) / ICMPv6NDOptSrcLLAddr(lladdr=me)),
    ("truncated", Ether(src=me, dst=dst, type=0x86dd) / Raw(bytes(IPv6(src=src6, dst=vip6, hlim=255) / ICMPv6ND_NS(tgt=vip6))[:40])),
]
for reason, frame in frames:
    sendp(frame, iface=iface)
    print(reason)
