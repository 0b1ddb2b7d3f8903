#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2119  # conditions eval'd by t_assert_wait; optional arguments
# test_switchd_ldp.sh — PortLand's location discovery on a k=4 fat tree, as fabricctl topo
# shows it:
#  - three runs, each with every switchd started in another random order (and stopped after):
#    the answer is the same every time: each switch at its wiring's level, the edges and
#    aggregations of a physical pod sharing one pod number (distinct across pods), the edges
#    of a pod at positions 0 and 1, cores without a pod;
#  - a miswired tree (a host link of e0-0 and one of e1-0 replaced by a cable joining the two
#    edges): both ends report the port as edge_to_edge, the port gets no role, and every
#    switch still locates.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/switchd_lib.sh
. "$(dirname "$0")/switchd_lib.sh"
t_require_root
t_require_cmd jq shuf
sw_lab 4
start_all() { sw_start_all; }
stop_all() { local sw; for sw in $(ft_switches); do ft_stop_switchd "$sw"; done; }
located() {   # every switch connected now and located
    [ "$(ctl topo --json | jq '[.[] | select(.located and .connected)] | length')" = 20 ]
}
# The answer, without the pod numbers themselves (they depend on which edge asks first):
# each switch's level, its pod named by the lowest edge of that pod, and an edge's position
# set per pod.
answer() {
    ctl topo --json | jq -r '
        (map(select(.level == "LEVEL_EDGE")) | group_by(.pod) |
         map({key: (.[0].pod | tostring), value: (map(.name) | sort | .[0])}) | from_entries) as $pn
        | sort_by(.name)[]
        | "\(.name) \(.level) \(if .pod == null then "-" else $pn[.pod | tostring] end)"'
    ctl topo --json | jq -r 'map(select(.level == "LEVEL_EDGE")) | group_by(.pod)[] |
        "positions " + (map(.position) | sort | map(tostring) | join(","))'
}

first=
for run in 1 2 3; do
    start_all
    t_assert_wait 20 "run $run: not every switch located: $(ctl topo 2>&1 | head -22)" located
    ans=$(answer)
    if [ -z "$first" ]; then
        first=$ans
        for sw in $(ft_switches); do
            case $(ft_level "$sw") in
                edge) want=LEVEL_EDGE ;; agg) want=LEVEL_AGGREGATION ;; core) want=LEVEL_CORE ;;
            esac
            grep -q "^$sw $want " <<<"$ans" || t_fail "run 1: $sw not at $want: $(grep "^$sw " <<<"$ans")"
        done
        for p in 0 1 2 3; do
            for sw in "e$p-1" "a$p-0" "a$p-1"; do
                grep -q "^$sw [A-Z_]* e$p-0$" <<<"$ans" || t_fail "run 1: $sw not in e$p-0's pod: $ans"
            done
        done
        t_assert_eq "$(grep -c '^c[0-9] LEVEL_CORE -$' <<<"$ans")" 4 "run 1: cores without a pod"
        t_assert_eq "$(grep -c '^positions 0,1$' <<<"$ans")" 4 "run 1: each pod's edges at 0 and 1"
    else
        t_assert_eq "$ans" "$first" "run $run's answer against run 1's"
    fi
    stop_all
    t_assert_wait 5 "switches still connected after the stop" \
        '[ "$(ctl topo --json | jq "[.[] | select(.connected)] | length")" = 0 ]'
done

# --- a miswired tree: e0-0 p1 cabled to e1-0 p1 (their second hosts unplugged) -----------------
lab_exec e0-0 ip link del p1 || t_fail "unplug e0-0 p1"
lab_exec e1-0 ip link del p1 || t_fail "unplug e1-0 p1"
lab_exec e0-0 ip link add p1 index 990 type veth peer p1 index 991 netns "$(lab_ns e1-0)" ||
    t_fail "cable e0-0 p1 to e1-0 p1"
lab_exec e0-0 ip link set p1 up && lab_exec e1-0 ip link set p1 up || t_fail "link up"
start_all
t_assert_wait 20 "miswired tree: not every switch located: $(ctl topo 2>&1 | head -22)" located
mis() { ctl topo --json | jq -r --arg n "$1" '.[] | select(.name == $n) | [.miswirings[] | "\(.port) \(.reason)"] | join(",")'; }
t_assert_wait 5 "e0-0 did not report its miswired port: $(mis e0-0)" '[ "$(mis e0-0)" = "1 edge_to_edge" ]'
t_assert_wait 5 "e1-0 did not report its miswired port: $(mis e1-0)" '[ "$(mis e1-0)" = "1 edge_to_edge" ]'
t_assert_eq "$(ctl topo --json | jq -r '.[] | select(.name == "e0-0") | .ports[1].dir')" DIR_UNKNOWN \
    "the miswired port has no direction"
t_assert_eq "$(ctl topo --json | jq '[.[] | .miswirings[]] | length')" 2 "miswirings reported in all"
ctl topo | grep -A3 "^miswirings" | sed 's/^/  /'
t_pass
