#!/usr/bin/env bash
# shellcheck disable=SC2016  # conditions eval'd by t_assert_wait
# test_switchd_faults.sh — PortLand's fault matrix on a k=4 fat tree (lab/fattree.sh), as the
# switches, fabricd and the hosts see it. Four faults in turn, each then repaired:
#  1. a core link's carrier goes (a0-0 p2 <-> c0 p0, ip link set down): both ends report it
#     (fabricctl faults: carrier); fabricd tells exactly the aggregation switches of the other
#     pods that reach c0 (a1-0, a2-0, a3-0: three messages) to avoid c0 for the whole of pod 0;
#     256 UDP flows from pod 3 to pod 0 all arrive, and none leaves a3-0 towards c0 (a3-0's
#     per-port counters);
#  2. an edge-aggregation link goes silent (e0-0 p2 <-> a0-0 p0: the data plane's fault flag
#     on both ends, carrier up): fabricd tells the seven edges that must route around it (e0-1
#     and the six of the other pods) to avoid, for e0-0 only, the aggregation switch whose
#     cores lead to a0-0; the flows all arrive and none goes down a0-0 p0 (its counter); a
#     ping from another pod across the fault goes on;
#  3. two at once that leave pod 0 reachable from each core only in part (e0-0 - a0-0 silent,
#     e0-1 - a0-1 carrier): a pod-wide mask could not route around them; per-edge entries do,
#     and flows from pod 3 reach both edges of pod 0;
#  4. after each repair: the rows are empty again (fabricd's counters, fabricctl faults), and
#     flows use the link again (its counter moves).
# A link is dead for fabricd when either end says so; the switches' own local repair (the
# port out of their up group) comes first and is what test_switchd_fattree checks.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/switchd_lib.sh
. "$(dirname "$0")/switchd_lib.sh"
t_require_root
t_require_cmd jq fping
sw_lab 4
sw_start_all

located() { [ "$(ctl topo --json | jq '[.[] | select(.located)] | length')" = 20 ]; }
t_assert_wait 20 "not every switch located: $(ctl topo 2>&1 | head -22)" located
mapfile -t HOSTS < <(ft_hosts)
all4=()
for h in "${HOSTS[@]}"; do all4+=("$(ft_host_ip4 "$h")"); done
for h in h0-0-0 h0-1-0 h3-1-1 h2-0-0; do
    lab_exec "$h" fping -q -r 3 -t 500 "${all4[@]}" || t_fail "$h does not reach every host before the faults"
done
POD0=$(ctl topo --json | jq -r '.[] | select(.name == "e0-0") | .pod')
t_log "physical pod 0 is pod $POD0"

DPCTL=$T_BUILD/tests/tools/dpctl
fault() { lab_exec "$1" "$DPCTL" -d "$BPFFS/$1" fault "$2" "$3" || t_fail "dpctl fault $*"; }
fm_counter() { ctl status --json | jq -r ".counters[\"portland.faults.$1\"] // 0"; }
tx() {   # SW PORT: frames the data plane sent out of that port
    sw_ctl "$1" switch status --json | jq -r --arg p "$2" '.location.ports[] | select(.name == $p) | .tx_frames // 0'
}
# The matrix as fabricd holds it: "SWITCH POD.POSITION AVOIDS" lines, sorted (* for a pod).
rows() {
    ctl faults --json | jq -r 'map(.name as $s | (.avoid // [])[] |
        "\($s) \(.pod).\(.position // "*") \([.avoid[]] | join(","))") | sort | .[]'
}
idof() { ft_switch_id "$1"; }
# FROM TO FIRST_SPORT: 256 one-datagram UDP flows; prints how many TO received.
flows() {
    local out=$LAB_TMP/recv-$2-$3
    lab_exec "$2" "$T_PYTHON" -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9999))
s.settimeout(1.0)
n, end = 0, time.time() + 10
open(sys.argv[1] + ".ready", "w").close()
while time.time() < end:
    try:
        s.recv(64)
        n += 1
    except socket.timeout:
        if n:
            break
print(n)' "$out" >"$out" 2>&1 &
    local rpid=$! i
    for ((i = 0; i < 50; i++)); do [ -e "$out.ready" ] && break; sleep 0.05; done
    lab_exec "$1" "$T_PYTHON" -c 'import socket, sys
for p in range(int(sys.argv[2]), int(sys.argv[2]) + 256):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", p))
    s.sendto(b"x" * 32, (sys.argv[1], 9999))
    s.close()' "$(ft_host_ip4 "$2")" "$3" || t_fail "UDP flows from $1"
    wait "$rpid"
    cat "$out"
}
t_assert_eq "$(rows)" "" "the matrix before any fault"

# --- 1. a core link's carrier -----------------------------------------------------------------
m0=$(fm_counter messages)
ft_link_down a0-0 p2
down_reports() { ctl faults --json | jq -r 'map(.name as $s | .ports[] | select(.down) | "\($s) \(.name)") | sort | join(",")'; }
t_assert_wait 3 "both ends of a0-0 p2 - c0 p0 not reported down: $(ctl faults 2>&1)" \
    '[ "$(down_reports)" = "a0-0 p2,c0 p0" ]'
