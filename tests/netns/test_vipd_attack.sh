#!/usr/bin/env bash
# test_vipd_attack.sh — vipd holds while the segment attacks it. Two nodes (n1 priority 150
# master, n2 100 backup, adverts every 50 ms) and two clients; the attacker is floodtool
# (tests/tools) in the client cl's namespace, c2 is a quiet client.
#  (a) ARP requests for the VIP aimed at the backup's MAC for 3 s, as fast as floodtool sends
#      them (~100-200k/s here): the backup's ARP/NS socket overflows, yet every advert the
#      master sent meanwhile reached the backup's VRRP state machine (none lost, the VRRP
#      socket dropped nothing), the backup made no transition and stayed backup, and the
#      master stayed master;
#  (b) forged priority-0 adverts at the master, 5000/s for 3 s: the master's adverts, counted
#      by itself and on the wire at the client, grow by at most one per half interval over the
#      window (RFC 5798 6.4.3 answers, rate-limited), the forged adverts were received and
#      those not answered are counted in priority_zero_suppressed; nobody changed state;
#  (c) ARP, then NS, requests for the VIPs from one source at 5000/s for 2 s: that source
#      gets at most answer_burst + answer_rate x window answers (counted on the wire), the
#      rest are counted as rate-limited, and the quiet client c2 still resolves both VIPs to
#      the master's MAC meanwhile.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_vipd
t_require_cmd jq arping ndisc6 tcpdump tshark
FLOODTOOL=${L2F_FLOODTOOL:-$T_BUILD/tests/tools/floodtool}
[ -x "$FLOODTOOL" ] || t_skip "$FLOODTOOL not built"

VIP4=198.51.100.10 VIP6=2001:db8:51::10
ADVERT_MS=50 RATE=10 BURST=20
C2_MAC=02:00:00:00:02:00
seg_build 2
seg_attach c2 "$C2_MAC" 198.18.0.101/24 2001:db8:18::101/64
lab_exec c2 ip route add 198.51.100.0/24 dev eth0
lab_exec c2 ip -6 route add 2001:db8:51::/64 dev eth0
lab_wait_for 5 seg_link_ready c2 || t_fail "c2: eth0 not ready"
lab_tmpdir
mac1=$(seg_node_mac n1) mac2=$(seg_node_mac n2)
for n in n1 n2; do
    prio=150; [ $n = n2 ] && prio=100
    cat >"$LAB_TMP/$n.yaml" <<YAML
node: $n
control_socket: $LAB_TMP/$n.sock
answer_rate: $RATE
answer_burst: $BURST
groups:
  - { name: web, interface: eth0, vrid: 51, priority: $prio, advert_interval_ms: $ADVERT_MS,
      addresses: [$VIP4, "$VIP6"] }
YAML
done
vipd_start n1 "$LAB_TMP/n1.yaml"
vipd_start n2 "$LAB_TMP/n2.yaml"
s1=${VIPD_SOCKET[n1]} s2=${VIPD_SOCKET[n2]}
for f in ipv4 ipv6; do
    t_assert_wait 5 "n1 never became master ($f)" '[ "$(vip_state $s1 web '$f')" = master ]'
    t_assert_wait 5 "n2 never became backup ($f)" '[ "$(vip_state $s2 web '$f')" = backup ]'
done
# The bridge learns where n1 and n2 are, so that a flood to one of their MACs reaches it alone.
lab_exec n1 ping -c 1 -W 1 "$SEG_CLIENT4" >/dev/null
lab_exec n2 ping -c 1 -W 1 "$SEG_CLIENT4" >/dev/null

# One status snapshot per node; fields are read from it.
snap() { vip_status_json "${VIPD_SOCKET[$1]}"; }
ctr() {   # ctr JSON FAMILY COUNTER
    jq -r --arg f "$2" --arg c "$3" \
        '.groups[] | select(.name == "web") | .instances[] | select(.family == $f) | .counters[$c]' <<<"$1"
}
state() { jq -r --arg f "$2" '.groups[0].instances[] | select(.family == $f) | .state' <<<"$1"; }
sock() { jq -r --arg s "$2" --arg c "$3" '.interfaces[0].sockets[$s][$c]' <<<"$1"; }
flood() {   # flood NS ARGS...: runs floodtool to its end; FLOOD_SENT: frames it sent
    local out
    out=$(lab_exec "$1" "$FLOODTOOL" "${@:2}") || t_fail "floodtool ${*:2}: $out"
    t_log "floodtool ${*:2}: $out"
    FLOOD_SENT=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' <<<"$out")
}
no_change() {   # no_change WHAT BEFORE AFTER NODE: states and transitions as they were
    local f
    for f in ipv4 ipv6; do
        t_assert_eq "$(state "$3" $f)" "$(state "$2" $f)" "$4 $f state after $1"
        t_assert_eq "$(ctr "$3" $f transitions)" "$(ctr "$2" $f transitions)" "$4 $f transitions during $1"
    done
}

