#!/usr/bin/env bash
# test_vipd_failover.sh — two nodes run vipd for two groups on one segment; a plain Linux
# client is the peer. Group "web" (assign: false) is answered only by vipd itself, so it
# tests vipd's ARP and NDP answers; group "svc" (assign: true) carries the client's traffic.
#  - the client resolves every VIP (arping, ndisc6) to the master's MAC, and only one MAC
#    answers; the backup's answer counters stay at 0;
#  - a unicast NS without a source link-layer option (RFC 4861 4.3) and a DAD probe are
#    answered with the right flags and destination;
#  - cutting the master's link moves the VIPs: the client's cache follows the new master's
#    announcement without asking, its pings reach the new master, and the old master's
#    vipd withdrew its addresses; the link back, the higher priority preempts;
#  - tshark decodes our VRRP, ARP and NA frames with no malformed or bad-checksum flag.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_vipd
t_require_cmd arping ndisc6 tcpdump tshark jq

W4=198.51.100.10 W6=2001:db8:51::10 S4=198.51.100.20 S6=2001:db8:51::20
seg_build 2
lab_tmpdir
mac1=$(seg_node_mac n1) mac2=$(seg_node_mac n2)
for n in n1 n2; do
    prio=150; [ $n = n2 ] && prio=100
    cat >"$LAB_TMP/$n.yaml" <<YAML
node: $n
control_socket: $LAB_TMP/$n.sock
groups:
  - { name: web, interface: eth0, vrid: 51, priority: $prio, addresses: [$W4, "$W6"] }
  - { name: svc, interface: eth0, vrid: 52, priority: $prio, assign: true,
      addresses: [$S4, "$S6"] }
YAML
done
t_capture_start sw br0 "$LAB_TMP/wire.pcap" 'arp or icmp6 or ip proto 112 or ip6 proto 112'
cap=$T_CAPTURE_PID
vipd_start n1 "$LAB_TMP/n1.yaml"
vipd_start n2 "$LAB_TMP/n2.yaml"
s1=${VIPD_SOCKET[n1]} s2=${VIPD_SOCKET[n2]}

for g in web svc; do
    for f in ipv4 ipv6; do
        t_assert_wait 5 "n1 never became master of $g/$f" '[ "$(vip_state $s1 '$g' '$f')" = master ]'
        t_assert_wait 5 "n2 never became backup of $g/$f" '[ "$(vip_state $s2 '$g' '$f')" = backup ]'
    done
done

# What the client's own stack sees: only the master answers, with its interface MAC.
t_assert_eq "$(arp_responder_macs cl $W4 | sort -u | tr '\n' ' ')" "$mac1 " "MACs answering ARP for $W4"
t_assert_eq "$(nd_responder_macs cl $W6 | sort -u | tr '\n' ' ')" "$mac1 " "MACs answering NS for $W6"
t_assert_eq "$(arp_mac cl eth0 $S4)" "$mac1" "MAC answering ARP for $S4"
t_assert_eq "$(ndisc_mac cl $S6)" "$mac1" "MAC answering NS for $S6"
for c in arp_answered ns_answered; do
    for f in ipv4 ipv6; do
        t_assert_eq "$(vip_counter $s2 web $f $c)" 0 "backup n2 web/$f $c"
    done
done
[ "$(vip_counter $s1 web ipv4 arp_answered)" -gt 0 ] || t_fail "n1 counted no ARP answer"
[ "$(vip_counter $s1 web ipv6 ns_answered)" -gt 0 ] || t_fail "n1 counted no NS answer"

# RFC 4861 4.3: a unicast NS may come without a source link-layer option; answer it, to the
# frame's source, solicited and with override.
got=$(lab_exec cl "$T_PYTHON" "$T_DIR/nd_probe.py" eth0 "$mac1" "$SEG_CLIENT6" "$W6")
t_assert_eq "$got" "$mac1 SO $SEG_CLIENT6" "NA for a unicast NS without SLLA (tlla flags dst)"
# 7.2.4: a DAD probe (source ::) is answered to all-nodes, not solicited.
got=$(lab_exec cl "$T_PYTHON" "$T_DIR/nd_probe.py" eth0 - - "$W6" --unspec)
t_assert_eq "$got" "$mac1 O ff02::1" "NA for a DAD probe of $W6"

