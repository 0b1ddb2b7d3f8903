#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2119  # conditions eval'd by t_assert_wait; optional arguments
# test_switchd_fattree.sh — PortLand on a k=4 fat tree (lab/fattree.sh): fabricd in fm over
# mutual TLS, a switchd in each of the 20 switch namespaces, started in a random order, with
# nothing configured but their certificates and fabricd's address. As a peer sees it:
#  - every switch locates itself (fabricctl topo): the edges, aggregations and cores of the
#    wiring are at those levels; the edges and aggregations of one physical pod share a pod
#    number and the pods' numbers differ; the edges of a pod hold positions 0 and 1; a core
#    has no pod; each port's direction is the wiring's (host, up, down);
#  - every host reaches every other over IPv4 and over IPv6 (fping);
#  - hosts' neighbour caches hold PMACs only: never another host's own MAC;
#  - fabricctl hosts has all 16 hosts, each once per family, at its edge and port;
#  - once the tree has resolved, a capture on a host sees no ARP broadcast and no multicast
#    NS while every host pings every other again (proxy ARP/ND: nobody floods); a host that
#    asks for an address nobody has gets it flooded, as the asker, to that host;
#  - each switch's forwarding state is O(k): fabricctl switch status counts map entries;
#  - 256 UDP flows between two pods are spread over all four cores (their verdict counters)
#    and over both uplinks of the sender's edge (its per-port counters);
#  - LDMs from a host (one malformed, one well-formed on a host port) are dropped and counted
#    by reason, the second reported as a miswiring of that port; forwarding goes on;
#  - its Prometheus metrics pass promtool and show what it forwarded;
#  - a switchd killed with -9 leaves its switch forwarding (pinned maps, attached program),
#    and its restart takes the maps over: a ping across it loses nothing;
#  - a silent link (frames dropped on both ends by the data plane's fault flag, carrier up):
#    both ends lose the neighbour from missed LDMs (fabricctl faults lists the link from both
#    ends), the edge's flows up leave that port (its per-port counters), and once the link
#    carries again the fault is gone and they use it again.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/switchd_lib.sh
. "$(dirname "$0")/switchd_lib.sh"
t_require_root
t_require_cmd jq fping tcpdump shuf
sw_lab 4
start_sw() { sw_start "$1" --metrics 9734; }
sw_start_all --metrics 9734

located() { [ "$(ctl topo --json | jq '[.[] | select(.located)] | length')" = 20 ]; }
t_assert_wait 20 "not every switch located: $(ctl topo 2>&1 | head -22)" located
TOPO=$(ctl topo --json)
lvl() { jq -r --arg n "$1" '.[] | select(.name == $n) | .level' <<<"$TOPO"; }
pod() { jq -r --arg n "$1" '.[] | select(.name == $n) | .pod' <<<"$TOPO"; }
for sw in $(ft_switches); do
    case $(ft_level "$sw") in
        edge) want=LEVEL_EDGE ;; agg) want=LEVEL_AGGREGATION ;; core) want=LEVEL_CORE ;;
    esac
    t_assert_eq "$(lvl "$sw")" "$want" "$sw's level"
done
pods=()
for p in 0 1 2 3; do
    n=$(pod "e$p-0")
    for sw in "e$p-1" "a$p-0" "a$p-1"; do t_assert_eq "$(pod "$sw")" "$n" "$sw in the pod of e$p-0"; done
    t_assert_eq "$(jq -r --arg a "e$p-0" --arg b "e$p-1" \
        '[.[] | select(.name == $a or .name == $b) | .position] | sort | join(",")' <<<"$TOPO")" \
        "0,1" "the positions of pod $p's edges"
    pods+=("$n")
done
t_assert_eq "$(printf '%s\n' "${pods[@]}" | sort -u | wc -l)" 4 "four distinct pod numbers: ${pods[*]}"
t_assert_eq "$(jq -r '[.[] | select(.level == "LEVEL_CORE") | .pod] | unique | join(",")' <<<"$TOPO")" \
    "" "cores have no pod"
t_assert_eq "$(jq -r '.[] | select(.name == "e2-1") | [.ports[] | .dir] | join(",")' <<<"$TOPO")" \
    DIR_HOST,DIR_HOST,DIR_UP,DIR_UP "an edge's ports"
t_assert_eq "$(jq -r '.[] | select(.name == "a1-0") | [.ports[] | .dir] | join(",")' <<<"$TOPO")" \
    DIR_DOWN,DIR_DOWN,DIR_UP,DIR_UP "an aggregation switch's ports"
t_assert_eq "$(jq -r '.[] | select(.name == "c3") | [.ports[] | .dir] | unique | join(",")' <<<"$TOPO")" \
    DIR_DOWN "a core's ports"
