#!/usr/bin/env bash
# test_keepalived_harness.sh — the VRRP peer the vipd tests lean on, alone: keepalived VRRPv3
# on n1 (priority 150) and n2 (100), advert 0.1 s, VIPs 198.51.100.10 and 2001:db8:51::10.
# The client must find the VIPs at n1's MAC, and at n2's once n1's link is cut; exactly one
# MAC answers at a time; the adverts on the wire decode cleanly as VRRPv3.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd keepalived arping ndisc6 tcpdump tshark

VIP4=198.51.100.10 VIP6=2001:db8:51::10
seg_build 2
lab_tmpdir
t_capture_start sw br0 "$LAB_TMP/wire.pcap"
cap=$T_CAPTURE_PID
keepalived_conf "$LAB_TMP/ka-n1.conf" router_id=n1 vrid=51 priority=150 advert=0.1 addrs="$VIP4 $VIP6"
keepalived_conf "$LAB_TMP/ka-n2.conf" router_id=n2 vrid=51 priority=100 advert=0.1 addrs="$VIP4 $VIP6"
keepalived_start n1 "$LAB_TMP/ka-n1.conf"
keepalived_start n2 "$LAB_TMP/ka-n2.conf"

mac1=$(seg_node_mac n1) mac2=$(seg_node_mac n2)
owner4() { [ "$(arp_mac cl eth0 $VIP4)" = "$1" ]; }
owner6() { [ "$(ndisc_mac cl $VIP6)" = "$1" ]; }
t_assert_wait 10 "$VIP4 never answered from n1 ($mac1)" owner4 "$mac1"
t_assert_wait 10 "$VIP6 never answered from n1 ($mac1)" owner6 "$mac1"
t_assert_eq "$(arp_responders cl $VIP4)" 1 "MACs answering ARP for $VIP4"
t_assert_eq "$(nd_responders cl $VIP6)" 1 "MACs answering NS for $VIP6"
lab_exec cl ping -q -c 1 -W 1 $VIP4 >/dev/null || t_fail "cl cannot ping $VIP4"

seg_cut n1
t_assert_wait 10 "$VIP4 did not move to n2 ($mac2) after n1's link was cut" owner4 "$mac2"
t_assert_wait 10 "$VIP6 did not move to n2 ($mac2) after n1's link was cut" owner6 "$mac2"
t_assert_eq "$(arp_responders cl $VIP4)" 1 "MACs answering ARP for $VIP4 after the cut"
# The master's gratuitous ARP / unsolicited NA must also have updated the client's cache.
t_assert_wait 10 "client cache still maps $VIP4 to n1" '[ "$(neigh_mac cl $VIP4)" = "$mac2" ]'

seg_restore n1
t_assert_wait 10 "$VIP4 did not return to n1 (preempt) after the link came back" owner4 "$mac1"

t_capture_stop "$cap"
tshark_check "$LAB_TMP/wire.pcap" || t_fail "bad frames on the wire (above)"
n=$(tshark_count "$LAB_TMP/wire.pcap" "vrrp.version == 3 && eth.src == $mac1 && vrrp.prio == 150 && vrrp.short_adver_int == 10")
[ "$n" -gt 0 ] || t_fail "no VRRPv3 adverts from n1 (priority 150, 10 cs) in the capture"
n=$(tshark_count "$LAB_TMP/wire.pcap" "vrrp.version == 3 && eth.src == $mac2 && ipv6")
[ "$n" -gt 0 ] || t_fail "no IPv6 VRRPv3 adverts from n2 in the capture"
t_pass
