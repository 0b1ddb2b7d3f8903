#!/usr/bin/env bash
# shellcheck disable=SC2119,SC2016  # optional arguments; filters eval'd by t_assert_wait
# test_overlay_lab.sh — the overlay lab itself (lab/overlay.sh + tests/netns/overlay_lib.sh),
# without fabricd / vtepd: VXLAN devices made by hand with plain flooding (a flood entry to
# every other hypervisor, no learning). Checks that the lab is what vtepd expects (bridges, no
# vxlan devices, VMs), that every same-segment VM pair reaches each other over IPv4 and IPv6
# and no cross-segment pair does (and that the leak probe does see a leak when we make one),
# that the capture counters count exactly the inner frames their filters describe, that
# ov_migrate moves a VM (its GARP and unsolicited NA cross the overlay, the hypervisors'
# bridges follow, traffic to it resumes), that ov_cut_host isolates a hypervisor, the fdb /
# neighbour probes, and that the standalone lab leaves nothing behind.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/overlay_lib.sh
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd ip bridge ping fping arping ndisc6 tcpdump tshark
"$OV_PYTHON" -c 'import scapy.layers.inet6' 2>/dev/null || t_skip "scapy not installed for $OV_PYTHON"
ov_build 3

# --- the lab as vtepd finds it ----------------------------------------------------------------
for hv in $(ov_hvs); do
    for vni in 100 200; do
        d=$(lab_exec "$hv" ip -d link show "br$vni") || t_fail "$hv: no br$vni"
        grep -q 'state UP' <<<"$d" || t_fail "$hv: br$vni not up"
        grep -q 'stp_state 0 ' <<<"$d" || t_fail "$hv: br$vni has STP on"
        grep -q 'mcast_snooping 0 ' <<<"$d" || t_fail "$hv: br$vni has multicast snooping on"
    done
    t_assert_eq "$(lab_exec "$hv" ip -o link show type vxlan | grep -c .)" 0 "vxlan devices in $hv before vtepd"
    t_assert_eq "$(lab_exec "$hv" ip -o -4 addr show dev eth0 | awk '{print $4}')" "$(ov_hv_ip4 "$hv")/24" "$hv underlay IPv4"
    lab_exec fm ping -q -c 1 -W 1 "$(ov_hv_ip4 "$hv")" >/dev/null || t_fail "fm cannot reach $hv"
    lab_exec hv1 ping -q -c 1 -W 1 "$(ov_hv_ip6 "$hv")" >/dev/null || t_fail "hv1 cannot reach $hv over IPv6"
done
for vm in $(ov_vms); do
    hv=$(ov_vm_host "$vm")
    t_assert_eq "$(lab_exec "$vm" cat /sys/class/net/eth0/address)" "$(ov_vm_mac "$vm")" "$vm MAC"
    t_assert_eq "$(lab_exec "$vm" cat /sys/class/net/eth0/mtu)" 1450 "$vm MTU"
    t_assert_eq "$(lab_exec "$hv" ip -o link show "$vm" | sed -n 's/.* master \([^ ]*\).*/\1/p')" \
        "br$(ov_vm_vni "$vm")" "bridge of $vm's port on $hv"
done
t_assert_eq "$(ov_vm_mac vm2a) $(ov_vm_ip4 vm2a) $(ov_vm_ip6 vm2a)" \
    "02:00:64:00:02:0a 198.19.100.12 2001:db8:100::12" "vm2a addresses"
t_assert_eq "$(ov_vm_mac vm3b) $(ov_vm_ip4 vm3b) $(ov_vm_ip6 vm3b) $(ov_vm_vni vm3b)" \
    "02:00:c8:00:03:0b 198.19.200.13 2001:db8:200::13 200" "vm3b addresses"
# Without an overlay, a segment ends at its hypervisor.
ov_ping vm1a "$(ov_vm_ip4 vm2a)" && t_fail "vm1a reaches vm2a without any VXLAN device"

# --- plain flooding by hand -------------------------------------------------------------------
ov_capture_start
ov_vxlan_static 100 200
want=$(printf '00:00:00:00:00:00 %s\n' 198.18.0.12 198.18.0.13)
t_assert_eq "$(ov_fdb hv1 100)" "$want" "ov_fdb hv1 100 (flood entries)"
for fam in 4 6; do
    out=$(ov_ping_matrix $fam) || t_fail "IPv$fam ping matrix with flooding:"$'\n'"$out"
    t_assert_eq "$out" "ok 12" "IPv$fam ping matrix"
done
ov_capture_stop
n=$(ov_count_inner "$OV_CAPTURE" "$OV_F_ARP_BCAST")
t_log "inner broadcast ARP requests while the IPv4 matrix ran: $n"
[ "$n" -gt 0 ] || t_fail "no inner broadcast ARP request seen with plain flooding"
n=$(ov_count_inner "$OV_CAPTURE" "$OV_F_NS_MCAST")
t_log "inner multicast NS while the IPv6 matrix ran: $n"
[ "$n" -gt 0 ] || t_fail "no inner multicast NS seen with plain flooding"
t_assert_eq "$(tshark_count "$OV_CAPTURE" 'eth.dst#1 == ff:ff:ff:ff:ff:ff')" 0 "outer broadcast frames on udp/4789"

