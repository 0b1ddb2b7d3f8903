#!/usr/bin/env bash
# test_vtepd_drift.sh — vtepd puts back its own kernel entries that go, on the overlay lab
# (2 hypervisors, VNIs 100 and 200, fabricd over mutual TLS), as hv1's kernel, its agent's
# status and the underlay show it:
#  (a) a port with a lower MAC joins br100 (a lab bridge, without a fixed MAC, as a user's):
#      br100's MAC changes, the kernel deletes every neighbour of br100 (an `ip monitor`
#      sees vtepd's proto 245 ones go), and they are back; counted as flushed_by_link_change,
#      repaired grew. Then vm1a, its cache flushed, pings vm2a over IPv4 and IPv6: a capture
#      on the underlay sees the echoes encapsulated, and no ARP request or NS from vm1a.
#  (b) entries deleted by hand come back, each counted in deleted_by_operator: a suppression
#      neighbour, the vxlan remote of a MAC, the bridge's entry for it on vx100, a flood
#      remote. A neighbour that looks like vtepd's but that fabricd never asked for, deleted
#      in the same batch, is not put back (not_wanted). An entry deleted over and over is
#      put back 5 times, then held (backed_off 1, held 1) and stays gone, even through a
#      flush of every neighbour by hand (the others come back, counted as operator). What
#      vtepd removes itself (an API port deleted) stays gone, and no repair runs for it.
#  (c) hv1's status flags br100 (no fixed MAC: bridge_mac_fixed false, a warning, in the log
#      too). A vtepd in a namespace of its own, given a bridge that does not exist, one made
#      without a fixed MAC and one with, creates the first with addr_assign_type 3 (set) and
#      the address derived from its VTEP address and the VNI, which a lower port does not
#      change; it warns about the second only. Segments a reload adds (a missing bridge, one
#      without a fixed MAC) are created and flagged the same way; its metrics count 2
#      bridges without a fixed MAC (and pass promtool).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd jq bridge tcpdump tshark curl
[ -x "$T_PYTHON" ] || t_skip "no $T_PYTHON"
ov_build 2
ov_fabric_up

SOCK=$LAB_TMP/vtepd-hv1.sock
agent() { "$FABRICCTL" -s "$SOCK" agent "$@"; }
t_assert_wait 5 "hv1's vtepd control socket did not appear" test -S "$SOCK"
st() { agent status --json | jq -r "$1"; }
dc() { st ".counters.drift.$1"; }
no_drift() { [ "$(agent fdb --json | jq .drift)" = 0 ]; }
t_assert_wait 5 "hv1's agent reports drift after start: $(agent fdb 2>&1)" no_drift

mac2=$(ov_vm_mac vm2a) ip4=$(ov_vm_ip4 vm2a) ip6=$(ov_vm_ip6 vm2a) hv2=$(ov_hv_ip4 hv2)
# vtepd's neighbours on br100: "IP MAC" lines
ours_neigh() {
    lab_exec hv1 ip neigh show nud all dev br100 | awk '/ proto 245/ { print $1, $3 }' | sort
}
has_neigh() { ours_neigh | grep -qx "$1 $2"; }
fdb_self() { lab_exec hv1 bridge fdb show dev vx100 | grep -q "^$1 dst $2 self extern_learn"; }
fdb_port() { lab_exec hv1 bridge fdb show dev vx100 | grep -q "^$1 extern_learn master br100"; }
br_mac() { lab_exec hv1 cat /sys/class/net/br100/address; }

# Every VM's addresses of VNI 100 (hv1's own too) are suppression neighbours on br100.
BEFORE=$(ours_neigh)
NB=$(grep -c . <<<"$BEFORE")
t_assert_eq "$BEFORE" "$(agent fdb --json | jq -r '.neigh[] | select(.vni == 100 and .want) | "\(.ip) \(.mac)"' | sort)" \
    "vtepd's suppression neighbours on hv1's br100 vs what it wants"
