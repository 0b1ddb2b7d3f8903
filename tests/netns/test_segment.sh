#!/usr/bin/env bash
# test_segment.sh — the lab itself, without vipd: a 2-node segment where the client reaches
# both nodes over IPv4 and IPv6 and sees their MACs, a cut link isolates a node, and the lab
# leaves nothing behind, also when it is stopped half-way.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd ip ping arping ndisc6

seg_build 2

for n in n1 n2; do
    ip4=$(seg_node_ip4 $n) ip6=$(seg_node_ip6 $n) mac=$(seg_node_mac $n)
    lab_exec cl ping -q -c 1 -W 1 "$ip4" >/dev/null || t_fail "cl cannot ping $n at $ip4"
    lab_exec cl ping -q -c 1 -W 1 "$ip6" >/dev/null || t_fail "cl cannot ping $n at $ip6"
    t_assert_eq "$(arp_mac cl eth0 "$ip4")" "$mac" "ARP answer for $ip4"
    t_assert_eq "$(ndisc_mac cl "$ip6")" "$mac" "NA for $ip6"
    t_assert_eq "$(neigh_mac cl "$ip4")" "$mac" "client's neighbour entry for $ip4"
done
t_assert_eq "$(arp_responders cl 198.18.0.11)" 1 "MACs answering ARP for n1"
t_assert_eq "$(nd_responders cl 2001:db8:18::11)" 1 "MACs answering NS for n1"

# A second node claiming n1's address is seen as two responders (the split-brain probe).
lab_exec n2 ip addr add 198.18.0.11/32 dev eth0
lab_exec n2 ip -6 addr add 2001:db8:18::11/128 dev eth0 nodad
t_assert_eq "$(arp_responders cl 198.18.0.11)" 2 "MACs answering ARP for a duplicated address"
t_assert_eq "$(nd_responders cl 2001:db8:18::11)" 2 "MACs answering NS for a duplicated address"
lab_exec n2 ip addr del 198.18.0.11/32 dev eth0
lab_exec n2 ip -6 addr del 2001:db8:18::11/128 dev eth0

seg_cut n1
lab_exec cl ping -q -c 1 -W 1 198.18.0.11 >/dev/null && t_fail "n1 still answers ping after seg_cut"
t_assert_eq "$(arp_mac cl eth0 198.18.0.11)" "" "ARP answer for cut n1"
lab_exec cl ping -q -c 1 -W 1 198.18.0.12 >/dev/null || t_fail "n2 unreachable after cutting n1"
seg_restore n1
t_assert_wait 5 "n1 unreachable after seg_restore" lab_exec cl ping -q -c 1 -W 1 198.18.0.11

# The standalone lab, run to completion and stopped half-way, leaves no namespace behind.
ours() { ip netns list | awk -v p="$1" 'index($1, p) == 1' | grep -c .; }
sub=${LAB_PREFIX}a-
LAB_PREFIX=$sub "$T_ROOT/lab/segment.sh" 1 >/dev/null || t_fail "lab/segment.sh 1 failed"
t_assert_eq "$(ours "$sub")" 0 "namespaces left by lab/segment.sh"
sub=${LAB_PREFIX}b-
lab_tmpdir
LAB_PREFIX=$sub "$T_ROOT/lab/segment.sh" 1 --hold 60 >"$LAB_TMP/segment-hold.log" 2>&1 &
pid=$!
lab_track_pid $pid
t_assert_wait 10 "lab/segment.sh --hold did not build its namespaces" \
    grep -q 'holding' "$LAB_TMP/segment-hold.log"
t_assert_eq "$(ours "$sub")" 3 "namespaces of a 1-node segment (sw, n1, cl)"
kill -TERM $pid
t_assert_wait 5 "lab/segment.sh did not stop on SIGTERM" t_exited $pid
t_assert_eq "$(ours "$sub")" 0 "namespaces left by lab/segment.sh after SIGTERM"
t_pass
