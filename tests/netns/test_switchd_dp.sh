#!/usr/bin/env bash
# test_switchd_dp.sh — switchd's eBPF data plane (switchd/bpf/switch.bpf.c, switchd/dp.c),
# programmed by hand with tests/tools/dpctl (no LDP yet), on the smallest tree that takes
# every rule: two pods joined by one core, with two parallel links at each of the first two
# hops for ECMP (and for polarization: e1 and a1 must not pick the same index for a flow).
#
#   h1 ── e1 ══(up1,up2)══ a1 ══(up1,up2)══ c0 ─── a2 ─── e2 ── h2
#         edge   agg               core   agg    edge
#         pod 1  pod 1                    pod 2  pod 2
#         pos 1                                  pos 0
#
# h1 = AMAC 02:00:00:00:00:01, PMAC 02:01:01:01:00:01 (pod 1, position 1, port 1, vmid 1)
# h2 = AMAC 02:00:00:00:00:02, PMAC 02:02:00:01:00:01 (pod 2, position 0, port 1, vmid 1)
# The hosts hold static neighbours at each other's PMAC (no proxy ARP yet). Asserted as the
# hosts and the wires see it: nothing passes before the switches are located; IPv4 and IPv6
# pings pass once they are; a host's captures hold its own AMAC and PMACs only (never the
# other host's AMAC); flows spread over both uplinks of e1 and of a1, independently; ARP,
# LDP and ND frames reach the switch's packet sockets bound to their EtherTypes (never
# across the fabric); a frame sent down a1's up port to a pod not below a1 is dropped
# (Constraint 1), a frame from an unknown source too (and reported); each switch's
# maps hold its own entries only; after kill -9 of every loader, pings still pass, and a
# reload of every switch, reconciling its maps to a desired state (stale entries removed),
# during a 1 ms ping loses none of them; a detached, unpinned switch leaves nothing behind.
LAB_PREFIX=${LAB_PREFIX:-l2fdp-$$-}
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd ip tc ping tcpdump arping

DPCTL=${L2F_DPCTL:-$T_BUILD/tests/tools/dpctl}
[ -z "${L2F_BUILD_FAILED:-}" ] || t_skip "the build failed; not testing a stale dpctl"
[ -x "$DPCTL" ] || t_skip "$DPCTL not built (meson -Dbpf: needs clang, bpftool, libbpf-dev)"

AMAC1=02:00:00:00:00:01 PMAC1=02:01:01:01:00:01
AMAC2=02:00:00:00:00:02 PMAC2=02:02:00:01:00:01
SWITCHES=(e1 a1 c0 a2 e2)

lab_tmpdir
# A private bpffs instance for this run's pins: removed (with every pin) on exit.
BPFFS=$LAB_TMP/bpffs
mkdir "$BPFFS" && mount -t bpf bpf "$BPFFS" || t_skip "cannot mount a bpffs"
dp_cleanup() {
    local rc=$?
    umount "$BPFFS" 2>/dev/null
    (exit $rc)
    lab_cleanup
}
trap dp_cleanup EXIT

dp() { local sw=$1; shift; lab_exec "$sw" "$DPCTL" -d "$BPFFS/$sw" "$@"; }
counter() { dp "$1" counters | awk -v r="$2" '$1 == r {print $2}'; }
entries() { dp "$1" entries | awk -v m="$2" '$1 == m {print $2}'; }

# --- the tree -----------------------------------------------------------------------------
for ns in h1 h2 "${SWITCHES[@]}"; do lab_ns_add "$ns"; done
# No IPv6 on switch ports: their RS/MLD/DAD would look like hosts to an edge (PORTLAND.md §4).
for sw in "${SWITCHES[@]}"; do
    lab_exec "$sw" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
lab_veth h1 eth0 e1 host1
lab_veth e1 up1 a1 down1
lab_veth e1 up2 a1 down2
lab_veth a1 up1 c0 pod1a
lab_veth a1 up2 c0 pod1b
lab_veth c0 pod2 a2 up1
lab_veth a2 down0 e2 up1
lab_veth e2 host1 h2 eth0
lab_exec h1 ip link set eth0 address $AMAC1
lab_exec h2 ip link set eth0 address $AMAC2
for ns in h1 h2 "${SWITCHES[@]}"; do
    for l in $(lab_exec "$ns" ls /sys/class/net); do lab_exec "$ns" ip link set "$l" up; done