want=$(for a in a1-0 a2-0 a3-0; do echo "$a $POD0.* $(idof c0)"; done)
t_assert_wait 3 "the rows for a dead core link: $(rows)" '[ "$(rows)" = "$want" ]'
ctl faults | sed 's/^/  /'
# one per switch told; two more when c0 reports before a0-0 does: until then a0-0 itself is
# told to avoid c0 (a link one end says is dead is dead both ways), and then no more
n=$(( $(fm_counter messages) - m0 ))
t_log "fabricd's messages for the core link: $n"
[ "$n" -ge 3 ] && [ "$n" -le 5 ] || t_fail "fabricd sent $n messages for one core link (3 switches to tell)"
c0_before=$(tx a3-0 p2) c1_before=$(tx a3-0 p3)
got=$(flows h3-1-1 h0-0-0 30000)
t_log "core link down: h0-0-0 received $got of 256; a3-0 sent $(( $(tx a3-0 p2) - c0_before )) to c0, $(( $(tx a3-0 p3) - c1_before )) to c1"
t_assert_eq "$got" 256 "flows from pod 3 to pod 0 with a0-0 - c0 down"
t_assert_eq "$(( $(tx a3-0 p2) - c0_before ))" 0 "frames a3-0 sent to c0 for pod 0 during the fault"
ft_link_up a0-0 p2
t_assert_wait 5 "the rows after the core link's repair: $(rows)" '[ -z "$(rows)" ]'
t_assert_wait 3 "a0-0 p2 still reported: $(down_reports)" '[ -z "$(down_reports)" ]'
c0_before=$(tx a3-0 p2)
got=$(flows h3-1-1 h0-0-0 30300)
t_assert_eq "$got" 256 "flows after the core link's repair"
[ $(( $(tx a3-0 p2) - c0_before )) -gt 0 ] || t_fail "a3-0 does not send to c0 again after the repair"

# --- 2. a silent edge-aggregation link ----------------------------------------------------------
POS=$(ctl topo --json | jq -r '.[] | select(.name == "e0-0") | .position')
m0=$(fm_counter messages)
lab_exec h2-0-0 ping -i 0.01 -c 400 -q "$(ft_host_ip4 h0-0-0)" >"$LAB_TMP/ping2.out" 2>&1 &
ppid=$!
sleep 0.5
fault e0-0 p2 on
fault a0-0 p0 on
want=$( (echo "e0-1 $POD0.$POS $(idof a0-0)"
    for p in 1 2 3; do for i in 0 1; do echo "e$p-$i $POD0.$POS $(idof "a$p-0")"; done; done) | sort)
t_assert_wait 3 "the rows for a silent edge link: $(rows)" '[ "$(rows)" = "$want" ]'
ctl faults | sed 's/^/  /'
n=$(( $(fm_counter messages) - m0 ))   # as above: 7, or 9 when a0-0 reports first
t_log "fabricd's messages for the edge link: $n"
[ "$n" -ge 7 ] && [ "$n" -le 9 ] || t_fail "fabricd sent $n messages for one edge link (7 switches to tell)"
a_before=$(tx a0-0 p0)
got=$(flows h3-1-1 h0-0-0 31000)
t_log "edge link silent: h0-0-0 received $got of 256; a0-0 sent $(( $(tx a0-0 p0) - a_before )) down the dead link"
t_assert_eq "$got" 256 "flows from pod 3 to e0-0 with e0-0 - a0-0 silent"
t_assert_eq "$(( $(tx a0-0 p0) - a_before ))" 0 "frames a0-0 sent down the silent link"
got=$(flows h0-1-0 h0-0-0 31300)
t_assert_eq "$got" 256 "flows from e0-1 to e0-0 (same pod) with e0-0 - a0-0 silent"
wait "$ppid"
t_log "ping h2-0-0 -> h0-0-0 across the silent link: $(grep -o '[0-9]* received' "$LAB_TMP/ping2.out")"
grep -q " 400 received" "$LAB_TMP/ping2.out" || t_log "(some lost while the fault was being found: $(cat "$LAB_TMP/ping2.out"))"
grep -qE " (39[0-9]|400) received" "$LAB_TMP/ping2.out" || t_fail "the ping across the silent link did not go on: $(cat "$LAB_TMP/ping2.out")"
fault e0-0 p2 off
fault a0-0 p0 off
t_assert_wait 5 "the rows after the edge link's repair: $(rows)" '[ -z "$(rows)" ]'
a_before=$(tx a0-0 p0)
got=$(flows h3-1-1 h0-0-0 31600)
t_assert_eq "$got" 256 "flows after the edge link's repair"
[ $(( $(tx a0-0 p0) - a_before )) -gt 0 ] || t_fail "a0-0 does not send down p0 again after the repair"

# --- 3. two at once: each core reaches pod 0 only in part --------------------------------------
fault e0-0 p2 on
fault a0-0 p0 on
ft_link_down e0-1 p3
POS1=$(ctl topo --json | jq -r '.[] | select(.name == "e0-1") | .position')
e30() { rows | awk '$1 == "e3-0"' | sort; }
want=$(printf '%s\n' "e3-0 $POD0.$POS $(idof a3-0)" "e3-0 $POD0.$POS1 $(idof a3-1)" | sort)
t_assert_wait 3 "e3-0's row for the two faults: $(rows)" '[ "$(e30)" = "$want" ]'
ctl faults | sed 's/^/  /'
for dst in h0-0-0 h0-1-0; do
    got=$(flows h3-0-0 "$dst" 32000)
    t_log "two faults: $dst received $got of 256"
    t_assert_eq "$got" 256 "flows from pod 3 to $dst with both faults"
done
fault e0-0 p2 off
fault a0-0 p0 off
ft_link_up e0-1 p3
t_assert_wait 5 "the rows after both repairs: $(rows)" '[ -z "$(rows)" ]'
t_assert_eq "$(fm_counter entries)" 0 "fabricd's matrix entries after the repairs"
for h in h0-0-0 h0-1-0 h3-1-1; do
    lab_exec "$h" fping -q -r 3 -t 500 "${all4[@]}" || t_fail "$h does not reach every host after the repairs"
done
t_pass