has_neigh "$ip4" "$mac2" && has_neigh "$ip6" "$mac2" || t_fail "no suppression neighbours for vm2a: $BEFORE"
fdb_self "$mac2" "$hv2" && fdb_port "$mac2" || t_fail "hv1 lacks vtepd's FDB entries for $mac2"

# --- (a) the bridge's MAC changes under vtepd -----------------------------------------------
link0=$(dc flushed_by_link_change) op0=$(dc deleted_by_operator) rep0=$(dc repaired)
lab_bg hv1 "$LAB_TMP/monitor-neigh.log" ip monitor neigh
MON=$LAB_LAST_PID
sleep 0.2   # the monitor is listening
old=$(br_mac)
lab_exec hv1 ip link add lowmac0 address 00:00:5e:00:53:01 type veth peer name lowmac1
lab_exec hv1 ip link set lowmac1 up
lab_bridge_port hv1 br100 lowmac0
t_assert_eq "$(br_mac)" 00:00:5e:00:53:01 "br100's MAC after a port with a lower one joined (it was $old)"
t_assert_wait 5 "the kernel did not flush br100's neighbours: $(cat "$LAB_TMP/monitor-neigh.log")" \
    '[ "$(grep -c "^Deleted .* dev br100 .* proto 245" "$LAB_TMP/monitor-neigh.log")" -ge $NB ]'
t_assert_wait 5 "vtepd's neighbours not back on br100 after its MAC changed: $(ours_neigh)" \
    '[ "$(ours_neigh)" = "$BEFORE" ]'
lab_kill_pids "$MON"
t_log "br100 $old -> $(br_mac): $(grep -c '^Deleted .* proto 245' "$LAB_TMP/monitor-neigh.log") of vtepd's neighbours flushed, back"
t_assert_wait 2 "flushed_by_link_change is $(dc flushed_by_link_change), want $((link0 + NB))" \
    '[ "$(dc flushed_by_link_change)" = $((link0 + NB)) ]'
t_assert_eq "$(dc deleted_by_operator)" "$op0" "deleted_by_operator after a link change"
[ "$(dc repaired)" -ge $((rep0 + NB)) ] || t_fail "repaired is $(dc repaired), want >= $((rep0 + NB))"
[ "$(dc link_changes)" -ge 1 ] || t_fail "link_changes is $(dc link_changes)"

# What crosses the underlay: vm1a resolves vm2a again; the bridge answers from vtepd's entries.
lab_exec vm1a ip neigh flush dev eth0
ov_capture_start
ov_ping vm1a "$ip4" 2 || t_fail "vm1a cannot reach vm2a over IPv4 after the flush"
ov_ping vm1a "$ip6" 2 || t_fail "vm1a cannot reach vm2a over IPv6 after the flush"
ov_capture_stop
src=$(ov_f_src "$(ov_vm_mac vm1a)")
echoes=$(ov_count_inner "$OV_CAPTURE" "(icmp.type == 8 || icmpv6.type == 128) && $src")
[ "$echoes" -ge 4 ] || t_fail "the capture saw $echoes echo requests of vm1a's, want >= 4"
t_assert_eq "$(ov_count_inner "$OV_CAPTURE" "arp && $src")" 0 "ARP from vm1a over the underlay"
t_assert_eq "$(ov_count_inner "$OV_CAPTURE" "icmpv6.type == 135 && $src")" 0 "NS from vm1a over the underlay"

# --- (b) entries deleted by hand --------------------------------------------------------------
op() { dc deleted_by_operator; }
op0=$(op)
# A suppression neighbour, and in the same batch one that looks like vtepd's, never wanted.
lab_exec hv1 ip neigh add 198.19.100.99 lladdr 02:00:64:00:99:99 dev br100 nud noarp protocol 245 ||
    t_fail "ip neigh add 198.19.100.99"