# --- (a) ARP flood at the backup -----------------------------------------------------------
# Read n2 before n1 at the start and n1 before n2 at the end: an advert in flight between the
# two reads can then only make the backup look as if it had received more, never fewer.
b2=$(snap n2) b1=$(snap n1)
flood cl -i eth0 -k arp --dst-mac "$mac2" --src-ip "$SEG_CLIENT4" --target $VIP4 -d 3
sleep 0.2   # the adverts of the flood's last moments are read
a1=$(snap n1) a2=$(snap n2)
no_change "the ARP flood" "$b1" "$a1" n1
no_change "the ARP flood" "$b2" "$a2" n2
t_assert_eq "$(state "$a1" ipv4)/$(state "$a2" ipv4)" master/backup "roles after the ARP flood"
for f in ipv4 ipv6; do
    sent=$(( $(ctr "$a1" $f adverts_sent) - $(ctr "$b1" $f adverts_sent) ))
    got=$(( $(ctr "$a2" $f adverts_received) - $(ctr "$b2" $f adverts_received) ))
    [ "$sent" -gt 0 ] || t_fail "n1 sent no $f advert during the ARP flood"
    [ "$got" -ge "$sent" ] || t_fail "n2 lost $f adverts in the ARP flood: n1 sent $sent, n2 received $got"
done
t_assert_eq "$(( $(sock "$a2" vrrp queue_drops) - $(sock "$b2" vrrp queue_drops) ))" 0 \
    "adverts the kernel dropped from n2's VRRP socket"
t_log "ARP flood: n2's ARP/NS socket read $(( $(sock "$a2" segment frames) - $(sock "$b2" segment frames) )) frames, the kernel dropped $(( $(sock "$a2" segment queue_drops) - $(sock "$b2" segment queue_drops) )) more; its VRRP socket lost none"

# --- (b) forged priority-0 adverts at the master -------------------------------------------
t0=$(lab_now_ms)
t_capture_start cl eth0 "$LAB_TMP/p0.pcap" ether src "$mac1" and ip proto 112
cap=$T_CAPTURE_PID
tb=$(lab_now_ms)
b1=$(snap n1) b2=$(snap n2)
flood cl -i eth0 -k vrrp --dst-mac "$mac1" --vrid 51 --priority 0 --src-ip "$SEG_CLIENT4" \
    --target $VIP4 -r 5000 -d 3
forged=$FLOOD_SENT
a1=$(snap n1)
ta=$(lab_now_ms)
a2=$(snap n2)
t_capture_stop "$cap"
t1=$(lab_now_ms)
no_change "forged priority-0 adverts" "$b1" "$a1" n1
no_change "forged priority-0 adverts" "$b2" "$a2" n2
# Two adverts are always at least half an interval apart: over W ms at most W / (interval / 2) + 1.
bound=$(( (ta - tb) * 2 / ADVERT_MS + 1 ))
sent=$(( $(ctr "$a1" ipv4 adverts_sent) - $(ctr "$b1" ipv4 adverts_sent) ))
p0=$(( $(ctr "$a1" ipv4 priority_zero_received) - $(ctr "$b1" ipv4 priority_zero_received) ))
supp=$(( $(ctr "$a1" ipv4 priority_zero_suppressed) - $(ctr "$b1" ipv4 priority_zero_suppressed) ))
t_log "priority 0: $forged forged, $p0 received, $sent adverts sent (bound $bound over $((ta - tb)) ms), $supp suppressed"
[ "$p0" -ge $((forged * 9 / 10)) ] || t_fail "n1 received $p0 of $forged forged priority-0 adverts"
[ "$sent" -le "$bound" ] || t_fail "n1 sent $sent IPv4 adverts in $((ta - tb)) ms of forged priority 0, more than $bound"
[ "$supp" -ge $((p0 - sent)) ] && [ "$supp" -le "$p0" ] ||
    t_fail "priority_zero_suppressed grew by $supp, want $((p0 - sent))..$p0 ($p0 received, $sent sent)"
