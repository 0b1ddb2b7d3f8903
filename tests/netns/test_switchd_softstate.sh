#!/usr/bin/env bash
# shellcheck disable=SC2016  # conditions eval'd by t_assert_wait
# test_switchd_softstate.sh — PortLand's state is soft (paper §3.1: the fabric manager's state
# is rebuilt from the switches): on a k=4 fat tree (lab/fattree.sh), during a ping matrix of
# four flows between pods (10 ms apart) and with a core link down (a fault row in force):
#  1. fabricd is killed with -9 and started again with nothing kept. The pings lose nothing
#     (the switches forward from their pinned maps meanwhile); the new fabricd has the same
#     tree (every switch's level, pod and position), the same hosts with the same PMACs (the
#     edges register them again), takes the four pods back from the position-0 edges
#     (portland.pods_adopted), and, its view complete, sends the same fault rows as before;
#     the multicast group two hosts in two pods joined comes back from the edges' reports
#     with the same members, and a sender's datagrams reach both after the restart;
#  2. an aggregation switch's and a core's switchd are killed with -9 and started again: the
#     pings lose nothing, each locates where it was, and no host moves (fabricd's PMACs and
#     portland.hosts_moved unchanged).
# A restarted edge's switchd is test_switchd_fattree's.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/switchd_lib.sh
. "$(dirname "$0")/switchd_lib.sh"
t_require_root
t_require_cmd jq fping
sw_lab 4
FM_PID=$FT_LAST_PID
sw_start_all

located() { [ "$(ctl topo --json 2>/dev/null | jq '[.[] | select(.located)] | length')" = 20 ]; }
t_assert_wait 20 "not every switch located: $(ctl topo 2>&1 | head -22)" located
MCPIDS=()
mapfile -t HOSTS < <(ft_hosts)
all4=()
for h in "${HOSTS[@]}"; do all4+=("$(ft_host_ip4 "$h")"); done
for h in "${HOSTS[@]}"; do
    lab_exec "$h" fping -q -r 3 -t 500 "${all4[@]}" || t_fail "$h does not reach every host"
done

tree() { ctl topo --json 2>/dev/null | jq -r '.[] | "\(.name) \(.level) \(.pod // "-") \(.position // "-")"' | sort; }
hosts() { ctl hosts --json 2>/dev/null | jq -r '.[] | "\(.ip) \(.amac) \(.pmac) \(.edge) \(.port)"' | sort; }
counter() { ctl status --json 2>/dev/null | jq -r ".counters[\"portland.$1\"] // 0"; }
rows() {
    ctl faults --json 2>/dev/null | jq -r 'map(.name as $s | (.avoid // [])[] |
        "\($s) \(.pod).\(.position // "*") \([.avoid[]] | join(","))") | sort | .[]'
}
groups() { ctl groups --json 2>/dev/null | jq -r '.[] | "\(.group) \([.members[] | "\(.switch_name):\(.port)"] | sort | join(","))"' | sort; }
cores() { ctl groups --json 2>/dev/null | jq -r '.[] | "\(.group) \([.cores[]] | join(","))"' | sort; }
nhosts=$(hosts | grep -c .)
t_assert_eq "$nhosts" "${#HOSTS[@]}" "hosts registered with fabricd"

# a core link down: fault rows in force across the restarts
ft_link_down a0-0 p2
t_assert_wait 5 "no fault rows for a0-0 p2 down: $(ctl faults 2>&1)" '[ "$(rows | grep -c .)" = 3 ]'
# a multicast group with members in two pods, held across fabricd's restart
G=239.1.2.3
for h in h1-1-0 h2-0-1; do
    lab_exec "$h" "$T_PYTHON" "$T_ROOT/lab/udpprobe.py" recv 9500 60 4 $G >"$LAB_TMP/mc-$h" 2>&1 &
    MCPIDS+=($!)
done
t_assert_wait 5 "the group's two members not at fabricd: $(ctl groups 2>&1)" \
    '[ "$(groups | grep -c "^$G [^,]*,[^,]*$")" = 1 ]'
TREE=$(tree) HOSTS_BEFORE=$(hosts) ROWS=$(rows) GROUPS_BEFORE=$(groups) CORES_BEFORE=$(cores)
t_log "the tree, $nhosts hosts and $(echo "$ROWS" | grep -c .) fault rows recorded"