nw0=$(dc not_wanted) reps0=$(dc repairs)
printf 'neigh del %s dev br100\nneigh del 198.19.100.99 dev br100\n' "$ip4" | lab_exec hv1 ip -batch - ||
    t_fail "ip -batch neigh del"
t_assert_wait 5 "neighbour $ip4 not back" has_neigh "$ip4" "$mac2"
t_assert_wait 2 "deleted_by_operator is $(op), want $((op0 + 1))" '[ "$(op)" = $((op0 + 1)) ]'
t_assert_eq "$(dc not_wanted)" $((nw0 + 1)) "not_wanted after deleting a neighbour fabricd never asked for"
[ "$(dc repairs)" -gt "$reps0" ] || t_fail "no repair ran"
has_neigh 198.19.100.99 02:00:64:00:99:99 && t_fail "vtepd put back a neighbour it does not want"
# The vxlan remote of vm2a's MAC.
lab_exec hv1 bridge fdb del "$mac2" dev vx100 dst "$hv2" self || t_fail "bridge fdb del self"
t_assert_wait 5 "vx100's remote for $mac2 not back" fdb_self "$mac2" "$hv2"
t_assert_wait 2 "deleted_by_operator is $(op), want $((op0 + 2))" '[ "$(op)" = $((op0 + 2)) ]'
# The bridge's entry for it on vx100 (without it ARP suppression does not answer).
lab_exec hv1 bridge fdb del "$mac2" dev vx100 master || t_fail "bridge fdb del master"
t_assert_wait 5 "br100's entry for $mac2 on vx100 not back" fdb_port "$mac2"
t_assert_wait 2 "deleted_by_operator is $(op), want $((op0 + 3))" '[ "$(op)" = $((op0 + 3)) ]'
# A flood remote.
flood_has() { ov_fdb hv1 100 | grep -qx "00:00:00:00:00:00 $hv2"; }
lab_exec hv1 bridge fdb del 00:00:00:00:00:00 dev vx100 dst "$hv2" self || t_fail "bridge fdb del flood"
t_assert_wait 5 "vx100's flood remote to $hv2 not back" flood_has
t_assert_wait 2 "deleted_by_operator is $(op), want $((op0 + 4))" '[ "$(op)" = $((op0 + 4)) ]'
fdb_self "$mac2" "$hv2" && fdb_port "$mac2" || t_fail "vm2a's FDB entries after the repairs"

# An entry that keeps being deleted: put back 5 times, then held.
bo0=$(dc backed_off) back=0
for i in 1 2 3 4 5 6 7 8; do
    lab_exec hv1 ip neigh del "$ip6" dev br100 || t_fail "ip neigh del $ip6 (round $i)"
    lab_wait_for 5 'has_neigh "$ip6" "$mac2" || [ "$(dc backed_off)" != "$bo0" ]'
    has_neigh "$ip6" "$mac2" || break
    back=$((back + 1))
done
t_assert_eq "$back" 5 "times $ip6 was put back before vtepd stopped"
t_assert_eq "$(dc backed_off)" $((bo0 + 1)) "backed_off"
t_assert_eq "$(dc held)" 1 "entries held"
sleep 0.5
has_neigh "$ip6" "$mac2" && t_fail "$ip6 put back while held"
grep -q "neighbour $ip6 was deleted more than 5 times" "$LAB_TMP/vtepd-hv1-1.log" ||
    t_fail "vtepd did not log the hold of $ip6"
# A flush of every neighbour by hand: the others come back (as the operator's), the held one not.
op0=$(op)
lab_exec hv1 ip neigh flush dev br100 nud noarp
t_assert_wait 5 "neighbour $ip4 not back after a flush by hand" has_neigh "$ip4" "$mac2"
t_assert_wait 2 "deleted_by_operator is $(op) after the flush, want $((op0 + NB - 1))" \
    '[ "$(op)" = $((op0 + NB - 1)) ]'
sleep 0.3
has_neigh "$ip6" "$mac2" && t_fail "$ip6 put back while held (after a flush)"

