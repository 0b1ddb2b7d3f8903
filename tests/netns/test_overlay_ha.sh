#!/usr/bin/env bash
# test_overlay_ha.sh — an HA router port on the overlay, served by vipd on two hypervisors,
# in both modes. The port (VNI 100, MAC 02:00:64:00:00:fe, 198.19.100.254, 2001:db8:100::254)
# lives in router namespaces r1 (on hv1, priority 200) and r2 (on hv2, priority 100); vipd
# puts the VIPs on a macvlan with the port's MAC, up on the master only.
#  - track: vipd reports the master to fabricd; every agent's unicast entry for the port
#    points at the master's VTEP; cutting r1's link moves it to hv2 and the clients' traffic
#    follows (from hv3, and from hv2 where the backup sat);
#  - flood: no unicast entry for the port on any host; frames for it reach both instances,
#    only the master accepts them: the backup answers nothing and forwards nothing. With
#    fabricd killed, cutting r1's link still moves the traffic to r2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_vipd
t_require_cmd fping jq arping tcpdump
ov_build 3
ov_fabric_up
ov_add_router r1 hv1
ov_add_router r2 hv2

HA_MAC=02:00:64:00:00:fe
HA_IP4=198.19.100.254
HA_IP6=2001:db8:100::254
VX=(); for hv in hv1 hv2 hv3; do VX+=("$(ov_hv_ip4 "$hv")"); done

ha_conf() {   # R HV PRIORITY
    cat >"$LAB_TMP/vipd-$1.yaml" <<EOF
node: $1
control_socket: $LAB_TMP/vipd-$1.sock
fabric:
  connect: unix:$OV_FABRICD_SOCK
  host: $2
groups:
  - name: router
    interface: eth0
    vrid: 50
    priority: $3
    assign: true
    addresses: [$HA_IP4, $HA_IP6]
    virtual_mac: $HA_MAC
    fabric_vni: 100
EOF
}

vmac_state() { lab_exec "$1" ip -br link show vr50-eth0 2>/dev/null | awk '{ print $2 }'; }
# What a namespace's kernel did with traffic: ICMP echo requests it took, packets it forwarded.
nstat_of() { lab_exec "$1" nstat -az "$2" 2>/dev/null | awk -v k="$2" '$1 == k { print $2 }'; }
master_of_port() { "${OV_CTL[@]}" port list --json | jq -r --arg m "$HA_MAC" '.[] | select(.mac == $m) | .master // ""'; }
# The unicast entry for the port in HV's vx100: its VTEP, or empty.
port_fdb() { ov_fdb "$1" 100 | awk -v m="$HA_MAC" '$1 == m { print $2 }'; }

lab_tmpdir
ha_conf r1 hv1 200
ha_conf r2 hv2 100
# Clients reach a network behind the router through the VIP: what a backup must not forward.
for vm in vm2a vm3a; do
    lab_exec "$vm" ip route add 203.0.113.0/24 via "$HA_IP4"
done
for r in r1 r2; do lab_exec "$r" ip route add 203.0.113.0/24 via "$(ov_vm_ip4 vm1a)"; done