t_assert_eq "$(jq '[.[] | .miswirings[]] | length' <<<"$TOPO")" 0 "no miswiring reported"

# --- every host to every other, both families ------------------------------------------------
mapfile -t HOSTS < <(ft_hosts)
all4=() all6=()
for h in "${HOSTS[@]}"; do all4+=("$(ft_host_ip4 "$h")"); all6+=("$(ft_host_ip6 "$h")"); done
matrix() {   # FAMILY: every host fpings every other (3 tries each; the first may be a miss)
    local h fail=0 out
    for h in "${HOSTS[@]}"; do
        if [ "$1" = 4 ]; then
            out=$(lab_exec "$h" fping -u -r 3 -t 500 "${all4[@]}" 2>&1) || { fail=1; t_log "$h: unreachable: $(echo $out)"; }
        else
            out=$(lab_exec "$h" fping -6 -u -r 3 -t 500 "${all6[@]}" 2>&1) || { fail=1; t_log "$h: unreachable: $(echo $out)"; }
        fi
    done
    return $fail
}
matrix 4 || t_fail "IPv4: not every host reaches every other"
matrix 6 || t_fail "IPv6: not every host reaches every other"

# --- what the hosts learned: PMACs only ------------------------------------------------------
amacs=$(for h in "${HOSTS[@]}"; do ft_host_mac "$h"; done)
for h in "${HOSTS[@]}"; do
    while read -r mac; do
        [ -n "$mac" ] || continue
        grep -qx "$mac" <<<"$amacs" && t_fail "$h learned the AMAC $mac of another host"
        (( (0x${mac%%:*} & 3) == 2 )) || t_fail "$h learned $mac, not a PMAC"
    done < <(lab_exec "$h" ip -j neigh show dev eth0 | jq -r '.[] | select(.lladdr) | .lladdr' | sort -u)
done
HJ=$(ctl hosts --json) || t_fail "fabricctl hosts"
t_assert_eq "$(jq '[.[] | select(.ip | contains("."))] | length' <<<"$HJ")" 16 "IPv4 hosts registered"
t_assert_eq "$(jq '[.[] | select(.ip | contains(":"))] | length' <<<"$HJ")" 16 "IPv6 hosts registered"
t_assert_eq "$(jq -r '.[] | select(.ip == "198.18.3.21") | "\(.edge) \(.port) \(.amac)"' <<<"$HJ")" \
    "e3-1 1 $(ft_host_mac h3-1-1)" "h3-1-1 at its edge and port"

# --- nobody floods once resolved; a deliberate miss does --------------------------------------
# One capture on h2-0-1 through both phases: the second matrices must put no ARP broadcast
# and no multicast NS on its wire; then h0-0-0 asks for an address nobody has, and the flood
# of that miss must reach h2-0-1 (which shows the capture sees what it is looking for).
# Immediate mode (t_capture_start): a frame is in the file as it comes, so the count below
# sees the last matrix's frames too.
t_capture_start h2-0-1 eth0 "$LAB_TMP/quiet.pcap" 'arp or (icmp6 and ip6[40] == 135 and ether multicast)'
tdpid=$T_CAPTURE_PID
matrix 4 || t_fail "IPv4 matrix, second round"
matrix 6 || t_fail "IPv6 matrix, second round"
sleep 0.3
flooded() { tcpdump -nn -e -r "$LAB_TMP/quiet.pcap" 2>/dev/null | grep -E "ff:ff:ff:ff:ff:ff|33:33:ff"; }
t_assert_eq "$(flooded | grep -c .)" 0 "ARP broadcasts and multicast NSs reaching h2-0-1 once resolved"
lab_exec h0-0-0 ping -c 1 -W 1 198.18.9.9 >/dev/null 2>&1
t_assert_wait 5 "the miss for 198.18.9.9 was not flooded to h2-0-1 (capture: $(flooded))" \
    'flooded | grep -q "who-has 198.18.9.9 tell $(ft_host_ip4 h0-0-0)"'
t_capture_stop "$tdpid"

# --- O(k) state ---------------------------------------------------------------------------------
for sw in e0-0 a0-0 c0; do
    n=$("$FABRICCTL" -s "$LAB_TMP/switchd-$sw.sock" switch status --json | jq '[.counters | to_entries[] | select(.key | startswith("map.")) | .value] | add')
    t_log "$sw: $n map entries"
    [ "$n" -le 16 ] || t_fail "$sw holds $n map entries (k = 4: O(k))"
done

# --- ECMP: flows between pods spread over every core ------------------------------------------
core_down() { "$FABRICCTL" -s "$LAB_TMP/switchd-$1.sock" switch status --json | jq -r '.counters.forwarded_down'; }
# and out of h0-0-0's edge: its two uplinks' own counters (switch status, per port)
up_tx() { "$FABRICCTL" -s "$LAB_TMP/switchd-e0-0.sock" switch status --json |
    jq -r '[.location.ports[] | select(.dir == "DIR_UP") | .tx_frames // 0] | join(" ")'; }