wire=$(tshark_count "$LAB_TMP/p0.pcap" "vrrp && eth.src == $mac1")
wbound=$(( (t1 - t0) * 2 / ADVERT_MS + 1 ))
t_log "the client saw $wire IPv4 adverts from n1 in at most $((t1 - t0)) ms of capture (bound $wbound)"
[ "$wire" -le "$wbound" ] || t_fail "the client saw $wire adverts from n1 in $((t1 - t0)) ms, more than $wbound"

# --- (c) one source asks too often; a quiet client still resolves -------------------------
# ask KIND TARGET ANSWER WHAT: a 2 s flood of KIND requests for TARGET from cl, c2 resolving
# TARGET with WHAT in the middle of it; the answers to cl are counted on the wire (tshark
# display filter ANSWER).
ask() {
    local kind=$1 target=$2 answer=$3 what=$4 fam=ipv4 src=$SEG_CLIENT4 c=arp
    [ "$kind" = ns ] && fam=ipv6 src=$SEG_CLIENT6 c=ns
    t0=$(lab_now_ms)
    t_capture_start cl eth0 "$LAB_TMP/$kind.pcap" ether src "$mac1" and ether dst "$SEG_CLIENT_MAC"
    cap=$T_CAPTURE_PID
    b1=$(snap n1)
    lab_bg cl "$LAB_TMP/flood-$kind.log" "$FLOODTOOL" -i eth0 -k "$kind" --src-ip "$src" --target "$target" -r 5000 -d 2
    fpid=$LAB_LAST_PID
    sleep 0.5
    got=$($what)
    lab_wait_for 5 t_exited "$fpid" || t_fail "floodtool did not stop"
    wait "$fpid" || t_fail "floodtool -k $kind: $(cat "$LAB_TMP/flood-$kind.log")"
    a1=$(snap n1)
    t_capture_stop "$cap"
    t1=$(lab_now_ms)
    t_assert_eq "$got" "$mac1" "MAC c2 resolved $target to during the $kind flood"
    sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' "$LAB_TMP/flood-$kind.log")
    answered=$(( $(ctr "$a1" $fam ${c}_answered) - $(ctr "$b1" $fam ${c}_answered) ))
    limited=$(( $(ctr "$a1" $fam ${c}_rate_limited) - $(ctr "$b1" $fam ${c}_rate_limited) ))
    wire=$(tshark_count "$LAB_TMP/$kind.pcap" "$answer")
    wbound=$(( BURST + RATE * (t1 - t0) / 1000 + 1 ))
    t_log "$kind flood: $sent sent, $answered answered (c2's included), $limited rate-limited; cl got $wire answers (bound $wbound over $((t1 - t0)) ms)"
    [ "$wire" -ge "$BURST" ] || t_fail "cl got $wire answers to its $kind requests, fewer than the burst of $BURST"
    [ "$wire" -le "$wbound" ] || t_fail "cl got $wire answers to its $kind requests in $((t1 - t0)) ms, more than $wbound"
    [ "$limited" -gt 0 ] && [ $((answered + limited)) -ge $((sent * 9 / 10)) ] ||
        t_fail "$kind: $answered answered + $limited rate-limited of $sent requests"
}
ask arp $VIP4 "arp.opcode == 2 && arp.src.proto_ipv4 == $VIP4" "arp_mac c2 eth0 $VIP4"
ask ns $VIP6 "icmpv6.type == 136 && icmpv6.nd.na.target_address == $VIP6" "ndisc_mac c2 $VIP6"
t_assert_eq "$(jq -r '.interfaces[0].answer_limit.table_full' <<<"$a1")" 0 "answer_limit.table_full"
# The limit is per source and passes: once its bucket refilled a little, cl is answered again.
t_assert_wait 3 "cl not answered again after its flood" '[ "$(arp_mac cl eth0 '$VIP4')" = "'$mac1'" ]'
lab_alive "${VIPD_PID[n1]}" && lab_alive "${VIPD_PID[n2]}" || t_fail "a vipd died"
t_pass
