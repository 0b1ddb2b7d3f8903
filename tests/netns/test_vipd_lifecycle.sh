#!/usr/bin/env bash
# test_vipd_lifecycle.sh — what an operator does to a running vipd:
#  - `vipd -n` on a bad file names file and line, exits 78 and touches no interface;
#  - a running vipd keeps only CAP_NET_ADMIN and CAP_NET_RAW;
#  - SIGHUP with an unchanged group: no transition, no priority 0; a group added by the
#    reload starts; a bad file on reload is refused and everything keeps running;
#  - SIGTERM on the master: priority 0 goes on the wire, the backup takes over, the
#    master's assigned VIPs are removed, the client follows.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_vipd
t_require_cmd arping tcpdump tshark jq

VIP4=198.51.100.10 VIP6=2001:db8:51::10 NEW4=198.51.100.30
seg_build 2
lab_tmpdir
mac1=$(seg_node_mac n1) mac2=$(seg_node_mac n2)

# A bad configuration: named file and line, exit 78, no address added anywhere.
vipd_conf "$LAB_TMP/bad.yaml" node=n1 priority=150 assign=true addrs="$VIP4"
sed -i 's/vrid: 51/vrid: 300/' "$LAB_TMP/bad.yaml"
line=$(grep -n 'vrid:' "$LAB_TMP/bad.yaml" | cut -d: -f1)
rc=0
msg=$(lab_exec n1 "$VIPD" -f -c "$LAB_TMP/bad.yaml" 2>&1) || rc=$?
t_assert_eq "$rc" 78 "exit code of vipd on a bad file"
case $msg in *"$LAB_TMP/bad.yaml:$line: "*300*) ;; *) t_fail "error does not name file:line and value: $msg" ;; esac
lab_exec n1 ip -br addr show dev eth0 | grep -q 198.51.100 && t_fail "a bad config touched eth0"

vipd_conf "$LAB_TMP/n1.yaml" node=n1 priority=150 assign=true addrs="$VIP4 $VIP6"
vipd_conf "$LAB_TMP/n2.yaml" node=n2 priority=100 assign=true addrs="$VIP4 $VIP6"
t_capture_start sw br0 "$LAB_TMP/wire.pcap" 'ip proto 112 or ip6 proto 112'
cap=$T_CAPTURE_PID
# n2 crashed earlier as master and left the VIP on its interface: its vipd must remove it.
lab_exec n2 ip addr add $VIP4/32 dev eth0
vipd_start n1 "$LAB_TMP/n1.yaml"
vipd_start n2 "$LAB_TMP/n2.yaml"
s1=${VIPD_SOCKET[n1]} s2=${VIPD_SOCKET[n2]}
t_assert_wait 5 "n1 never became master" '[ "$(vip_state '$s1' web ipv4)" = master ]'
t_assert_wait 5 "n2 never became backup" '[ "$(vip_state '$s2' web ipv4)" = backup ]'
lab_exec n2 ip -br addr show dev eth0 | grep -q "$VIP4/32" && t_fail "backup n2 kept a stale $VIP4"
t_assert_eq "$(arp_responders cl $VIP4)" 1 "MACs answering ARP for $VIP4"

# Least privilege: CAP_NET_ADMIN (12) and CAP_NET_RAW (13) only; an empty bounding set.
cap_of() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/${VIPD_PID[n1]}/status"; }
t_assert_eq "$(cap_of CapEff)" 0000000000003000 "vipd CapEff"
t_assert_eq "$(cap_of CapPrm)" 0000000000003000 "vipd CapPrm"
t_assert_eq "$(cap_of CapBnd)" 0000000000000000 "vipd CapBnd"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/${VIPD_PID[n1]}/status" || t_fail "NoNewPrivs not set"

# SIGHUP, nothing changed: nobody flaps.
t1=$(vip_counter $s1 web ipv4 transitions) z1=$(vip_counter $s1 web ipv4 priority_zero_sent)
kill -HUP "${VIPD_PID[n1]}"
sleep 0.5
t_assert_eq "$(vip_counter $s1 web ipv4 transitions)" "$t1" "transitions after an unchanged reload"
t_assert_eq "$(vip_counter $s1 web ipv4 priority_zero_sent)" "$z1" "priority 0 sent on an unchanged reload"
t_assert_eq "$(vip_state $s2 web ipv4)" backup "n2 after n1's reload"

# SIGHUP with a new group: it starts, the old one is untouched.
cat >>"$LAB_TMP/n1.yaml" <<YAML
  - name: "api"
    interface: "eth0"
    vrid: 52
    priority: 150
    addresses: [$NEW4]
YAML
kill -HUP "${VIPD_PID[n1]}"
t_assert_wait 5 "the group added by reload did not start" '[ "$(vip_state '$s1' api ipv4)" = master ]'
t_assert_eq "$(arp_mac cl eth0 $NEW4)" "$mac1" "MAC answering for the new group's VIP"
t_assert_eq "$(vip_counter $s1 web ipv4 transitions)" "$t1" "web transitions after adding api"

# SIGHUP with a broken file: refused, still running as before.
cp "$LAB_TMP/n1.yaml" "$LAB_TMP/n1.good"
echo "  - { name: broken, interface: eth0, vrid: 0, addresses: [$VIP4] }" >>"$LAB_TMP/n1.yaml"
kill -HUP "${VIPD_PID[n1]}"
t_assert_wait 5 "no refusal logged" grep -q 'reload refused' "$LAB_TMP/vipd-n1.log"
lab_alive "${VIPD_PID[n1]}" || t_fail "vipd died on a bad reload"
t_assert_eq "$(vip_state $s1 api ipv4)" master "api after a refused reload"
t_assert_eq "$(vip_state $s1 web ipv4)" master "web after a refused reload"

# SIGTERM: priority 0, handover, addresses withdrawn.
lab_exec n1 ip -br addr show dev eth0 | grep -q "$VIP4/32" || t_fail "master n1 does not hold $VIP4"
# The client talks to the VIP first, so its cache holds n1's MAC (a GARP updates an entry,
# it does not create one).
lab_exec cl ping -c 1 -W 1 $VIP4 >/dev/null || t_fail "client cannot ping $VIP4"
t_assert_eq "$(neigh_mac cl $VIP4)" "$mac1" "client cache before the handover"
vipd_stop n1
t_assert_wait 5 "n2 did not take over after SIGTERM" '[ "$(vip_state '$s2' web ipv4)" = master ]'
t_assert_wait 5 "n2 did not take over IPv6 after SIGTERM" '[ "$(vip_state '$s2' web ipv6)" = master ]'
t_assert_eq "$(vip_counter $s2 web ipv4 priority_zero_received)" 1 "priority 0 adverts n2 received (IPv4)"
lab_exec n1 ip -br addr show dev eth0 | grep -q '198.51.100\|2001:db8:51' && t_fail "n1 kept VIPs after SIGTERM"
t_assert_wait 5 "client cache did not follow to n2" '[ "$(neigh_mac cl '$VIP4')" = "'$mac2'" ]'
lab_exec cl ping -c 1 -W 1 $VIP4 >/dev/null || t_fail "client cannot ping $VIP4 after the handover"
t_capture_stop "$cap"
for fam in ip ipv6; do
    n=$(tshark_count "$LAB_TMP/wire.pcap" "vrrp.prio == 0 && vrrp.virt_rtr_id == 51 && eth.src == $mac1 && $fam")
    t_assert_eq "$n" 1 "priority 0 adverts from n1 on the wire ($fam)"
done
t_pass