declare -A before
for c in $(ft_cores); do before[$c]=$(core_down "$c"); done
read -r up0 up1 <<<"$(up_tx)"
# 256 UDP flows (one datagram each, source ports 20000..20255) from h0-0-0 to h3-1-1
lab_exec h0-0-0 "$T_PYTHON" -c 'import socket, sys
for p in range(20000, 20256):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", p))
    s.sendto(b"x" * 32, (sys.argv[1], 9))
    s.close()' "$(ft_host_ip4 h3-1-1)" || t_fail "UDP flows from h0-0-0"
sleep 0.3
spread=()
for c in $(ft_cores); do
    d=$(( $(core_down "$c") - before[$c] ))
    spread+=("$c=$d")
    [ "$d" -ge 10 ] || t_fail "core $c carried $d of 256 flows between pods 0 and 3 (${spread[*]})"
done
t_log "256 flows over the cores: ${spread[*]}"
read -r up0b up1b <<<"$(up_tx)"
t_log "e0-0's uplinks sent $((up0b - up0)) and $((up1b - up1)) of them"
[ $((up0b - up0)) -ge 60 ] && [ $((up1b - up1)) -ge 60 ] &&
    [ $((up0b - up0 + up1b - up1)) -ge 256 ] ||
    t_fail "e0-0's uplinks' counters: $((up0b - up0)) and $((up1b - up1)) of 256 flows"

# --- LDMs where none belongs ---------------------------------------------------------------------
# From h0-0-1 (e0-0's port p1): an LDM of version 9, then a well-formed LDM of an edge.
ldm() {   # VERSION: a whole frame, hex
    "$T_PYTHON" -c 'import struct, sys
v = int(sys.argv[1])
hdr = struct.pack("!BBH6sBBBBHB3x", v, 1, 20, bytes.fromhex("026600000001"), 1, 0, 0, 0, 0, 0)
print((bytes.fromhex("0180c200000e02660000000a88b5") + hdr + bytes(26)).hex())' "$1"
}
lab_exec h0-0-1 "$T_PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
for f in sys.argv[1:]:
    s.send(bytes.fromhex(f))' "$(ldm 9)" "$(ldm 1)" || t_fail "could not send LDMs from h0-0-1"
sw_counter() { "$FABRICCTL" -s "$LAB_TMP/switchd-$1.sock" switch status --json | jq -r ".counters[\"$2\"] // 0"; }
t_assert_wait 5 "e0-0 did not count the malformed LDM" '[ "$(sw_counter e0-0 ldp.dropped.ldp_version)" -ge 1 ]'
t_assert_wait 5 "e0-0 did not count the LDM on a host port" '[ "$(sw_counter e0-0 ldp.dropped.ldp_host_port)" -ge 1 ]'
mis() { ctl topo --json | jq -r '.[] | select(.name == "e0-0") | [.miswirings[] | "\(.port) \(.reason)"] | join(",")'; }
t_assert_wait 5 "the host-port LDM not reported as a miswiring: $(mis)" '[ "$(mis)" = "1 ldm_on_host_port" ]'
t_assert_eq "$(ctl status --json | jq -r '[.counters["portland.switches_miswired"], .counters["portland.miswirings"]] | join(" ")')" \
    "1 1" "fabricd's count of switches reporting miswirings, and of miswirings"
lab_exec h0-0-1 fping -q -r 3 -t 500 "$(ft_host_ip4 h3-1-1)" || t_fail "h0-0-1 cut off after its LDMs"

# --- metrics ----------------------------------------------------------------------------------
if command -v promtool >/dev/null; then
    lab_exec e0-0 curl -sf http://127.0.0.1:9734/metrics >"$LAB_TMP/metrics.txt" || t_fail "switchd metrics"
    promtool check metrics <"$LAB_TMP/metrics.txt" || t_fail "promtool check metrics on switchd's"
    grep -q '^l2f_switchd_verdicts_total{verdict="to_host"} [1-9]' "$LAB_TMP/metrics.txt" ||
        t_fail "switchd's metrics: no frames to hosts: $(grep verdict "$LAB_TMP/metrics.txt")"
    grep -q '^l2f_switchd_located 1$' "$LAB_TMP/metrics.txt" || t_fail "switchd's metrics: not located"
fi