done
lab_exec h1 ip addr add 198.18.0.1/24 dev eth0
lab_exec h2 ip addr add 198.18.0.2/24 dev eth0
lab_exec h1 ip addr add 2001:db8:9::1/64 dev eth0 nodad
lab_exec h2 ip addr add 2001:db8:9::2/64 dev eth0 nodad
lab_exec h1 ip neigh replace 198.18.0.2 lladdr $PMAC2 dev eth0 nud permanent
lab_exec h2 ip neigh replace 198.18.0.1 lladdr $PMAC1 dev eth0 nud permanent
lab_exec h1 ip -6 neigh replace 2001:db8:9::2 lladdr $PMAC2 dev eth0 nud permanent
lab_exec h2 ip -6 neigh replace 2001:db8:9::1 lladdr $PMAC1 dev eth0 nud permanent

# --- the data plane, loaded by one holding loader per switch (switchd's stand-in) -----------
declare -A PORTS=([e1]="host1 up1 up2" [a1]="down1 down2 up1 up2" [c0]="pod1a pod1b pod2"
                  [a2]="up1 down0" [e2]="up1 host1")
declare -A LOADER=()
for sw in "${SWITCHES[@]}"; do
    # shellcheck disable=SC2086
    lab_bg "$sw" "$LAB_TMP/loader-$sw.log" "$DPCTL" -d "$BPFFS/$sw" attach --hold ${PORTS[$sw]}
    LOADER[$sw]=$LAB_LAST_PID
done
for sw in "${SWITCHES[@]}"; do
    t_assert_wait 20 "$sw's loader attached" grep -qx attached "$LAB_TMP/loader-$sw.log"
done
dp e1 port host1 host; dp e1 port up1 up; dp e1 port up2 up; dp e1 up up1 up2
dp e1 host $PMAC1 $AMAC1 host1
dp a1 port down1 down; dp a1 port down2 down; dp a1 port up1 up; dp a1 port up2 up; dp a1 up up1 up2
dp a1 pos 1 down1
for p in pod1a pod1b pod2; do dp c0 port $p down; done
dp c0 pod 1 pod1a; dp c0 pod 2 pod2
dp a2 port up1 up; dp a2 port down0 down; dp a2 up up1; dp a2 pos 0 down0
dp e2 port up1 up; dp e2 port host1 host; dp e2 up up1
dp e2 host $PMAC2 $AMAC2 host1
dp e1 config level=edge pod=1 pos=1 salt=0x1111 located=0
dp a1 config level=aggregation pod=1 salt=0x2222 located=0
dp c0 config level=core salt=0x3333 located=0
dp a2 config level=aggregation pod=2 salt=0x4444 located=0
dp e2 config level=edge pod=2 pos=0 salt=0x5555 located=0

# --- not located: nothing but punts -------------------------------------------------------------
lab_exec h1 ping -c 2 -i 0.2 -W 1 198.18.0.2 >/dev/null && t_fail "a ping passed before the switches were located"
n=$(counter e1 dropped_not_located)
[ "${n:-0}" -ge 2 ] || t_fail "e1 counted $n dropped_not_located, want >= 2 (the pings)"
for sw in "${SWITCHES[@]}"; do dp "$sw" config located=1; done

# --- forwarding, as the hosts see it ------------------------------------------------------------
t_capture_start h1 eth0 "$LAB_TMP/h1.pcap"; CAP1=$T_CAPTURE_PID
t_capture_start h2 eth0 "$LAB_TMP/h2.pcap"; CAP2=$T_CAPTURE_PID
lab_exec h1 ping -c 3 -i 0.2 -W 2 198.18.0.2 >/dev/null || t_fail "IPv4 ping h1 -> h2 failed"
lab_exec h2 ping -c 3 -i 0.2 -W 2 198.18.0.1 >/dev/null || t_fail "IPv4 ping h2 -> h1 failed"
lab_exec h1 ping -6 -c 3 -i 0.2 -W 2 2001:db8:9::2 >/dev/null || t_fail "IPv6 ping h1 -> h2 failed"