# The filters count exactly the inner frames they describe: vm1a sends 3 broadcast ARP
# requests, 2 unicast ARP requests and 2 multicast NS for absent addresses; flooding copies
# each to the 2 other hypervisors.
ov_capture_start
lab_exec vm1a arping -q -c 3 -W 0.1 -i eth0 198.19.100.99
lab_exec vm1a arping -q -c 2 -W 0.1 -i eth0 -t "$(ov_vm_mac vm2a)" 198.19.100.98
lab_exec vm1a ndisc6 -q -n -r 2 -w 100 2001:db8:100::99 eth0
ov_capture_stop
t_assert_eq "$(ov_count_inner "$OV_CAPTURE" "$OV_F_ARP_BCAST && arp.dst.proto_ipv4 == 198.19.100.99")" 6 \
    "inner broadcast ARP requests counted (3 requests x 2 VTEPs)"
t_assert_eq "$(ov_count_inner "$OV_CAPTURE" "$OV_F_ARP_BCAST && arp.dst.proto_ipv4 == 198.19.100.98")" 0 \
    "unicast ARP requests counted as broadcast"
t_assert_eq "$(ov_count_inner "$OV_CAPTURE" "arp.opcode == 1 && arp.dst.proto_ipv4 == 198.19.100.98")" 4 \
    "inner unicast ARP requests (2 x 2 VTEPs)"
t_assert_eq "$(ov_count_inner "$OV_CAPTURE" "$OV_F_NS_MCAST && icmpv6.nd.ns.target_address == 2001:db8:100::99 && $(ov_f_src "$(ov_vm_mac vm1a)") && $(ov_f_vni 100)")" 4 \
    "inner multicast NS (2 x 2 VTEPs)"
# vm1a's ARP in VNI 200 would be a leak; VNI 200's own VMs may ARP meanwhile (their neighbour
# entries from the matrix above go stale and are probed again), which is no leak.
t_assert_eq "$(ov_count_inner "$OV_CAPTURE" "arp && $(ov_f_vni 200) && $(ov_f_src "$(ov_vm_mac vm1a)")")" 0 \
    "ARP from VNI 100 (vm1a) seen in VNI 200"

# The leak probe sees a leak: vm2b's port moved into br100 on hv2 joins segment 100.
lab_exec hv2 ip link set vm2b master br100
out=$(ov_ping_matrix 4) && t_fail "ping matrix passed with vm2b bridged into VNI 100"
grep -q '^leak vm1a -> vm2b 198.19.200.12$' <<<"$out" || t_fail "leak vm1a -> vm2b not reported:"$'\n'"$out"
grep -q '^fail vm1b -> vm2b 198.19.200.12$' <<<"$out" || t_fail "vm1b -> vm2b not reported as failing:"$'\n'"$out"
lab_exec hv2 ip link set vm2b master br200
t_assert_wait 5 "VNI 200 not back after moving vm2b's port back" ov_ping vm1b "$(ov_vm_ip4 vm2b)"

# --- live migration -----------------------------------------------------------------------------
mac=$(ov_vm_mac vm1a) ip4=$(ov_vm_ip4 vm1a) ip6=$(ov_vm_ip6 vm1a)
t_assert_eq "$(ov_br_port hv1 100 "$mac")" vm1a "hv1's bridge port for vm1a before the move"
ov_capture_start
ov_pingloop_start vm3a "$ip4" 500 20
t_assert_wait 5 "ping loop vm3a -> vm1a got no reply" \
    "grep -q '\\[[0-9]*\\], [0-9]* bytes' '${OV_PL_LOG[$OV_PINGLOOP_PID]}'"
