#!/usr/bin/env bash
# test_fabricd_portland.sh — fabricd as PortLand's fabric manager (fabricd/portland.c), with
# switches played by tests/tools/plpeer on its Unix socket (role switchd):
#  - the edge at position 0 gets a pod number, the same one when it asks again;
#  - a host it registers is answered from memory (its PMAC); an address nobody registered is
#    a miss, and the miss the edge sends is flooded to the other located edge;
#  - 200 misses at once: only a burst of them is flooded (rate limit), the rest counted;
#  - refused and counted, the session going on: a PMAC of another position, a host on an up
#    port, a multicast address, hosts and a pod request from an aggregation switch, a group
#    member on an up port (fabricctl groups shows only the host port's); a switch
#    claiming another's switch id is closed;
#  - a host registered again by e1 (same IP and AMAC, e1's port 1) has moved: fabricd tells
#    e0 (HostMoved, old and new PMAC) and fabricctl hosts shows the move; e0 sending a
#    HostMoved itself (fabricd's message) is closed; the host moves back to e0 while e1 is
#    away, and e1, back, registering it again as it had it, is told the move instead;
#  - fabricctl hosts and topo show what the switches said, with --json;
#  - multicast bounds (plpeer mcast): an edge sending 100 membership reports at once has some
#    refused and counted (portland.mcast.reports_rate_limited; at least its burst taken) and
#    fabricd holds its last report taken, while another edge's five reports all go through;
#    an edge reporting 600 groups has 512 taken (portland.mcast.groups_over_edge_cap: 88),
#    and the other edge still adds a group.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd jq
PLPEER=$T_BUILD/tests/tools/plpeer
[ -x "$PLPEER" ] || t_skip "plpeer not built"

lab_tmpdir
lab_ns_add m
lab_exec m ip link set lo up
SOCK=$LAB_TMP/fabricd.sock
lab_bg m "$LAB_TMP/fabricd.log" "$T_BUILD/fabricd/fabricd" -f -s "$SOCK" -S none -i fm
t_assert_wait 5 "fabricd did not start" test -S "$SOCK"
ctl() { lab_exec m "$FABRICCTL" -s "$SOCK" "$@"; }

out=$(lab_exec m "$PLPEER" "$SOCK" scenario) || t_fail "plpeer scenario: $out"
val() { awk -v k="$1" '$1 == k { print $2 }' <<<"$out"; }
t_log "$(tr '\n' ' ' <<<"$out")"
pod=$(val pod)
[ -n "$pod" ] || t_fail "no pod for e0"
t_assert_eq "$(val pod_again)" "$pod" "the pod of e0, asked again"
pmac=$(printf '%02x:%02x:00:00:00:01' $(( (pod >> 8) << 2 | 2 )) $((pod & 255)))
t_assert_eq "$(val hit)" "$pmac" "the PMAC answered for 198.18.0.10 (pod.0.0.1)"
t_assert_eq "$(val miss)" 198.18.0.99 "a miss for an address nobody registered"
t_assert_eq "$(val flood_e1)" 198.18.0.99 "the miss flooded to e1"
burst=$(val burst_floods_e1)
[ "$burst" -gt 0 ] && [ "$burst" -le 50 ] || t_fail "200 misses at once: e1 flooded $burst, want 1..50"
t_assert_eq "$(val dup_closed)" yes "a switch claiming e0's switch id"
pmac1=$(printf '%02x:%02x:01:01:00:01' $(( (pod >> 8) << 2 | 2 )) $((pod & 255)))
t_assert_eq "$(val moved_e0)" "$pmac>$pmac1" "the move fabricd told e0 (old PMAC > new)"
t_assert_eq "$(val moved_closed)" yes "a switch sending HostMoved"
t_assert_eq "$(val late_e1)" yes "the old edge, back after a move it missed, told it"

st=$(ctl status --json) || t_fail "fabricctl status"
c() { jq -r ".counters[\"portland.$1\"]" <<<"$st"; }
t_assert_eq "$(c refused.pmac_not_its_own)" 2 "refused: PMACs not of e0's position or host ports"
t_assert_eq "$(c refused.address_not_a_host)" 1 "refused: a multicast host address"
t_assert_eq "$(c refused.not_a_located_edge)" 1 "refused: hosts from an aggregation switch"
t_assert_eq "$(c refused.pod_request)" 1 "refused: a pod asked by an aggregation switch"
t_assert_eq "$(c refused.switch_id_taken)" 1 "refused: a switch id already held"
t_assert_eq "$(c refused.mcast_not_a_host_port)" 1 "refused: a group member on an up port"
t_assert_eq "$(ctl groups --json | jq -c '[.[] | [.group, [.members[] | "\(.switch_name):\(.port)"]]]')" \
    '[["239.1.1.1",["e0:0"]]]' "fabricctl groups: e0's member on its host port only"