# What vtepd removes itself (fabricd no longer wants it) is not put back: a port that only the
# API knows, on hv2, comes and goes.
xmac=02:00:64:00:99:0a xip=198.19.100.98
"${OV_CTL[@]}" port add --vni 100 --mac "$xmac" --host hv2 --ip "$xip" --name x >/dev/null || t_fail "port add x"
t_assert_wait 5 "hv1 did not get port x" 'has_neigh "$xip" "$xmac" && fdb_self "$xmac" "$hv2"'
reps0=$(dc repairs) nw0=$(dc not_wanted) op0=$(op)
"${OV_CTL[@]}" port del --vni 100 --mac "$xmac" >/dev/null || t_fail "port del x"
t_assert_wait 5 "hv1 still holds port x" '! has_neigh "$xip" "$xmac" && ! fdb_self "$xmac" "$hv2"'
sleep 0.3
if has_neigh "$xip" "$xmac" || fdb_self "$xmac" "$hv2" || fdb_port "$xmac"; then
    t_fail "vtepd put back what it removed itself"
fi
[ "$(dc not_wanted)" -ge $((nw0 + 1)) ] || t_fail "not_wanted is $(dc not_wanted) after vtepd's own removals, want > $nw0"
t_assert_eq "$(dc repairs):$(op)" "$reps0:$op0" "repairs and deleted_by_operator after vtepd's own removals"

# --- (c) bridges and their MACs ---------------------------------------------------------------
t_assert_eq "$(st '.segments[] | select(.vni == 100) | .bridge_mac_fixed')" false "br100: bridge_mac_fixed"
t_assert_eq "$(st '.segments[] | select(.vni == 100) | .bridge_mac')" 00:00:5e:00:53:01 "br100: bridge_mac"
st '.warnings[]' | grep -q "^bridge br100 has no fixed MAC" || t_fail "no warning about br100: $(st .warnings)"
grep -q "bridge br100 (vni 100) has no fixed address" "$LAB_TMP/vtepd-hv1-1.log" ||
    t_fail "vtepd did not log that br100 has no fixed address"
agent status | grep -q "^warning: bridge br100 has no fixed MAC" || t_fail "agent status (table): $(agent status)"
agent status | grep -q "^drift: " || t_fail "agent status (table) shows no drift line: $(agent status)"

lab_ns_add x
lab_veth x u0 x u1
lab_exec x ip link set u0 up
lab_exec x ip link set u1 up
lab_exec x ip addr add 198.18.0.1/24 dev u0
lab_exec x ip link add brpre type bridge
lab_exec x ip link set brpre up
lab_exec x ip link add brfix address 02:00:5e:00:53:02 type bridge
lab_exec x ip link set brfix up
XSOCK=$LAB_TMP/vtepd-x.sock XYAML=$LAB_TMP/vtepd-x.yaml
cat >"$XYAML" <<EOF
id: x
fabricd: unix:$LAB_TMP/no-fabricd.sock
vtep: 198.18.0.1
underlay: u0
control_socket: $XSOCK
metrics: 9741
segments:
  - { vni: 300, bridge: br300 }
  - { vni: 301, bridge: brpre }
  - { vni: 302, bridge: brfix }