run_mode() {
    local mode=$1 cut_tag=$2 pl3 pl2 st
    t_log "--- mode $mode"
    "${OV_CTL[@]}" port add --vni 100 --mac "$HA_MAC" --host hv1 --host hv2 --mode "$mode" \
        --ip "$HA_IP4" --ip "$HA_IP6" --name router >/dev/null || t_fail "port add ($mode)"
    vipd_start r1 "$LAB_TMP/vipd-r1.yaml"
    t_assert_wait 5 "r1 did not become master" '[ "$(vip_state "$LAB_TMP/vipd-r1.sock" router ipv4)" = master ]'
    vipd_start r2 "$LAB_TMP/vipd-r2.yaml"
    t_assert_wait 5 "r2 did not become backup" '[ "$(vip_state "$LAB_TMP/vipd-r2.sock" router ipv4)" = backup ] && [ "$(vip_state "$LAB_TMP/vipd-r2.sock" router ipv6)" = backup ]'
    t_assert_eq "$(vmac_state r1)" UP "r1's virtual MAC interface (master)"
    t_assert_eq "$(vmac_state r2)" DOWN "r2's virtual MAC interface (backup)"

    if [ "$mode" = track ]; then
        t_assert_wait 5 "fabricd did not learn r1 is master" '[ "$(master_of_port)" = hv1 ]'
        for hv in hv2 hv3; do
            t_assert_wait 5 "$hv: no unicast entry to hv1 for the port" '[ "$(port_fdb '"$hv"')" = '"${VX[0]}"' ]'
        done
    else
        t_assert_wait 5 "hv3 did not get the port in flood mode" \
            '"${OV_CTL[@]}" fdb hv3 --json | jq -e --arg m "$HA_MAC" ".fdb[] | select(.mac == \$m) | .ha_flood" >/dev/null'
        for hv in hv1 hv2 hv3; do
            t_assert_eq "$(port_fdb "$hv")" "" "$hv: a unicast entry for a flood-mode port"
            t_assert_eq "$(ov_br_port "$hv" 100 "$HA_MAC")" "" "$hv's bridge pinned the flood-mode port"
        done
        # Both answers come from the master, with the port's MAC: not r1's own MAC from its
        # parent interface, nothing from the backup.
        t_assert_eq "$(arp_responder_macs vm3a "$HA_IP4")" "$HA_MAC" "MACs answering ARP for the VIP"
    fi

    # Clients on hv3 and on hv2 (beside the backup) reach the master, both families.
    for vm in vm3a vm2a; do
        ov_ping "$vm" "$HA_IP4" 2 || t_fail "$mode: $vm cannot ping $HA_IP4"
        ov_ping "$vm" "$HA_IP6" 2 || t_fail "$mode: $vm cannot ping $HA_IP6"
        t_assert_eq "$(neigh_mac "$vm" "$HA_IP4")" "$HA_MAC" "$vm's neighbour entry for the VIP"
    done
    # Traffic through the router: only the master forwards it.
    local fw1 fw2 echo2 seen2=0
    fw1=$(nstat_of r1 IpForwDatagrams) fw2=$(nstat_of r2 IpForwDatagrams)
    echo2=$(nstat_of r2 IcmpInEchos)
    [ "$mode" = flood ] && t_capture_start r2 eth0 "$LAB_TMP/r2-$mode.pcap" ether dst "$HA_MAC"
    lab_exec vm3a ping -q -n -c 5 -i 0.05 -W 1 203.0.113.1 >/dev/null 2>&1
    lab_exec vm2a ping -q -n -c 5 -i 0.05 -W 1 203.0.113.1 >/dev/null 2>&1
    ov_ping vm3a "$HA_IP4" 3
    if [ "$mode" = flood ]; then
        t_capture_stop "$T_CAPTURE_PID"
        seen2=$(tcpdump -r "$LAB_TMP/r2-$mode.pcap" -n 2>/dev/null | grep -c .)
        [ "$seen2" -gt 0 ] || t_fail "flood: frames for the port did not reach the backup's host"
    fi
    [ "$(nstat_of r1 IpForwDatagrams)" -ge $((fw1 + 10)) ] || t_fail "$mode: the master did not forward"
    t_assert_eq "$(nstat_of r2 IpForwDatagrams)" "$fw2" "$mode: packets the backup forwarded"
    t_assert_eq "$(nstat_of r2 IcmpInEchos)" "$echo2" "$mode: echo requests the backup accepted"
    t_assert_eq "$(vip_counter "$LAB_TMP/vipd-r2.sock" router ipv4 arp_answered)" 0 "$mode: ARP the backup answered"
    t_assert_eq "$(vip_counter "$LAB_TMP/vipd-r2.sock" router ipv6 ns_answered)" 0 "$mode: NS the backup answered"
    t_log "$mode: backup's host saw $seen2 frame(s) for the port, forwarded none"

    # Failover: r1's link is cut. In flood mode fabricd is down meanwhile.
    if [ "$mode" = flood ]; then
        kill -KILL "$OV_FABRICD_PID"
        wait "$OV_FABRICD_PID" 2>/dev/null
    fi
    ov_pingloop_start vm3a "$HA_IP4" 400 5
    pl3=$OV_PINGLOOP_PID
    ov_pingloop_start vm2a "$HA_IP6" 400 5
    pl2=$OV_PINGLOOP_PID
    sleep 0.3
    lab_exec hv1 ip link set r1 down
    t_assert_wait 5 "r2 did not take over" '[ "$(vip_state "$LAB_TMP/vipd-r2.sock" router ipv4)" = master ]'
    t_assert_eq "$(vmac_state r2)" UP "r2's virtual MAC interface after the takeover"
    ov_pingloop_wait "$pl3" || t_fail "ping loop did not finish"
    ov_pingloop_wait "$pl2" || t_fail "ping loop did not finish"
    for pl in "$pl3" "$pl2"; do
        st=$(ov_pingloop_stats "$pl")
        t_log "$mode failover: $st"
        # The last probes are answered: the traffic follows the new master.
        tail -n 30 "${OV_PL_LOG[$pl]}" | grep -q "timed out" && t_fail "$mode: probes still lost at the end of the failover ($st)"
    done
    ov_ping vm3a "$HA_IP6" 2 || t_fail "$mode: vm3a cannot ping $HA_IP6 after the failover"
    if [ "$mode" = track ]; then
        t_assert_wait 5 "fabricd did not move the master to hv2" '[ "$(master_of_port)" = hv2 ]'
        t_assert_eq "$(port_fdb hv3)" "${VX[1]}" "hv3's entry for the port after the failover"
        t_assert_eq "$(port_fdb hv1)" "${VX[1]}" "hv1's entry for the port after the failover"
        for hv in hv1 hv2 hv3; do
            ov_fdb "$hv" 100 | grep -q "^$HA_MAC ${VX[0]}$" && t_fail "$hv: an entry for the port still points at hv1"
        done
    else
        for hv in hv1 hv2 hv3; do
            t_assert_eq "$(port_fdb "$hv")" "" "$hv: a unicast entry for the flood-mode port after the failover"
        done
        ov_fabricd_start "$cut_tag"
        t_assert_wait 10 "agents did not reconnect" ov_agents_connected
    fi
    # Back to the start: r1 back (it preempts), both vipd stopped.
    lab_exec hv1 ip link set r1 up
    t_assert_wait 5 "r1 did not preempt" '[ "$(vip_state "$LAB_TMP/vipd-r1.sock" router ipv4)" = master ]'
    [ "$mode" = track ] && t_assert_wait 5 "fabricd did not follow r1's preemption" '[ "$(master_of_port)" = hv1 ]'
    vipd_stop r2
    vipd_stop r1
    t_assert_eq "$(lab_exec r1 ip link show vr50-eth0 2>/dev/null)" "" "r1's macvlan after vipd stopped"
    "${OV_CTL[@]}" port del --vni 100 --mac "$HA_MAC" >/dev/null || t_fail "port del"
}

run_mode track 2
run_mode flood 3
t_pass "HA port follows its master in track mode and floods to master-only acceptance in flood mode"
