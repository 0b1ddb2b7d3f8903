#!/usr/bin/env bash
# test_overlay_restart.sh — the overlay keeps forwarding through control-plane trouble:
#  - garbage and a truncated frame on fabricd's TCP port close that session only: the agents
#    stay connected and fabricd keeps serving;
#  - vm2a's API port deleted while hv2's agent holds its MAC (and an address the API never
#    gave it): the binding stays, learned on hv2 with the addresses hv2 reported, and hv1 and
#    hv3 keep sending the MAC to hv2 and answering ARP for the address;
#  - fabricd killed (SIGKILL) and restarted, hv2's agent the last to come back: the pings
#    between VMs never stop, to an API port (vm3a) or to the learned-only vm2a; the restart
#    grace holds the full tables until hv2's agent has reported vm2a again, so hv1's and hv3's
#    kernels never drop it; the agents reconnect and resync from the store and their reports,
#    and fabricd knows vm2a as learned on hv2 again;
#  - a vtepd killed (SIGKILL): the kernel keeps its entries; restarted, it reconciles, and a
#    foreign FDB entry added by hand in the meantime survives.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd tshark tcpdump fping jq arping
ov_build 3
ov_fabric_up

# port_field MAC JQ_EXPR: one field of MAC's entry in `fabricctl port list --json`.
port_field() {
    "${OV_CTL[@]}" port list --json | jq -c --arg m "$1" ".[] | select(.mac == \$m) | $2"
}
# agents_back HV...: these hypervisors' agents have a session with fabricd.
agents_back() {
    [ "$("${OV_CTL[@]}" host --json | jq --arg l "$*" \
        '[.[] | select(.connected and (.id | IN($l | splits(" "))))] | length')" = $# ]
}
# fdb_dst HV MAC: the VTEP HV's vx100 sends MAC to.
fdb_dst() { ov_fdb "$1" 100 | awk -v m="$2" '$1 == m { print $2 }'; }
# A barrier on fabricd's deltas to hv1 and hv3: an API port on hv2 added now reaches their
# kernels after every change fabricd sent them before it (one session each, in order). The
# port is deleted again.
barrier() {
    local mac=02:00:00:00:99:01 hv
    "${OV_CTL[@]}" port add --vni 100 --mac $mac --host hv2 --ip 198.19.100.201 \
        --name barrier >/dev/null || t_fail "port add $mac"
    for hv in hv1 hv3; do
        t_assert_wait 5 "$hv never got the barrier port $mac" '[ -n "$(fdb_dst '"$hv"' '$mac')" ]'
    done
    "${OV_CTL[@]}" port del --vni 100 --mac $mac || t_fail "port del $mac"
}

ov_ping vm1a "$(ov_vm_ip4 vm3a)" 2 || t_fail "vm1a cannot reach vm3a before anything happened"

# Garbage and a frame cut short on fabricd's port: that session only.
lab_exec hv1 "$T_PYTHON" - <<'PY' || t_fail "could not send garbage to fabricd"
import socket
for payload in (b"\x00\x00\x00\x05hello, this is not protobuf" * 20, b"\x00\x00\x01\x00\x0a\x02"):
    s = socket.create_connection(("198.18.0.2", 7301), timeout=2)
    s.sendall(payload)
    s.close()
PY
sleep 0.3
lab_alive "$OV_FABRICD_PID" || t_fail "fabricd died on garbage"
ov_agents_connected || t_fail "an agent lost its session when another sent garbage"
"${OV_CTL[@]}" port list >/dev/null || t_fail "fabricd stopped serving the API after garbage"

# vm2a's port goes from the API while hv2's agent holds the MAC. An address only the agent
# knows (one the API never gave vm2a) shows that it reported the MAC before the port goes.
lvm=vm2a lmac=$(ov_vm_mac vm2a) lextra=198.19.100.112 hv2ip=$(ov_hv_ip4 hv2)
lab_exec $lvm ip addr add $lextra/24 dev eth0
ov_announce $lvm
lab_exec $lvm arping -q -U -c 1 -w 0.1 -i eth0 -S $lextra $lextra >/dev/null 2>&1
t_assert_wait 5 "hv2's agent did not report $lvm's address $lextra" \
    'port_field '"$lmac"' .ips | grep -qF "\"'"$lextra"'\""'
"${OV_CTL[@]}" port del --vni 100 --mac "$lmac" || t_fail "port del $lvm"
barrier
t_log "$lvm after its port del: $(port_field "$lmac" '{hosts, ips, learned, name}')"
t_assert_eq "$(port_field "$lmac" '[.learned, .hosts, .name]')" '[true,["hv2"],null]' \
    "$lvm after its port del (learned, where, name)"
port_field "$lmac" .ips | grep -qF "\"$lextra\"" || t_fail "$lvm's learned address $lextra forgotten"
for hv in hv1 hv3; do
    t_assert_eq "$(fdb_dst $hv "$lmac")" "$hv2ip" "$hv's kernel: $lvm's VTEP after its port del"
    ov_neigh $hv 100 | grep -qx "$lextra $lmac" || t_fail "$hv's kernel: no neighbour $lextra -> $lmac"
done
ov_ping vm1a "$(ov_vm_ip4 $lvm)" 2 || t_fail "vm1a cannot reach $lvm after its port del"

# fabricd dies and comes back; traffic across hypervisors must not notice, to an API port
# (vm3a) or to vm2a, which only hv2's agent knows now. hv2's agent is stopped meanwhile, so
# it is the last to come back: hv1 and hv3 must not get a full table before it has reported
# vm2a again (a table without vm2a would remove its entries there until the report).
# bridge monitor shows what hv1's and hv3's kernels remove.
declare -A mon=()
for hv in hv1 hv3; do
    lab_bg $hv "$LAB_TMP/fdbmon-$hv.log" bridge monitor fdb
    mon[$hv]=$LAB_LAST_PID
done
ov_pingloop_start vm1a "$(ov_vm_ip4 vm3a)" 1500 20
pl_api=$OV_PINGLOOP_PID
ov_pingloop_start vm3a "$(ov_vm_ip4 $lvm)" 1500 20
pl_learned=$OV_PINGLOOP_PID
sleep 0.5
kill -STOP "${OV_VTEPD_PID[hv2]}"
kill -KILL "$OV_FABRICD_PID"
sleep 0.5
ov_fabricd_start 2 --grace-ms 30000
t_assert_wait 10 "hv1's and hv3's agents did not reconnect to the restarted fabricd" agents_back hv1 hv3
kill -CONT "${OV_VTEPD_PID[hv2]}"
t_assert_wait 10 "the agents did not reconnect to the restarted fabricd" ov_agents_connected
t_assert_wait 10 "fabricd did not learn $lvm again" \
    '[ "$(port_field '"$lmac"' "[.learned, .hosts]")" = "[true,[\"hv2\"]]" ]'
# hv1 and hv3 get the barrier port only once they have their full tables: the grace is over.
barrier
ov_pingloop_stop "$pl_api"
ov_pingloop_stop "$pl_learned"
for hv in hv1 hv3; do ov_pingloop_stop "${mon[$hv]}"; done
t_log "fabricd restart: to API port vm3a: $(ov_pingloop_stats "$pl_api")"
t_log "fabricd restart: to learned $lvm: $(ov_pingloop_stats "$pl_learned")"
t_assert_eq "$(ov_pingloop_lost "$pl_api")" 0 "probes to vm3a lost while fabricd restarted"
t_assert_eq "$(ov_pingloop_lost "$pl_learned")" 0 "probes to $lvm lost while fabricd restarted"
for hv in hv1 hv3; do
    grep -q 02:00:00:00:99:01 "$LAB_TMP/fdbmon-$hv.log" || t_fail "bridge monitor on $hv saw nothing"
    t_assert_eq "$(grep -i "^Deleted $lmac " "$LAB_TMP/fdbmon-$hv.log")" "" \
        "entries for $lvm removed from $hv's kernel during fabricd's restart"
    t_assert_eq "$(fdb_dst $hv "$lmac")" "$hv2ip" "$hv's kernel: $lvm's VTEP after fabricd's restart"
done
t_assert_eq "$("${OV_CTL[@]}" port list --json | jq '[.[] | select(.learned | not)] | length')" 5 \
    "API ports after fabricd's restart (from its store)"
port_field "$lmac" .ips | grep -qF "\"$lextra\"" || t_fail "$lvm's address $lextra not learned again"

# vtepd on hv1 dies; its kernel entries stay; a foreign entry appears meanwhile.
before=$(ov_fdb hv1 100)
kill -KILL "${OV_VTEPD_PID[hv1]}"
lab_exec hv1 bridge fdb add 02:00:00:00:99:99 dev vx100 dst 198.18.0.99 self permanent
ov_pingloop_start vm1a "$(ov_vm_ip4 vm3a)" 100 20
sleep 0.5
t_assert_eq "$(ov_fdb hv1 100 | grep -v 02:00:00:00:99:99)" "$before" "hv1's FDB with vtepd dead"
ov_vtepd_start hv1 2
t_assert_wait 10 "hv1's vtepd did not reconnect" ov_agents_connected
t_assert_wait 5 "hv1's vtepd did not reconcile" grep -q reconciled "$LAB_TMP/vtepd-hv1-2.log"
ov_pingloop_wait || t_fail "ping loop did not finish"
t_log "vtepd restart: $(ov_pingloop_stats)"
t_assert_eq "$(ov_pingloop_lost)" 0 "probes lost while vtepd restarted"
ov_fdb hv1 100 | grep -q "^02:00:00:00:99:99 198.18.0.99$" || t_fail "the foreign entry did not survive"
t_assert_eq "$(ov_fdb hv1 100 | grep -v 02:00:00:00:99:99)" "$before" "hv1's FDB after the restart"
grep -q "fdb +0 ~0 -0" "$LAB_TMP/vtepd-hv1-2.log" || t_fail "the restarted vtepd changed entries it should have kept: $(grep reconciled "$LAB_TMP/vtepd-hv1-2.log")"
t_pass