t_assert_eq "$(c hits) $(c misses)" "1 1" "answers from memory and misses"
t_assert_eq "$(c moves_told) $(c moves_untold) $(c moves_told_late)" "1 1 1" "moves told, untold, told late"
t_assert_eq "$(( $(c flood_rate_limited) + burst ))" 200 "misses of the burst flooded or counted"

hosts=$(ctl hosts --json) || t_fail "fabricctl hosts --json"
t_assert_eq "$(jq -c '[.[] | [.ip, .amac, .pmac, .edge, .port, .moves, .moved_from, .moved_from_pmac]]' <<<"$hosts")" \
    "[[\"198.18.0.10\",\"02:aa:00:00:00:0a\",\"$pmac\",\"e0\",0,2,\"e1\",\"$pmac1\"]]" "fabricctl hosts: the one host, moved there and back"
jq -e '.[0].moved_at_ms > 0' <<<"$hosts" >/dev/null || t_fail "fabricctl hosts --json: no time for the move"
ctl hosts | grep -q "^198.18.0.10 .* $pmac .*e0 .* 2 .* e1 $pmac1 " || t_fail "fabricctl hosts (table): $(ctl hosts)"
topo=$(ctl topo --json) || t_fail "fabricctl topo --json"
t_assert_eq "$(jq -c '[.[] | [.name, .level, .pod, .position, .located]] | sort' <<<"$topo")" \
    "[[\"a0\",\"LEVEL_AGGREGATION\",$pod,null,true],[\"e0\",\"LEVEL_EDGE\",$pod,0,true],[\"e1\",\"LEVEL_EDGE\",$pod,1,true]]" \
    "fabricctl topo: the switches that reported (not the one refused)"
t_assert_eq "$(jq -r '.[] | select(.name == "e0") | [.ports[] | .dir] | join(",")' <<<"$topo")" \
    DIR_HOST,DIR_HOST,DIR_UP,DIR_UP "e0's ports"
ctl topo | grep -q "^e0 .* edge " || t_fail "fabricctl topo (table): $(ctl topo)"

# --- multicast: the report rate and the groups of an edge --------------------------------
reports0=$(c mcast.reports)
mout=$(lab_exec m "$PLPEER" "$SOCK" mcast-rate "$pod") || t_fail "plpeer mcast-rate: $mout"
t_assert_eq "$mout" done "plpeer mcast-rate"
st=$(ctl status --json) || t_fail "fabricctl status"
limited=$(c mcast.reports_rate_limited)
[ "$limited" -ge 1 ] && [ "$limited" -le 80 ] \
    || t_fail "100 reports at once from m0: $limited refused, want 1..80 (a burst of 20 taken)"
t_assert_eq "$(( $(c mcast.reports) - reports0 + limited ))" 105 "m0's and m1's reports, taken or refused"
groups=$(ctl groups --json) || t_fail "fabricctl groups --json"
of() { jq -r --arg sw "$1" --arg p "$2" '[.[] | select(.group | startswith($p)) | select(any(.members[]; .switch_name == $sw)) | .group] | sort_by(split(".") | map(tonumber)) | join(",")' <<<"$groups"; }
t_assert_eq "$(of m1 239.2.1.)" "239.2.1.1,239.2.1.2,239.2.1.3,239.2.1.4,239.2.1.5" \
    "m1's groups: its last report taken while m0 was over the rate"
last=$(of m0 239.2.0.)
# m0 holds its last report taken: the burst's 20th or a later one
[[ "$last" =~ ^239\.2\.0\.([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 20 ] && [ "${BASH_REMATCH[1]}" -le 100 ] \
    || t_fail "m0's groups after 100 reports: '$last', want one of 239.2.0.20..100"
mout=$(lab_exec m "$PLPEER" "$SOCK" mcast-cap "$pod") || t_fail "plpeer mcast-cap: $mout"
t_assert_eq "$mout" done "plpeer mcast-cap"
st=$(ctl status --json) || t_fail "fabricctl status"
groups=$(ctl groups --json) || t_fail "fabricctl groups --json"
t_assert_eq "$(of m0 239.3. | tr ',' '\n' | grep -c .)" 512 "m0's groups of 600 reported: the cap of an edge"
t_assert_eq "$(of m0 239.2.)" "" "m0's groups of its first reports: replaced"
t_assert_eq "$(of m1 239.2.1.)" "239.2.1.1,239.2.1.2,239.2.1.3,239.2.1.4,239.2.1.5,239.2.1.100" \
    "m1's groups: one more added with m0 at its cap"
t_assert_eq "$(c mcast.groups_over_edge_cap) $(c mcast.groups_over_cap)" "88 0" \
    "refused: m0's groups past the cap of an edge, none past the fabric's"
jq -e '.limits["portland_mcast_report_rate"] == 20 and .limits["portland_max_mcast_groups_per_edge"] == 512' \
    <<<"$st" >/dev/null || t_fail "fabricctl status: the multicast limits: $(jq -c .limits <<<"$st")"
t_pass