# A node that forwards says so (R=1), or hosts would drop it as their router (RFC 4861 7.2.5).
lab_exec n1 sysctl -qw net.ipv6.conf.eth0.forwarding=1
t_assert_wait 3 "no R flag once n1 forwards" \
    '[ "$(lab_exec cl "$T_PYTHON" "$T_DIR/nd_probe.py" eth0 "'$mac1'" "$SEG_CLIENT6" "'$W6'")" = "'"$mac1 RSO $SEG_CLIENT6"'" ]'
lab_exec n1 sysctl -qw net.ipv6.conf.eth0.forwarding=0

lab_exec cl ping -c 1 -W 1 $S4 >/dev/null || t_fail "client cannot ping $S4"
lab_exec cl ping -6 -c 1 -W 1 $S6 >/dev/null || t_fail "client cannot ping $S6"
t_assert_eq "$(neigh_mac cl $S4)" "$mac1" "client cache for $S4 before the cut"
lab_exec n1 ip -br addr show dev eth0 | grep -q "$S4/32" || t_fail "n1 did not assign $S4"
lab_exec n2 ip -br addr show dev eth0 | grep -q "$S4/32" && t_fail "backup n2 holds $S4"

# The master loses its link.
before=$(vip_counter $s2 svc ipv4 announcements_sent)
seg_cut n1
for g in web svc; do
    for f in ipv4 ipv6; do
        t_assert_wait 5 "n2 did not take over $g/$f" '[ "$(vip_state $s2 '$g' '$f')" = master ]'
        t_assert_wait 5 "n1 did not stop $g/$f on carrier loss" '[ "$(vip_state $s1 '$g' '$f')" = init ]'
    done
done
# The client's cache moves by the announcement alone: it sends nothing to the VIP meanwhile.
t_assert_wait 5 "client cache still maps $S4 to n1" '[ "$(neigh_mac cl '$S4')" = "'$mac2'" ]'
t_assert_wait 5 "client cache still maps $S6 to n1" '[ "$(neigh_mac cl '$S6')" = "'$mac2'" ]'
[ "$(vip_counter $s2 svc ipv4 announcements_sent)" -gt "$before" ] || t_fail "n2 sent no announcement"
lab_exec cl ping -c 1 -W 1 $S4 >/dev/null || t_fail "client cannot ping $S4 after the failover"
lab_exec cl ping -6 -c 1 -W 1 $S6 >/dev/null || t_fail "client cannot ping $S6 after the failover"
lab_exec n1 ip -br addr show dev eth0 | grep -q "$S4/32" && t_fail "n1 kept $S4 after losing its link"
t_assert_eq "$(arp_responder_macs cl $W4 | sort -u | tr '\n' ' ')" "$mac2 " "MACs answering ARP for $W4 after the cut"

# The link comes back: n1 rejoins as backup and preempts (RFC 5798 6.4.2).
seg_restore n1
t_assert_wait 5 "n1 did not preempt svc/ipv4" '[ "$(vip_state $s1 svc ipv4)" = master ]'
t_assert_wait 5 "n2 did not yield svc/ipv4" '[ "$(vip_state $s2 svc ipv4)" = backup ]'
t_assert_wait 5 "client cache did not return to n1 for $S4" '[ "$(neigh_mac cl '$S4')" = "'$mac1'" ]'
lab_exec n2 ip -br addr show dev eth0 | grep -q "$S4/32" && t_fail "n2 kept $S4 after yielding"

t_capture_stop "$cap"
tshark_check "$LAB_TMP/wire.pcap" || t_fail "bad frames on the wire (above)"
for what in "vrrp.version == 3 && vrrp.prio == 150 && eth.src == $mac1 && ip" \
            "vrrp.version == 3 && vrrp.prio == 150 && eth.src == $mac1 && ipv6" \
            "arp.opcode == 1 && arp.src.proto_ipv4 == $S4 && arp.dst.proto_ipv4 == $S4 && arp.dst.hw_mac == 00:00:00:00:00:00 && eth.src == $mac2" \
            "arp.opcode == 2 && arp.src.proto_ipv4 == $S4 && eth.dst == ff:ff:ff:ff:ff:ff && eth.src == $mac2" \
            "icmpv6.type == 136 && icmpv6.nd.na.flag.o == 1 && icmpv6.nd.na.flag.s == 0 && ipv6.dst == ff02::1 && icmpv6.nd.na.target_address == $S6 && eth.src == $mac2"; do
    [ "$(tshark_count "$LAB_TMP/wire.pcap" "$what")" -gt 0 ] || t_fail "no frame matching: $what"
done
t_pass
