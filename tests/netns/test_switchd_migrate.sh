#!/usr/bin/env bash
# shellcheck disable=SC2016  # conditions eval'd by t_assert_wait
# test_switchd_migrate.sh — PortLand's VM migration (paper §3.5) on a k=4 fat tree
# (lab/fattree.sh), as the hosts see it. h0-0-0 (M) moves from edge e0-0 (pod 0) to e2-0 p1
# (pod 2; the link of h2-0-1, which gives it up), keeping its IPv4 and IPv6 addresses and its
# MAC, and announces itself the way a hypervisor does: a gratuitous ARP (arping -U), then its
# own traffic (an NS from its IPv6 address). Two hosts were talking to it: h1-0-0 (pod 1, a
# third location) and h0-0-1 (on the old edge itself). Then:
#  - fabricd's hosts list M's addresses at e2-0, each with one move from e0-0 and the old
#    PMAC (fabricctl hosts --json and its columns);
#  - pings from both senders to M get replies again, over IPv4 and IPv6;
#  - each sender got from the old edge a unicast gratuitous ARP (to its own MAC, sender
#    hardware address the new PMAC, sender = target address M's) and a unicast unsolicited
#    NA (override set, solicited not, target M's address, TLLA the new PMAC), captured in
#    its namespace with tcpdump and decoded by tshark; no other host saw either;
#  - afterwards no host's neighbour table holds the old PMAC for M's addresses, and the
#    senders' hold the new one;
#  - the old edge counts what it did (moves received, trapped senders, ARPs and NAs sent,
#    frames forwarded to the new PMAC) and holds the old PMAC in sw_moved; its metrics say
#    the same and pass promtool.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/switchd_lib.sh
. "$(dirname "$0")/switchd_lib.sh"
t_require_root
t_require_cmd jq arping tcpdump tshark curl promtool
sw_lab 4
sw_start_all --metrics 9741

M=h0-0-0 PEER=h1-0-0 LOCAL=h0-0-1 GIVER=h2-0-1
M4=$(ft_host_ip4 $M) M6=$(ft_host_ip6 $M) MMAC=$(ft_host_mac $M)
located() { [ "$(ctl topo --json | jq '[.[] | select(.located)] | length')" = 20 ]; }
t_assert_wait 20 "not every switch located: $(ctl topo 2>&1 | head -22)" located
for s in $PEER $LOCAL; do
    lab_exec $s ping -q -c 2 -i 0.1 -W 1 "$M4" >/dev/null || t_fail "$s does not reach $M over IPv4 before the move"
    lab_exec $s ping -6 -q -c 2 -i 0.1 -W 1 "$M6" >/dev/null || t_fail "$s does not reach $M over IPv6 before the move"
done
pmac_of() { ctl hosts --json | jq -r --arg ip "$1" '.[] | select(.ip == $ip) | .pmac'; }
OLD=$(pmac_of "$M4")
[ -n "$OLD" ] && [ "$(pmac_of "$M6")" = "$OLD" ] || t_fail "fabricd's PMACs for $M before the move: '$OLD', '$(pmac_of "$M6")'"
t_log "$M ($MMAC) at e0-0 with PMAC $OLD"

# Every host's capture of ARP and ND from here on (what arrives in its namespace), in libpcap's
# immediate mode (t_capture_start): without it the ring holds frames up to a 1 s block timeout
# and the stop loses them (every capture came back empty that way).
mapfile -t HOSTS < <(ft_hosts)
CAPS=()
for h in "${HOSTS[@]}"; do
    [ "$h" = $GIVER ] && continue
    t_capture_start "$h" eth0 "$LAB_TMP/cap-$h.pcap" 'arp or (icmp6 and ip6[40] == 136)'
    CAPS+=("$T_CAPTURE_PID")
done

# --- the move ---------------------------------------------------------------------------------
# The senders' entries for M as a sender that has just talked to it holds them (REACHABLE on
# the old PMAC): so their next frames go to the old PMAC, not to a probe of their own that
# their edge would answer with the new one, whenever their timers had put them in STALE.
for s in $PEER $LOCAL; do
    lab_exec $s ip neigh replace "$M4" lladdr "$OLD" dev eth0 nud reachable
    lab_exec $s ip -6 neigh replace "$M6" lladdr "$OLD" dev eth0 nud reachable
done
ft_graft_link $M $GIVER mig0 || t_fail "ft_graft_link $M $GIVER"
ft_host_relink $M eth0 mig0 || t_fail "ft_host_relink $M eth0 mig0"
p1_host() { [ "$(sw_ctl e2-0 switch status --json | jq -r '.location.ports[] | select(.name == "p1") | .dir')" = DIR_HOST ]; }
t_assert_wait 10 "e2-0 p1 is not a host port again after the move" p1_host
lab_exec $M arping -q -U -c 1 -i mig0 "$M4" >/dev/null 2>&1 || true
lab_exec $M ping -6 -q -c 1 -W 1 "$(ft_host_ip6 $PEER)" >/dev/null 2>&1 || true
moved_to() { [ "$(ctl hosts --json | jq -r --arg ip "$1" '.[] | select(.ip == $ip) | "\(.edge) \(.moves) \(.moved_from) \(.moved_from_pmac)"')" = "e2-0 1 e0-0 $OLD" ]; }
t_assert_wait 5 "fabricd does not show $M4's move: $(ctl hosts 2>&1)" moved_to "$M4"
t_assert_wait 5 "fabricd does not show $M6's move: $(ctl hosts 2>&1)" moved_to "$M6"
NEW=$(pmac_of "$M4")
t_log "$M moved to e2-0: PMAC $NEW"
ctl hosts | grep -E "^(IP|$M4 |$M6 )" | sed 's/^/  /'
ctl hosts | grep -E "^$M4 " | grep -q " e0-0 $OLD " || t_fail "fabricctl hosts' columns lack the move: $(ctl hosts)"