# ECMP, flow by flow: 32 UDP flows (one socket, so one source port, each) from h1, and for
# each the uplink e1 took and the one a1 took. Both switches must use both uplinks, and their
# choices must be independent (salted per switch): with one hash and one rule at both, every
# flow would take the same index twice (polarization: half of a1's uplinks idle).
# What each uplink sent: the program's own per-port counters (dpctl porttx), which must agree
# with the kernel's for the veth (nothing else sends on an uplink here).
tx2() { dp "$1" porttx up1 up2 | awk '{printf "%s ", $2}'; }
declare -A CELL=([11]=0 [12]=0 [21]=0 [22]=0)
for p in $(seq 1 32); do
    read -r e1a e1b <<<"$(tx2 e1)"; read -r a1a a1b <<<"$(tx2 a1)"
    lab_exec h1 bash -c "echo x >/dev/udp/198.18.0.2/$((7000 + p))"
    lab_wait_for 2 '[ "$(tx2 a1)" != "$a1a $a1b " ]'
    read -r e1c e1d <<<"$(tx2 e1)"; read -r a1c a1d <<<"$(tx2 a1)"
    case "$((e1c - e1a))$((e1d - e1b)) $((a1c - a1a))$((a1d - a1b))" in
        "10 10") CELL[11]=$((CELL[11] + 1)) ;; "10 01") CELL[12]=$((CELL[12] + 1)) ;;
        "01 10") CELL[21]=$((CELL[21] + 1)) ;; "01 01") CELL[22]=$((CELL[22] + 1)) ;;
        *) t_fail "flow $p: e1 sent $((e1c - e1a))+$((e1d - e1b)) and a1 $((a1c - a1a))+$((a1d - a1b)) frames up, want 1 each" ;;
    esac
done
for sw in e1 a1; do
    for up in up1 up2; do
        t_assert_eq "$(dp "$sw" porttx "$up" | awk '{print $2}')" \
            "$(lab_exec "$sw" cat "/sys/class/net/$up/statistics/tx_packets")" \
            "$sw $up: the program's count of what it sent against the kernel's"
    done
done
ecmp="e1 up1: a1 up1 ${CELL[11]}, up2 ${CELL[12]}; e1 up2: a1 up1 ${CELL[21]}, up2 ${CELL[22]}"
t_log "ECMP (32 flows): $ecmp"
[ $((CELL[11] + CELL[12])) -ge 4 ] && [ $((CELL[21] + CELL[22])) -ge 4 ] ||
    t_fail "e1 uses one uplink: $ecmp"
[ $((CELL[11] + CELL[21])) -ge 4 ] && [ $((CELL[12] + CELL[22])) -ge 4 ] ||
    t_fail "a1 uses one uplink: $ecmp"
[ $((CELL[11] + CELL[22])) -ge 4 ] && [ $((CELL[12] + CELL[21])) -ge 4 ] ||
    t_fail "e1 and a1 choose alike (polarized): $ecmp"
t_capture_stop "$CAP1"; t_capture_stop "$CAP2"

# ARP, LDP and ND are the switch's: punted at e1 to packet sockets bound to their EtherTypes
# on that port (what switchd opens), never across the fabric (h2 listens for them).
t_capture_start h2 eth0 "$LAB_TMP/h2-crafted.pcap"; CAP2=$T_CAPTURE_PID
LISTEN='import select, socket, sys, time
socks = []
for t in (0x0806, 0x88b5, 0x86dd):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(t))
    s.bind((sys.argv[1], t))
    socks.append(s)
print("ready", flush=True)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    for s in select.select(socks, [], [], 0.1)[0]:
        d = s.recv(2048)
        print(d[12:14].hex(), d[6:12].hex(), d[54] if d[12:14] == b"\x86\xdd" else "-", flush=True)'