# FROM TO pairs across pods, each pinging for the whole of one phase
PAIRS=("h0-0-0 h3-1-1" "h1-0-1 h2-1-0" "h2-0-0 h0-1-1" "h3-0-0 h1-1-1")
matrix_start() {   # COUNT: pings of every pair, 10 ms apart, into $LAB_TMP/ping-PHASE-N
    local n=0 pair
    MPIDS=()
    for pair in "${PAIRS[@]}"; do
        set -- $pair
        lab_exec "$1" ping -i 0.01 -c "$COUNT" -q "$(ft_host_ip4 "$2")" >"$LAB_TMP/ping-$PHASE-$n" 2>&1 &
        MPIDS+=($!)
        n=$((n + 1))
    done
}
matrix_check() {
    local n=0 pair f
    wait "${MPIDS[@]}"
    for pair in "${PAIRS[@]}"; do
        f=$LAB_TMP/ping-$PHASE-$n
        t_log "$PHASE: $pair: $(grep -o '[0-9]* packets transmitted.*loss' "$f")"
        grep -q " 0% packet loss" "$f" || t_fail "$PHASE: pings lost ($pair): $(cat "$f")"
        n=$((n + 1))
    done
}

# --- 1. fabricd kill -9 and restart ------------------------------------------------------------
PHASE=fabricd COUNT=600
matrix_start
sleep 0.5
kill -9 "$FM_PID"
t_assert_wait 5 "fabricd (pid $FM_PID) did not die" '! kill -0 "$FM_PID" 2>/dev/null'
rm -f "$SOCK"
sleep 1
# shellcheck disable=SC2046  # ft_tls prints options
ft_start fm fabricd "$T_BUILD/fabricd/fabricd" -f -l "$FT_CTL_NET.1:$FT_FM_PORT" \
    $(ft_tls fabricd fm) -s "$SOCK" -S none
FM_PID=$FT_LAST_PID
t_assert_wait 5 "fabricd did not start again" test -S "$SOCK"
t_assert_wait 10 "not every switch located with the new fabricd: $(ctl topo 2>&1 | head -22)" located
t_assert_wait 10 "the tree after fabricd's restart: $(diff <(echo "$TREE") <(tree))" '[ "$(tree)" = "$TREE" ]'
t_assert_wait 10 "the hosts after fabricd's restart: $(diff <(echo "$HOSTS_BEFORE") <(hosts))" \
    '[ "$(hosts)" = "$HOSTS_BEFORE" ]'
t_assert_wait 10 "the fault rows after fabricd's restart: $(rows)" '[ "$(rows)" = "$ROWS" ]'
t_assert_wait 10 "the groups after fabricd's restart: $(groups)" '[ "$(groups)" = "$GROUPS_BEFORE" ]'
# the trees are computed from the whole view (held until it is complete): the same core, so the
# switches' pinned tables stay right (a tree from the first switches to reconnect moved the
# group to whichever core reported first, and left the others on the old one)
t_assert_eq "$(cores)" "$CORES_BEFORE" "the groups' cores after fabricd's restart"
t_assert_eq "$(counter pods_adopted)" 4 "pods the new fabricd took back from the position-0 edges"
t_assert_eq "$(counter pods_assigned)" 4 "pods the new fabricd counts as given"
t_assert_eq "$(counter faults.view_complete)" 1 "the new fabricd's view complete"
matrix_check
grep -q "view complete after" "$FT_LAST_LOG" || t_fail "the new fabricd did not log its view complete"
sleep 0.5   # the new trees in the switches
lab_exec h0-0-0 "$T_PYTHON" "$T_ROOT/lab/udpprobe.py" send $G 9500 200 1 || t_fail "udpprobe send to $G"
wait "${MCPIDS[@]}"
for h in h1-1-0 h2-0-1; do
    t_log "$G after fabricd's restart: $h $(cat "$LAB_TMP/mc-$h")"
    grep -q "^received 200 lost 0 " "$LAB_TMP/mc-$h" || t_fail "$h did not get the group's 200 datagrams: $(cat "$LAB_TMP/mc-$h")"
done

# --- 2. an aggregation switch's and a core's switchd kill -9 and restart -----------------------
moved=$(counter hosts_moved)
for sw in a1-1 c3; do
    PHASE=$sw COUNT=300
    matrix_start
    sleep 0.5
    kill -9 "${FT_SWITCHD_PID[$sw]}"
    sleep 0.5
    sw_start "$sw"
    matrix_check
    t_assert_wait 10 "the tree after $sw's restart: $(diff <(echo "$TREE") <(tree))" '[ "$(tree)" = "$TREE" ]'
done
t_assert_eq "$(hosts)" "$HOSTS_BEFORE" "the hosts (their PMACs) after the switches' restarts"
t_assert_eq "$(counter hosts_moved)" "$moved" "hosts moved by the switches' restarts"
t_assert_eq "$(rows)" "$ROWS" "the fault rows after the switches' restarts"

ft_link_up a0-0 p2
t_assert_wait 5 "the rows after the repair: $(rows)" '[ -z "$(rows)" ]'
t_pass "fabricd and two switchds restarted with -9 under a ping matrix: nothing lost, state rebuilt"