# --- kill -9 and restart: forwarding goes on --------------------------------------------------
lab_exec h0-0-0 ping -i 0.01 -c 300 -q "$(ft_host_ip4 h3-1-1)" >"$LAB_TMP/ping.out" 2>&1 &
ppid=$!
sleep 0.5
kill -9 "${FT_SWITCHD_PID[e0-0]}"
sleep 0.5
start_sw e0-0
wait "$ppid"
t_log "ping across e0-0's kill -9 and restart: $(grep -o '[0-9]* received.*loss' "$LAB_TMP/ping.out")"
grep -q " 0% packet loss" "$LAB_TMP/ping.out" || t_fail "pings lost across e0-0's restart: $(cat "$LAB_TMP/ping.out")"
t_assert_wait 10 "e0-0 did not locate again" located

# --- a silent link: carrier up, frames lost (the data plane's fault flag: no netem here) ------
# e0-0 p2 <-> a0-0 p0. Both ends lose the neighbour from missed LDMs, and e0-0 repairs
# locally: its flows up leave p2 (its own per-port counters). Then the link carries again: the
# neighbours are back and flows take p2 again.
DPCTL=$T_BUILD/tests/tools/dpctl
fault() { lab_exec "$1" "$DPCTL" -d "$BPFFS/$1" fault "$2" "$3" || t_fail "dpctl fault $*"; }
port_tx() { sw_ctl e0-0 switch status --json |
    jq -r --arg p "$1" '.location.ports[] | select(.name == $p) | .tx_frames // 0'; }
peer_of() { sw_ctl e0-0 switch status --json |
    jq -r --arg p "$1" '.location.ports[] | select(.name == $p) | .peer_level // "none"'; }
flows() {   # FIRST_SPORT: 64 one-datagram UDP flows from h0-0-0 to h3-1-1
    lab_exec h0-0-0 "$T_PYTHON" -c 'import socket, sys
for p in range(int(sys.argv[2]), int(sys.argv[2]) + 64):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", p))
    s.sendto(b"x" * 32, (sys.argv[1], 9))
    s.close()' "$(ft_host_ip4 h3-1-1)" "$1" || t_fail "UDP flows from h0-0-0"
    sleep 0.3
}
t_assert_eq "$(peer_of p2)" LEVEL_AGGREGATION "e0-0 p2's neighbour before the fault"
lost_e=$(sw_counter e0-0 ldp.neighbours_lost) lost_a=$(sw_counter a0-0 ldp.neighbours_lost)
fault e0-0 p2 on
fault a0-0 p0 on
t_assert_wait 3 "e0-0 did not lose a0-0" '[ "$(sw_counter e0-0 ldp.neighbours_lost)" -gt "$lost_e" ]'
t_assert_wait 3 "a0-0 did not lose e0-0" '[ "$(sw_counter a0-0 ldp.neighbours_lost)" -gt "$lost_a" ]'
t_assert_eq "$(peer_of p2)" LEVEL_AGGREGATION "e0-0 p2's lost neighbour, still named"
lost_ports() { sw_ctl e0-0 switch status --json | jq -r '[.location.ports[] | select(.lost) | .name] | join(",")'; }
t_assert_eq "$(lost_ports)" p2 "e0-0's ports with a lost neighbour"
# fabricd's fault list: the link, reported by both its ends
faults() { ctl faults --json | jq -r 'map(.name as $s | .ports[] | "\($s) \(.name) \(.peer_port) \(.lost_since_ms > 0)") | sort | join(",")'; }
t_assert_wait 3 "fabricd's faults: $(ctl faults 2>&1)" '[ "$(faults)" = "a0-0 p0 2 true,e0-0 p2 0 true" ]'
ctl faults | sed 's/^/  /'
t2=$(port_tx p2) t3=$(port_tx p3)
flows 21000
d2=$(( $(port_tx p2) - t2 )) d3=$(( $(port_tx p3) - t3 ))
t_log "64 flows up from e0-0 during the fault: p2 $d2, p3 $d3"
[ "$d2" = 0 ] && [ "$d3" -ge 64 ] || t_fail "e0-0 still sends up the silent link: p2 $d2, p3 $d3 of 64"
[ "$(sw_counter a0-0 dropped_fault)" -gt 0 ] || t_fail "a0-0 counted nothing dropped by the fault"
fault e0-0 p2 off
fault a0-0 p0 off
t_assert_wait 3 "e0-0 p2's neighbour not back: $(lost_ports)" '[ -z "$(lost_ports)" ]'
t_assert_wait 3 "fabricd's faults after the repair: $(ctl faults 2>&1)" '[ -z "$(faults)" ]'
t2=$(port_tx p2) t3=$(port_tx p3)
flows 22000
d2=$(( $(port_tx p2) - t2 )) d3=$(( $(port_tx p3) - t3 ))
t_log "64 flows up from e0-0 after the repair: p2 $d2, p3 $d3"
[ "$d2" -ge 10 ] && [ "$d3" -ge 10 ] || t_fail "e0-0 does not use p2 again: p2 $d2, p3 $d3 of 64"
t_pass