lab_bg e1 "$LAB_TMP/punted.log" "$T_PYTHON" -c "$LISTEN" host1 4
LISTENER=$LAB_LAST_PID
t_assert_wait 5 "the packet-socket listener on e1 started" grep -qx ready "$LAB_TMP/punted.log"
arp0=$(counter e1 punted_arp) ldp0=$(counter e1 punted_ldp) nd0=$(counter e1 punted_nd)
lab_exec h1 arping -c 1 -w 1 -i eth0 198.18.0.2 >/dev/null 2>&1 &&
    t_fail "an ARP request crossed the fabric and was answered"
# sendframe NS IFACE DST SRC ETHERTYPE [PAYLOAD_HEX]: one frame from a packet socket (the
# payload defaults to an IPv4/UDP header for 198.18.0.1 -> 198.18.0.2).
SENDFRAME='import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
mac = lambda m: bytes.fromhex(m.replace(":", ""))
ip = bytes.fromhex(sys.argv[5]) if len(sys.argv) > 5 else \
    bytes.fromhex("450000200000400040110000c6120001c6120002") + bytes(12)
s.send(mac(sys.argv[2]) + mac(sys.argv[3]) + bytes.fromhex(sys.argv[4]) + ip + bytes(20))'
sendframe() { local ns=$1; shift; lab_exec "$ns" "$T_PYTHON" -c "$SENDFRAME" "$@"; }
sendframe h1 eth0 01:80:c2:00:00:0e $AMAC1 88b5
# A Neighbor Solicitation for 2001:db8:9::2 (RFC 4861 4.3; its checksum is not checked here).
NS_HEX=6000000000183aff                                     # payload 24, ICMPv6, hop limit 255
NS_HEX+=fe800000000000000000000000000001                      # from fe80::1
NS_HEX+=ff0200000000000000000001ff000002                      # to ff02::1:ff00:2
NS_HEX+=8700000000000000                                      # type 135, code 0
NS_HEX+=20010db8000900000000000000000002                      # target 2001:db8:9::2
sendframe h1 eth0 33:33:ff:00:00:02 $AMAC1 86dd "$NS_HEX"
lab_wait_for 2 '[ "$(counter e1 punted_arp)" -gt "$arp0" ]' || t_fail "e1 did not punt h1's ARP request"
lab_wait_for 2 '[ "$(counter e1 punted_ldp)" -gt "$ldp0" ]' || t_fail "e1 did not punt an LDP frame"
lab_wait_for 2 '[ "$(counter e1 punted_nd)" -gt "$nd0" ]' || t_fail "e1 did not punt a Neighbor Solicitation"
lab_wait_for 6 t_exited "$LISTENER"
h1hex=${AMAC1//:/}
grep -q "^0806 $h1hex " "$LAB_TMP/punted.log" || t_fail "no ARP from h1 on e1's ETH_P_ARP socket"
grep -q "^88b5 $h1hex " "$LAB_TMP/punted.log" || t_fail "no LDP frame on e1's 0x88B5 socket"
grep -q "^86dd $h1hex 135$" "$LAB_TMP/punted.log" || t_fail "no NS on e1's ETH_P_IPV6 socket"

# Constraint 1: from c0 down a1's up1, to pod 3 (not below a1): dropped, not sent up again.
u2u0=$(counter a1 dropped_up_to_up) up0=$(counter a1 forwarded_up)
sendframe c0 pod1a 02:03:00:01:00:01 $PMAC2 0800
lab_wait_for 2 '[ "$(counter a1 dropped_up_to_up)" -gt "$u2u0" ]' ||
    t_fail "a1 did not count an up->up frame as dropped_up_to_up"
t_assert_eq "$(counter a1 forwarded_up)" "$up0" "a1 forwarded_up after the up->up frame"

# An unknown source at a host port: dropped, counted, reported on the ring.
unk0=$(counter e1 dropped_unknown_src)
lab_bg e1 "$LAB_TMP/unknown.log" "$DPCTL" -d "$BPFFS/e1" unknown 3
UNK=$LAB_LAST_PID
sleep 0.5
sendframe h1 eth0 $PMAC2 02:00:00:00:00:99 0800
lab_wait_for 2 '[ "$(counter e1 dropped_unknown_src)" -gt "$unk0" ]' ||
    t_fail "e1 did not drop a frame from an unknown source"
lab_wait_for 5 t_exited "$UNK"
grep -q " 02:00:00:00:00:99$" "$LAB_TMP/unknown.log" || t_fail "the unknown source was not reported on sw_unknown"
t_capture_stop "$CAP2"
crafted=$(tcpdump -r "$LAB_TMP/h2-crafted.pcap" -n 'arp or ether proto 0x88b5 or icmp6[0] == 135 or
    ether src 02:00:00:00:00:99 or ether dst 02:03:00:01:00:01' 2>/dev/null) ||
    t_fail "tcpdump could not read h2's capture"
crafted=$(grep -c . <<<"$crafted")
t_assert_eq "$crafted" 0 "ARP, LDP, NS, unknown-source and up->up frames that reached h2"

# What each host saw: only its own AMAC and the PMACs of others (multicast aside).
macs_seen() {
    tcpdump -r "$1" -t -e -n 2>/dev/null | awk '$2 == ">" {print $1; sub(",", "", $3); print $3}' | sort -u
}
check_host_view() {   # HOST PCAP OWN_AMAC PEER_PMAC OTHER_AMAC
    local m seen
    seen=$(macs_seen "$2")
    grep -qx "$4" <<<"$seen" || t_fail "$1 never saw its peer's PMAC $4 (saw: $(echo $seen))"
    grep -qx "$5" <<<"$seen" && t_fail "$1 saw the other host's AMAC $5"
    for m in $seen; do
        case $m in "$3"|"$4"|ff:ff:ff:ff:ff:ff|33:33:*|01:*) ;;
            *) t_fail "$1 saw $m, neither its own AMAC nor its peer's PMAC" ;; esac
    done
}
check_host_view h1 "$LAB_TMP/h1.pcap" $AMAC1 $PMAC2 $AMAC2
check_host_view h2 "$LAB_TMP/h2.pcap" $AMAC2 $PMAC1 $AMAC1