# --- the senders --------------------------------------------------------------------------------
for s in $PEER $LOCAL; do
    t_assert_wait 10 "$s gets no ping reply from $M over IPv4 after the move" \
        lab_exec $s ping -q -c 1 -W 1 "$M4"
    t_assert_wait 10 "$s gets no ping reply from $M over IPv6 after the move" \
        lab_exec $s ping -6 -q -c 1 -W 1 "$M6"
done
neigh_of() { lab_exec "$1" ip -j neigh show to "$2" dev eth0 | jq -r '.[0].lladdr // empty'; }
for s in $PEER $LOCAL; do
    t_assert_wait 5 "$s's neighbour entry for $M4: $(neigh_of $s "$M4")" '[ "$(neigh_of '$s' "$M4")" = "$NEW" ]'
    t_assert_wait 5 "$s's neighbour entry for $M6: $(neigh_of $s "$M6")" '[ "$(neigh_of '$s' "$M6")" = "$NEW" ]'
done
for pid in "${CAPS[@]}"; do t_capture_stop "$pid"; done
garps() {   # HOST: the gratuitous ARPs for M it captured: "eth.dst sender-hw sender-ip target-ip"
    tshark -r "$LAB_TMP/cap-$1.pcap" -Y "arp.src.proto_ipv4 == $M4 && arp.dst.proto_ipv4 == $M4" \
        -T fields -e eth.dst -e arp.src.hw_mac -e arp.src.proto_ipv4 -e arp.dst.proto_ipv4 2>/dev/null | sort -u
}
nas() {   # HOST: the NAs for M it captured: "eth.dst target tlla override solicited"
    tshark -r "$LAB_TMP/cap-$1.pcap" -Y "icmpv6.type == 136 && icmpv6.nd.na.target_address == $M6" \
        -T fields -e eth.dst -e icmpv6.nd.na.target_address -e icmpv6.opt.linkaddr \
        -e icmpv6.nd.na.flag.o -e icmpv6.nd.na.flag.s 2>/dev/null | sort -u
}
for s in $PEER $LOCAL; do
    smac=$(ft_host_mac $s)
    t_assert_eq "$(garps $s)" "$smac	$NEW	$M4	$M4" "the gratuitous ARP $s received from the old edge"
    na=$(nas $s | sed 's/\t\(True\|1\)\t/\t1\t/; s/\t\(False\|0\)$/\t0/')
    t_assert_eq "$na" "$smac	$M6	$NEW	1	0" "the unsolicited NA $s received from the old edge"
done
for h in "${HOSTS[@]}"; do
    case $h in $GIVER|$PEER|$LOCAL|$M) continue ;; esac
    t_assert_eq "$(garps "$h")$(nas "$h")" "" "announcements for $M seen by $h (none was broadcast)"
done
for h in "${HOSTS[@]}"; do
    [ "$h" = $GIVER ] && continue
    for ip in "$M4" "$M6"; do
        lab_exec "$h" ip neigh show to "$ip" | grep -qi "$OLD" && t_fail "$h still holds the old PMAC for $ip: $(lab_exec "$h" ip neigh show to "$ip")"
    done
done

# --- the old edge's account -------------------------------------------------------------------------
counter() { sw_ctl "$1" switch status --json | jq -r --arg n "$2" '.counters[$n] // empty'; }
for c in moved.received moved.hosts_forgotten moved.installed moved.dp_trapped moved.arp_sent \
         moved.na_sent forwarded_moved map.sw_moved; do
    v=$(counter e0-0 $c)
    t_log "e0-0 $c = $v"
    [ "${v:-0}" -ge 1 ] || t_fail "e0-0's $c is '${v:-}' after the move"
done
t_assert_eq "$(counter e0-0 moved.received)" 2 "moves e0-0 was told (IPv4 and IPv6)"
t_assert_eq "$(counter e0-0 moved.hosts_forgotten)" 1 "hosts e0-0 forgot as moved"
[ "$(counter e0-0 moved.arp_sent)" -ge 2 ] || t_fail "e0-0 sent $(counter e0-0 moved.arp_sent) gratuitous ARPs for 2 senders"
t_assert_eq "$(counter e2-0 moved.received)" 0 "moves the new edge was told"
lab_exec e0-0 curl -sf http://127.0.0.1:9741/metrics >"$LAB_TMP/e0-0.prom" || t_fail "e0-0's metrics"
promtool check metrics <"$LAB_TMP/e0-0.prom" >"$LAB_TMP/e0-0.lint" 2>&1 ||
    t_fail "e0-0's metrics: promtool: $(head -5 "$LAB_TMP/e0-0.lint")"
t_assert_eq "$(awk '$1 == "l2f_switchd_migration_events_total{event=\"arp_sent\"}" { print $2 }' "$LAB_TMP/e0-0.prom")" \
    "$(counter e0-0 moved.arp_sent)" "e0-0's metric of gratuitous ARPs sent"
t_pass
