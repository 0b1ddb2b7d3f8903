#!/usr/bin/env bash
# test_vipd_keepalived.sh — vipd and keepalived (VRRPv3) in the same group, IPv4 and IPv6.
# Whichever starts first, the higher priority ends up master, the other backs it up, the
# client resolves the VIPs to the master's MAC; when the master's node dies (its daemon
# SIGKILLed, so no priority 0 advert, and its link cut, so its kernel stops answering for the
# addresses the daemon left behind), the other one takes the VIPs.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_vipd
t_require_cmd keepalived arping ndisc6 jq

VIP4=198.51.100.10 VIP6=2001:db8:51::10
owner4() { [ "$(arp_mac cl eth0 $VIP4)" = "$1" ]; }
owner6() { [ "$(ndisc_mac cl $VIP6)" = "$1" ]; }
ka_kill() { # the VRRP child first, so the parent cannot respawn it
    kill -KILL "$(cat "$LAB_TMP/keepalived-$1-vrrp.pid")" "${KEEPALIVED_PID[$1]}" 2>/dev/null
    wait "${KEEPALIVED_PID[$1]}" 2>/dev/null
    return 0
}

seg_build 2
lab_tmpdir
mac1=$(seg_node_mac n1) mac2=$(seg_node_mac n2)

t_log "A: keepalived (priority 200) on n2 starts first, vipd (100) on n1 joins"
keepalived_conf "$LAB_TMP/ka.conf" router_id=n2 vrid=51 priority=200 advert=0.1 addrs="$VIP4 $VIP6"
keepalived_start n2 "$LAB_TMP/ka.conf"
t_assert_wait 10 "keepalived never took $VIP4" owner4 "$mac2"
vipd_conf "$LAB_TMP/n1.yaml" node=n1 priority=100 assign=true addrs="$VIP4 $VIP6"
vipd_start n1 "$LAB_TMP/n1.yaml"
s1=${VIPD_SOCKET[n1]}
for f in ipv4 ipv6; do
    t_assert_wait 5 "vipd never saw keepalived's $f adverts" \
        '[ "$(vip_counter '$s1' web '$f' adverts_received)" -gt 5 ]'
    t_assert_eq "$(vip_state $s1 web $f)" backup "vipd state ($f) beside a higher keepalived"
    t_assert_eq "$(vip_counter $s1 web $f became_master)" 0 "vipd became master ($f) beside keepalived"
done
master=$(vip_status_json "$s1" | jq -r '.groups[0].instances[] | select(.family == "ipv4") | .master')
t_assert_eq "$master" "$(seg_node_ip4 n2)" "master vipd reports"
t_assert_eq "$(arp_responders cl $VIP4)" 1 "MACs answering ARP for $VIP4"
owner4 "$mac2" || t_fail "$VIP4 no longer at keepalived's node"
owner6 "$mac2" || t_fail "$VIP6 not at keepalived's node"

ka_kill n2
seg_cut n2
t_assert_wait 5 "vipd did not take over IPv4 when keepalived died" '[ "$(vip_state '$s1' web ipv4)" = master ]'
t_assert_wait 5 "vipd did not take over IPv6 when keepalived died" '[ "$(vip_state '$s1' web ipv6)" = master ]'
t_assert_wait 5 "$VIP4 did not move to vipd's node" owner4 "$mac1"
t_assert_wait 5 "$VIP6 did not move to vipd's node" owner6 "$mac1"
lab_exec cl ping -c 1 -W 1 $VIP4 >/dev/null || t_fail "client cannot ping $VIP4 on vipd's node"
vipd_stop n1
# What the killed keepalived left on n2 goes, as an operator would clear it after a crash.
lab_exec n2 ip addr del $VIP4/32 dev eth0
lab_exec n2 ip -6 addr del $VIP6/128 dev eth0
seg_restore n2

t_log "B: vipd (priority 200) on n1 starts first, keepalived (100) on n2 joins"
vipd_conf "$LAB_TMP/n1.yaml" node=n1 priority=200 assign=true addrs="$VIP4 $VIP6"
vipd_start n1 "$LAB_TMP/n1.yaml"
t_assert_wait 5 "vipd never became master" '[ "$(vip_state '$s1' web ipv4)" = master ]'
t_assert_wait 5 "$VIP4 not at vipd's node" owner4 "$mac1"
keepalived_conf "$LAB_TMP/ka.conf" router_id=n2 vrid=51 priority=100 advert=0.1 addrs="$VIP4 $VIP6"
keepalived_start n2 "$LAB_TMP/ka.conf"
t_assert_wait 5 "keepalived did not enter BACKUP" grep -q 'Entering BACKUP STATE' "$LAB_TMP/keepalived-n2.log"
sleep 1   # keepalived's own master-down interval (about 0.35 s) passes several times
grep -q 'Entering MASTER STATE' "$LAB_TMP/keepalived-n2.log" && t_fail "keepalived became master beside a higher vipd"
for f in ipv4 ipv6; do
    t_assert_eq "$(vip_state $s1 web $f)" master "vipd state ($f) beside a lower keepalived"
    t_assert_eq "$(vip_counter $s1 web $f transitions)" 2 "vipd transitions ($f): init->backup->master only"
done
t_assert_eq "$(arp_responders cl $VIP4)" 1 "MACs answering ARP for $VIP4"
owner6 "$mac1" || t_fail "$VIP6 not at vipd's node"

vipd_kill n1
seg_cut n1
t_assert_wait 5 "$VIP4 did not move to keepalived's node when vipd died" owner4 "$mac2"
t_assert_wait 5 "$VIP6 did not move to keepalived's node when vipd died" owner6 "$mac2"
grep -q 'Entering MASTER STATE' "$LAB_TMP/keepalived-n2.log" || t_fail "keepalived log shows no MASTER"
t_pass
