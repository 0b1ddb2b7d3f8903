#!/usr/bin/env bash
# test_overlay.sh — fabricd + vtepd on the overlay lab: 3 hypervisors, 2 segments (VNI 100,
# 200), one VM per segment per hypervisor. Ports are created through the API as an
# orchestrator would (MAC, addresses, host).
#  - every agent connects and creates its VXLAN devices;
#  - every VM pair in a segment pings (IPv4, IPv6), no pair across segments does;
#  - during the ping matrix the underlay carries no broadcast ARP and no multicast NS inside
#    VXLAN: the bridges answer from the neighbour entries vtepd installed;
#  - a VM migrates (its port moves to another hypervisor, it sends a GARP): traffic to it
#    resumes, and no hypervisor's FDB points at the old host any more.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd tshark tcpdump fping jq
ov_build 3
ov_fabric_up

# What fabricd wants hv1 to hold, as fabricctl shows it, is what hv1's kernel holds.
want=$("${OV_CTL[@]}" fdb hv1 --json | jq -r '.fdb[] | select(.vni == 100 and (.vteps | length) == 1) | "\(.mac) \(.vteps[0])"' | sort)
t_assert_eq "$want" "$(ov_fdb hv1 100 | grep -v '^00:00:00:00:00:00')" "fabricctl fdb hv1 vs hv1's vx100"
t_assert_eq "$("${OV_CTL[@]}" fdb hv1 --json | jq -c '[.flood[] | select(.vni == 100) | .vteps[]] | sort')" \
    '["198.18.0.12","198.18.0.13"]' "hv1's flood list for VNI 100 in fabricctl fdb"

ov_capture_start
cap=$OV_CAPTURE_PID
for fam in 4 6; do
    out=$(ov_ping_matrix $fam) || t_fail "IPv$fam matrix: $out"
    t_assert_eq "$out" "ok 12" "IPv$fam ping matrix (ordered pairs)"
done
ov_capture_stop "$cap"
# Requests for addresses of the segment must be answered at home; the matrix's cross-segment
# probes ask for addresses the segment does not have, and those flood: counting them shows
# the capture sees flooding when there is some.
own_arp='(vxlan.vni == 100 && arp.dst.proto_ipv4 == 198.19.100.0/24) || (vxlan.vni == 200 && arp.dst.proto_ipv4 == 198.19.200.0/24)'
own_ns='(vxlan.vni == 100 && icmpv6.nd.ns.target_address == 2001:db8:100::/64) || (vxlan.vni == 200 && icmpv6.nd.ns.target_address == 2001:db8:200::/64)'
arp=$(ov_count_inner "$OV_CAPTURE" "arp.opcode == 1 && eth.dst#2 == ff:ff:ff:ff:ff:ff && ($own_arp)")
ns=$(ov_count_inner "$OV_CAPTURE" "icmpv6.type == 135 && eth.dst#2[0:3] == 33:33:ff && ($own_ns)")
unknown=$(ov_count_inner "$OV_CAPTURE" "arp.opcode == 1 && eth.dst#2 == ff:ff:ff:ff:ff:ff && !($own_arp)")
t_log "inside VXLAN during the matrix: $arp broadcast ARP and $ns multicast NS for segment addresses; $unknown ARP for unknown ones"
t_assert_eq "$arp" 0 "broadcast ARP requests for segment addresses crossing the overlay"
t_assert_eq "$ns" 0 "multicast NS for segment addresses crossing the overlay"
[ "$unknown" -gt 0 ] || t_fail "no flooded ARP for unknown addresses seen: is the capture working?"

# Migration: vm1a from hv1 to hv2.
vm=vm1a mac=$(ov_vm_mac vm1a) old=$(ov_hv_ip4 hv1) new=$(ov_hv_ip4 hv2)
ov_migrate $vm hv2
moved() { [ "$(ov_fdb hv3 100 | awk -v m="$mac" '$1 == m { print $2 }')" = "$new" ]; }
t_assert_wait 5 "hv3 still sends $mac to hv1" moved
t_assert_wait 5 "hv1 does not send $mac to hv2" \
    '[ "$(ov_fdb hv1 100 | awk -v m='$mac' '"'"'$1 == m { print $2 }'"'"')" = "'$new'" ]'
for hv in $(ov_hvs); do
    ov_fdb "$hv" 100 | grep -q "^$mac $old$" && t_fail "$hv still points $mac at the old host"
done
ov_ping vm3a "$(ov_vm_ip4 $vm)" 3 || t_fail "vm3a cannot reach $vm after its migration"
ov_ping vm3a "$(ov_vm_ip6 $vm)" 3 || t_fail "vm3a cannot reach $vm over IPv6 after its migration"
seq=$("${OV_CTL[@]}" port list --json | jq --arg m "$mac" '.[] | select(.mac == $m) | .seq')
[ "$seq" -ge 1 ] || t_fail "the move did not raise $mac's sequence number (seq $seq)"
t_pass