# The verdicts, by reason, where the pings went.
for want in "e1 to_host 6" "e1 forwarded_up 6" "a1 forwarded_up 6" "a1 forwarded_down 6" \
            "c0 forwarded_down 12" "a2 forwarded_down 6" "e2 to_host 6" "e2 forwarded_up 6"; do
    set -- $want
    n=$(counter "$1" "$2")
    [ "${n:-0}" -ge "$3" ] || t_fail "$1 counted $n $2, want >= $3"
done
# Each switch holds its own part only: an edge its one host, the others none.
t_assert_eq "$(entries e1 sw_hosts) $(entries e1 sw_amacs)" "1 1" "e1's host entries"
t_assert_eq "$(entries e2 sw_hosts)" 1 "e2's host entries"
t_assert_eq "$(entries c0 sw_hosts) $(entries c0 sw_pods)" "0 2" "c0's host and pod entries"
t_assert_eq "$(entries a1 sw_positions) $(entries a1 sw_hosts)" "1 0" "a1's position and host entries"

# --- the loaders die: the kernel forwards on ------------------------------------------------
for sw in "${SWITCHES[@]}"; do kill -KILL "${LOADER[$sw]}"; done
for sw in "${SWITCHES[@]}"; do lab_wait_for 5 t_exited "${LOADER[$sw]}" || t_fail "$sw's loader survived kill -9"; done
lab_exec h1 ping -c 3 -i 0.2 -W 2 198.18.0.2 >/dev/null || t_fail "ping failed after every loader was killed"