EOF
lab_bg x "$LAB_TMP/vtepd-x.log" "$T_BUILD/vtepd/vtepd" -f -c "$XYAML"
XPID=$LAB_LAST_PID
t_assert_wait 5 "vtepd x did not start" test -S "$XSOCK"
lab_exec x ip link show br300 >/dev/null 2>&1 || t_fail "vtepd did not create br300"
t_assert_eq "$(lab_exec x cat /sys/class/net/br300/addr_assign_type)" 3 "br300's addr_assign_type"
want=$("$T_PYTHON" -c '
import ipaddress
h = 2166136261
for b in ipaddress.ip_address("198.18.0.1").packed:
    h = ((h ^ b) * 16777619) & 0xffffffff
v = 300
print(":".join("%02x" % x for x in [((h >> 16) & 0xfc) | 2, (h >> 8) & 255, h & 255, v >> 16, (v >> 8) & 255, v & 255]))')
t_assert_eq "$(lab_exec x cat /sys/class/net/br300/address)" "$want" "br300's address"
lab_exec x ip link show vx300 | grep -q "master br300" || t_fail "vx300 not in br300"
lab_exec x ip link add low300 address 00:00:5e:00:53:03 type veth peer name low300p
lab_bridge_port x br300 low300
t_assert_eq "$(lab_exec x cat /sys/class/net/br300/address)" "$want" "br300's address after a lower port joined"
XS=$("$FABRICCTL" -s "$XSOCK" agent status --json) || t_fail "agent status of vtepd x"
t_assert_eq "$(jq -c '[.segments[] | [.vni, .bridge_mac_fixed]]' <<<"$XS")" '[[300,true],[301,false],[302,true]]' \
    "bridge_mac_fixed of br300 (created), brpre, brfix"
t_assert_eq "$(jq -r '.warnings | length' <<<"$XS")" 1 "warnings of vtepd x: $(jq -c .warnings <<<"$XS")"
jq -r '.warnings[0]' <<<"$XS" | grep -q "^bridge brpre has no fixed MAC" || t_fail "warning: $(jq -c .warnings <<<"$XS")"
grep -q "bridge brpre (vni 301) has no fixed address" "$LAB_TMP/vtepd-x.log" || t_fail "no warning logged for brpre"
grep -q "created bridge br300 with the fixed address $want" "$LAB_TMP/vtepd-x.log" || t_fail "br300's creation not logged"
grep -Eq "(br300|brfix) .*has no fixed address" "$LAB_TMP/vtepd-x.log" && t_fail "warned about a bridge with a fixed MAC"
# Segments a reload (SIGHUP) adds are looked at the same way: br303 does not exist, brpre2 has
# no fixed MAC.
lab_exec x ip link add brpre2 type bridge
lab_exec x ip link set brpre2 up
printf '  - { vni: 303, bridge: br303 }\n  - { vni: 304, bridge: brpre2 }\n' >>"$XYAML"
kill -HUP "$XPID"
xfixed() { "$FABRICCTL" -s "$XSOCK" agent status --json | jq -c '[.segments[] | [.vni, .bridge_mac_fixed]]'; }
t_assert_wait 5 "segments of vtepd x after the reload: $(xfixed)" \
    '[ "$(xfixed)" = "[[300,true],[301,false],[302,true],[303,true],[304,false]]" ]'
t_assert_eq "$(lab_exec x cat /sys/class/net/br303/addr_assign_type)" 3 "br303's addr_assign_type"
t_assert_eq "$("$FABRICCTL" -s "$XSOCK" agent status --json | jq -r '.warnings[]' | sed 's/ has no fixed MAC.*//' | sort | paste -sd,)" \
    "bridge brpre,bridge brpre2" "warnings of vtepd x after the reload"
lab_exec x curl -s -m 5 http://127.0.0.1:9741/metrics >"$LAB_TMP/x.prom" || t_fail "vtepd x: no metrics"
t_assert_eq "$(awk '$1 == "l2f_vtepd_bridges_unfixed" { print $2 }' "$LAB_TMP/x.prom")" 2 "l2f_vtepd_bridges_unfixed of vtepd x"
grep -q '^l2f_vtepd_drift_deleted_total{cause="link_change"} ' "$LAB_TMP/x.prom" || t_fail "no drift metrics: $(grep drift "$LAB_TMP/x.prom")"
if command -v promtool >/dev/null; then
    promtool check metrics <"$LAB_TMP/x.prom" >"$LAB_TMP/x.lint" 2>&1 || t_fail "promtool: $(head -5 "$LAB_TMP/x.lint")"
fi
lab_alive "$XPID" || t_fail "vtepd x died"
t_pass