ov_migrate vm1a hv2
t_assert_eq "$(ov_vm_host vm1a)" hv2 "ov_vm_host after ov_migrate"
lab_exec hv1 ip link show vm1a >/dev/null 2>&1 && t_fail "vm1a's port still on hv1"
t_assert_eq "$(lab_exec hv2 ip -o link show vm1a | sed -n 's/.* master \([^ ]*\).*/\1/p')" br100 "vm1a's port on hv2"
# The new host's bridge learnt the VM locally, the others point at the overlay.
t_assert_wait 5 "hv2 does not forward vm1a's MAC to its local port" '[ "$(ov_br_port hv2 100 '"$mac"')" = vm1a ]'
t_assert_wait 5 "hv1 does not forward vm1a's MAC to the overlay" '[ "$(ov_br_port hv1 100 '"$mac"')" = vx100 ]'
t_assert_wait 5 "vm3a -> vm1a does not resume after the move" ov_ping vm3a "$ip4"
ov_ping vm3a "$ip6" 3 || t_fail "vm3a -> vm1a over IPv6 after the move"
ov_ping vm2a "$ip4" 3 || t_fail "vm2a -> vm1a (now on the same hypervisor)"
sleep 0.3
stats=$(ov_pingloop_stats)
t_log "ping loop across the migration (flooding): $stats"
read -r _ sent _ recv _ lost _ _ <<<"$stats"
{ [ "$recv" -gt 0 ] && [ "$sent" -gt 0 ]; } || t_fail "ping loop stats: $stats"
inflight=$((sent - recv - lost))   # sent, neither answered nor timed out when stopped
{ [ $inflight -ge 0 ] && [ $inflight -le 10 ]; } || t_fail "ping loop stats inconsistent: $stats"
[ "$(ov_pingloop_lost)" = "$lost" ] || t_fail "ov_pingloop_lost disagrees with the stats"
ov_capture_stop
# One GARP and one unsolicited NA from the VM, flooded from hv2 to hv1 and hv3.
t_assert_eq "$(ov_count_inner "$OV_CAPTURE" "$OV_F_GARP && $(ov_f_src "$mac") && arp.src.proto_ipv4 == $ip4")" 2 \
    "inner GARPs of vm1a after the move"
t_assert_eq "$(ov_count_inner "$OV_CAPTURE" "$OV_F_UNSOL_NA && $(ov_f_src "$mac") && icmpv6.nd.na.target_address == $ip6")" 2 \
    "inner unsolicited NAs of vm1a after the move"
t_assert_eq "$(tshark -n -r "$OV_CAPTURE" -Y "$OV_F_GARP" -T fields -e ip.src 2>/dev/null | sort -u)" \
    198.18.0.12 "underlay source of the GARPs (the new host)"

ov_migrate vm2b hv3
for fam in 4 6; do
    out=$(ov_ping_matrix $fam) || t_fail "IPv$fam ping matrix after two migrations:"$'\n'"$out"
    t_assert_eq "$out" "ok 12" "IPv$fam ping matrix after two migrations"
done
ov_migrate vm1a hv1
t_assert_eq "$(ov_vm_host vm1a)" hv1 "ov_vm_host after migrating back"
t_assert_wait 5 "vm3a -> vm1a after migrating back" ov_ping vm3a "$ip4"

# --- a hypervisor cut from the underlay ---------------------------------------------------------
ov_cut_host hv3
ov_ping vm1a "$(ov_vm_ip4 vm3a)" 2 && t_fail "vm3a (on hv3) still reachable with hv3 cut"
ov_ping vm1a "$(ov_vm_ip4 vm2a)" 2 || t_fail "vm2a unreachable with hv3 cut"
ov_restore_host hv3
t_assert_wait 5 "vm3a unreachable after ov_restore_host" ov_ping vm1a "$(ov_vm_ip4 vm3a)"

# --- neighbour probe ------------------------------------------------------------------------------
lab_exec hv1 ip neigh replace 198.19.100.12 lladdr 02:00:64:00:02:0a dev br100 nud permanent
lab_exec hv1 ip -6 neigh replace 2001:db8:100::12 lladdr 02:00:64:00:02:0a dev br100 nud permanent
t_assert_eq "$(ov_neigh hv1 100)" "$(printf '%s\n' '198.19.100.12 02:00:64:00:02:0a' '2001:db8:100::12 02:00:64:00:02:0a')" \
    "ov_neigh hv1 100"
t_assert_eq "$(ov_neigh hv1 200)" "" "ov_neigh hv1 200"

# --- the standalone lab leaves nothing behind -----------------------------------------------------
ours() { ip netns list | awk -v p="$1" 'index($1, p) == 1' | grep -c .; }
sub=${LAB_PREFIX}a-
LAB_PREFIX=$sub "$T_ROOT/lab/overlay.sh" 2 --static >/dev/null || t_fail "lab/overlay.sh 2 --static failed"
t_assert_eq "$(ours "$sub")" 0 "namespaces left by lab/overlay.sh"
sub=${LAB_PREFIX}b-
lab_tmpdir
LAB_PREFIX=$sub "$T_ROOT/lab/overlay.sh" 2 --hold 60 >"$LAB_TMP/overlay-hold.log" 2>&1 &
pid=$!
lab_track_pid $pid
t_assert_wait 10 "lab/overlay.sh --hold did not build its namespaces" grep -q 'holding' "$LAB_TMP/overlay-hold.log"
t_assert_eq "$(ours "$sub")" 8 "namespaces of a 2-hypervisor overlay (u fm hv1 hv2 vm1a vm1b vm2a vm2b)"
kill -TERM $pid
t_assert_wait 5 "lab/overlay.sh did not stop on SIGTERM" t_exited $pid
t_assert_eq "$(ours "$sub")" 0 "namespaces left by lab/overlay.sh after SIGTERM"
t_pass