# --- restart: every switch reloads and reconciles to its desired state during a 1 ms ping -----
# The pins are reused (the entries stay), the filter is swapped in place, and stale entries
# planted beforehand (as a crashed switchd may leave them) are removed, all without a loss.
cat >"$LAB_TMP/e1.want" <<W
config level=edge pod=1 pos=1 salt=0x1111 located=1
port host1 host
port up1 up
port up2 up
up up1 up2
host $PMAC1 $AMAC1 host1
W
cat >"$LAB_TMP/a1.want" <<W
config level=aggregation pod=1 salt=0x2222 located=1
port down1 down
port down2 down
port up1 up
port up2 up
up up1 up2
pos 1 down1
W
cat >"$LAB_TMP/c0.want" <<W
config level=core salt=0x3333 located=1
port pod1a down
port pod1b down
port pod2 down
pod 1 pod1a
pod 2 pod2
W
cat >"$LAB_TMP/a2.want" <<W
config level=aggregation pod=2 salt=0x4444 located=1
port up1 up
port down0 down
up up1
pos 0 down0
W
cat >"$LAB_TMP/e2.want" <<W
config level=edge pod=2 pos=0 salt=0x5555 located=1
port up1 up
port host1 host
up up1
host $PMAC2 $AMAC2 host1
W
dp e1 host 02:01:01:01:00:07 02:00:00:00:00:77 host1
dp a1 pos 5 down1
dp c0 pod 9 pod2
prog_before=$(lab_exec a1 tc filter show dev up1 ingress | sed -n 's/.* id \([0-9]*\) .*/\1/p')
to_host0=$(counter e2 to_host)
lab_bg h1 "$LAB_TMP/ping1ms.log" ping -i 0.001 -c 4000 -W 2 198.18.0.2
PING=$LAB_LAST_PID
sleep 0.5
declare -A REMOVED=()
for sw in "${SWITCHES[@]}"; do
    # shellcheck disable=SC2086
    dp "$sw" attach ${PORTS[$sw]} || t_fail "reloading $sw failed"
    REMOVED[$sw]=$(dp "$sw" sync "$LAB_TMP/$sw.want") || t_fail "reconciling $sw failed"
done
lab_alive "$PING" || t_fail "the 1 ms ping ended before the reload did: it proves nothing (a slow machine?)"
lab_wait_for 30 t_exited "$PING" || t_fail "the 1 ms ping did not end"
wait "$PING" 2>/dev/null
stats=$(grep 'packets transmitted' "$LAB_TMP/ping1ms.log")
tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' <<<"$stats")
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$stats")
t_log "1 ms ping across the reload: $stats"
[ "${tx:-0}" -eq 4000 ] || t_fail "the 1 ms ping sent ${tx:-0} of 4000"
t_assert_eq "$rx" "$tx" "replies to the 1 ms ping across the reload"
prog_after=$(lab_exec a1 tc filter show dev up1 ingress | sed -n 's/.* id \([0-9]*\) .*/\1/p')
t_assert_ne "$prog_after" "$prog_before" "a1's program id after the reload (not reloaded?)"
t_assert_eq "$(lab_exec a1 tc filter show dev up1 ingress | grep -c 'handle 0x1f2f')" 1 \
    "filters on a1:up1 after the reload (replaced, not stacked)"
n=$(counter e2 to_host)
[ "$n" -ge $((to_host0 + 4000)) ] || t_fail "e2's to_host went from $to_host0 to $n (maps not reused?)"
t_assert_eq "${REMOVED[e1]} ${REMOVED[a1]} ${REMOVED[c0]} ${REMOVED[a2]} ${REMOVED[e2]}" \
    "removed 2 removed 1 removed 1 removed 0 removed 0" "stale entries removed by the reconcile (e1 a1 c0 a2 e2)"
t_assert_eq "$(entries e1 sw_hosts) $(entries e1 sw_amacs) $(entries a1 sw_positions) $(entries c0 sw_pods)" \
    "1 1 1 2" "entries after the reconcile (e1 hosts, amacs; a1 positions; c0 pods)"

# --- unpin: nothing left under the switch's directory ----------------------------------------
dp e2 detach up1 host1 || t_fail "detach on e2 failed"
[ "$(lab_exec e2 tc filter show dev host1 ingress | grep -c bpf)" -eq 0 ] || t_fail "e2:host1 still has a filter"
lab_exec e2 ping -c 1 -W 1 198.18.0.1 >/dev/null 2>&1 && t_fail "h2 still reached through a detached e2"
"$DPCTL" -d "$BPFFS/e2" unpin || t_fail "unpin failed"
[ ! -e "$BPFFS/e2" ] || t_fail "pins left under $BPFFS/e2: $(ls "$BPFFS/e2")"
t_pass "located gate, PMAC rewrite both ways, ECMP unpolarized (${CELL[11]}/${CELL[12]}/${CELL[21]}/${CELL[22]}), punts, up->up drop, kill -9 and reload + reconcile with 0/4000 lost"
