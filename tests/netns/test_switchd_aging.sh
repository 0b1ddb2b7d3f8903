#!/usr/bin/env bash
# shellcheck disable=SC2016  # conditions eval'd by t_assert_wait
# test_switchd_aging.sh — host aging and vmid reuse at PortLand edges, on a k=4 fat tree
# (lab/fattree.sh) whose edges e0-0 and e0-1 forget a host after 2 s of silence; e0-0 holds a
# freed vmid 1 s (its settings from a switchd.yaml), e0-1 600 s (from flags). As fabricd,
# the hosts and the data plane see it:
#  - a Linux host that goes quiet (its neighbour cache flushed, nobody talking to it) is
#    forgotten by e0-0: gone from fabricctl hosts and from e0-0's data plane (map entries),
#    counted as aged;
#  - once its vmid's hold is over, a new MAC on that port (the host's own MAC changed) gets
#    that vmid: the same PMAC, in fabricctl hosts and in another host's neighbour cache;
#  - on e0-1, hosts made of single ARP requests from chosen MACs: a new MAC on the port of
#    one aged gets another vmid while the first is held, and the aged MAC coming back gets
#    its own; after a kill -9 and restart of e0-1 the holds are still there (a new MAC gets
#    a third vmid), the aged MAC still gets its own back, and a new MAC on the port of a
#    host taken over from the pins does not get that host's vmid;
#  - two hosts that keep talking (h0-0-1 and h0-1-1 pinging h3-1-1: data frames, which only
#    the data plane sees) are never aged: their edges drop no frame of theirs as an unknown
#    source, they keep their addresses and PMACs, and their pings go on.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/switchd_lib.sh
. "$(dirname "$0")/switchd_lib.sh"
t_require_root
t_require_cmd jq fping
sw_lab 4
printf 'host_age_s: 2\nvmid_hold_s: 1\n' >"$LAB_TMP/e0-0.yaml"
for sw in $(ft_switches | shuf); do
    case $sw in
        e0-0) sw_start "$sw" -c "$LAB_TMP/e0-0.yaml" ;;
        e0-1) sw_start "$sw" --host-age 2 --vmid-hold 600 ;;
        *) sw_start "$sw" ;;
    esac
done
located() { [ "$(ctl topo --json | jq '[.[] | select(.located)] | length')" = 20 ]; }
t_assert_wait 20 "not every switch located: $(ctl topo 2>&1 | head -22)" located

counter() { sw_ctl "$1" switch status --json | jq -r --arg k "$2" '.counters[$k] // 0'; }
pmac_of() { ctl hosts --json | jq -r --arg ip "$1" '.[] | select(.ip == $ip) | .pmac'; }
amac_of() { ctl hosts --json | jq -r --arg ip "$1" '.[] | select(.ip == $ip) | .amac'; }
registered() { [ -n "$(pmac_of "$1")" ]; }
vmid() { local m=${1//:/}; echo $((16#${m:8:4})); }   # a PMAC's last 16 bits
port_field() { local m=${1//:/}; echo $((16#${m:6:2})); }
quiet() {   # HOST: nothing left in its neighbour caches to refresh, so it sends nothing
    lab_exec "$1" ip -4 neigh flush dev eth0
    lab_exec "$1" ip -6 neigh flush dev eth0
}
# HOST silent for good: no ARP, no IPv6 (its router solicitations go on with a backoff, and
# a frame it sends while its vmid is held takes that vmid back), until talk HOST
silence() {
    lab_exec "$1" ip link set eth0 arp off
    lab_exec "$1" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
    quiet "$1"
}
talk() {
    lab_exec "$1" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
    lab_exec "$1" ip link set eth0 arp on
}
# One ARP request from MAC claiming IP (asking for h3-1-0's address), out of NS's eth0: a
# host of that MAC as its edge sees it, which then says nothing more.
arp_from() {
    lab_exec "$1" "$T_PYTHON" -c 'import socket, sys
mac = bytes.fromhex(sys.argv[1].replace(":", ""))
spa, tpa = socket.inet_aton(sys.argv[2]), socket.inet_aton(sys.argv[3])
f = b"\xff" * 6 + mac + b"\x08\x06" + bytes.fromhex("0001080006040001") + mac + spa + bytes(6) + tpa
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
s.send(f + bytes(60 - len(f)))' "$2" "$3" "$(ft_host_ip4 h3-1-0)" || t_fail "ARP from $2 on $1"
}

# --- the talkers -------------------------------------------------------------------------------
IP31=$(ft_host_ip4 h3-1-1)
TALKERS=(h0-0-1 h0-1-1)
declare -A TPID TLOG TPMAC
for h in "${TALKERS[@]}"; do
    ft_start "$h" ping ping -i 0.2 -w 120 "$IP31"
    TPID[$h]=$FT_LAST_PID TLOG[$h]=$FT_LAST_LOG
done
for h in "${TALKERS[@]}"; do
    t_assert_wait 10 "$h not registered while pinging" registered "$(ft_host_ip4 "$h")"
    TPMAC[$h]=$(pmac_of "$(ft_host_ip4 "$h")")
done
sleep 0.5   # the pings' first frames, before the edges knew the hosts' ARP, are behind us
UNKNOWN0=$(counter e0-0 dropped_unknown_src) UNKNOWN1=$(counter e0-1 dropped_unknown_src)

# --- a Linux host goes quiet and is forgotten; its vmid goes to the next MAC on its port -----
H=h0-0-0 IPH=$(ft_host_ip4 h0-0-0) PEER=h3-1-0
lab_exec "$H" fping -q -r 3 -t 500 "$(ft_host_ip4 "$PEER")" || t_fail "$H does not reach $PEER"
t_assert_wait 5 "$H not registered" registered "$IPH"
P=$(pmac_of "$IPH")
t_log "$H ($(ft_host_mac "$H")): PMAC $P"
t_assert_eq "$(counter e0-0 map.sw_hosts) $(counter e0-0 map.sw_amacs)" "2 2" "e0-0's host entries with $H"
silence "$H"
t_assert_wait 15 "$H, quiet, still registered as $(pmac_of "$IPH")" '! registered "$IPH"'
t_assert_eq "$(counter e0-0 map.sw_hosts) $(counter e0-0 map.sw_amacs)" "1 1" "e0-0's host entries once $H is forgotten"
[ "$(counter e0-0 edge.hosts_aged)" -ge 1 ] || t_fail "e0-0 did not count $H as aged"
t_assert_eq "$(sw_ctl e0-0 switch status --json | jq -r --arg ip "$IPH" '[.hosts[]? | select(.ip == $ip)] | length')" \
    0 "$H's address in e0-0's own table"
t_assert_wait 5 "e0-0's hold of $P did not end" '[ "$(counter e0-0 edge.vmids_held)" = 0 ]'
NEWMAC=02:00:0f:00:00:a0
# the new MAC's first frame at once, from a raw socket: changing the interface's MAC can make
# the stack send one more frame with the old MAC first, which would take its vmid back
arp_from "$H" "$NEWMAC" "$IPH" "$(ft_host_ip4 "$PEER")"
t_assert_wait 5 "$NEWMAC not registered for $IPH" '[ "$(amac_of "$IPH")" = "$NEWMAC" ]'
lab_exec "$H" ip link set eth0 address "$NEWMAC" || t_fail "new MAC on $H"
talk "$H"
lab_exec "$PEER" ip neigh flush to "$IPH" dev eth0
lab_exec "$H" fping -q -r 3 -t 500 "$(ft_host_ip4 "$PEER")" || t_fail "$H with MAC $NEWMAC does not reach $PEER"
t_assert_wait 5 "$H not registered with its new MAC" '[ "$(amac_of "$IPH")" = "$NEWMAC" ]'
t_assert_eq "$(pmac_of "$IPH")" "$P" "the PMAC of $NEWMAC on $H's port (the vmid freed)"
t_assert_eq "$(lab_exec "$PEER" ip -j neigh show to "$IPH" dev eth0 | jq -r '.[0].lladdr')" "$P" \
    "$IPH in $PEER's neighbour cache"

# --- e0-1: holds, a host's own vmid back, and both across a restart ----------------------------
A=02:00:0f:00:01:a1 B=02:00:0f:00:01:b1 C=02:00:0f:00:01:c1 D=02:00:0f:00:01:d1
IPA=198.18.0.101 IPB=198.18.0.102 IPC=198.18.0.103 IPD=198.18.0.104
host_at() {   # NS MAC IP: that host made, registered; prints its PMAC
    arp_from "$1" "$2" "$3"
    t_assert_wait 5 "$2 ($3) from $1 not registered" '[ "$(amac_of "$3")" = "$2" ]'
    pmac_of "$3"
}
PA=$(host_at h0-1-0 "$A" "$IPA")
t_assert_wait 10 "$A not forgotten by e0-1" '! registered "$IPA"'
PB=$(host_at h0-1-0 "$B" "$IPB")
t_log "e0-1 port 0: $A had $PA, then $B (while it is held) $PB"
t_assert_eq "$(port_field "$PB")" "$(port_field "$PA")" "the port of $A's and $B's PMACs"
t_assert_ne "$(vmid "$PB")" "$(vmid "$PA")" "$B's vmid while $A's is held"
t_assert_eq "$(host_at h0-1-0 "$A" "$IPA")" "$PA" "$A back in its hold"
t_assert_wait 10 "$A and $B not forgotten by e0-1" '! registered "$IPA" && ! registered "$IPB"'
HELD=$(counter e0-1 edge.vmids_held)
[ "$HELD" -ge 2 ] || t_fail "e0-1 holds $HELD vmids, want $A's and $B's"
# h0-1-1 is a host e0-1 has in use: a new MAC on its port must not get its vmid after a restart
kill -9 "${FT_SWITCHD_PID[e0-1]}"
sleep 0.2
sw_start e0-1 --host-age 2 --vmid-hold 600
self_located() { [ "$(sw_ctl "$1" switch status --json | jq -r .location.located)" = true ]; }
t_assert_wait 10 "e0-1 did not locate again" self_located e0-1
t_assert_eq "$(counter e0-1 edge.vmids_held)" "$HELD" "e0-1's held vmids after its restart"
PC=$(host_at h0-1-0 "$C" "$IPC")
t_log "after the restart: $C gets $PC"
t_assert_ne "$(vmid "$PC")" "$(vmid "$PA")" "$C's vmid ($A's held across the restart)"
t_assert_ne "$(vmid "$PC")" "$(vmid "$PB")" "$C's vmid ($B's held across the restart)"
t_assert_eq "$(host_at h0-1-0 "$A" "$IPA")" "$PA" "$A back in its hold, after the restart"
PD=$(host_at h0-1-1 "$D" "$IPD")
t_assert_eq "$(port_field "$PD")" "$(port_field "${TPMAC[h0-1-1]}")" "the port of $D's PMAC"
t_assert_ne "$(vmid "$PD")" "$(vmid "${TPMAC[h0-1-1]}")" "$D's vmid (h0-1-1's, taken over from the pins)"

# --- the talkers were never aged --------------------------------------------------------------
t_assert_eq "$(counter e0-0 dropped_unknown_src) $(counter e0-1 dropped_unknown_src)" \
    "$UNKNOWN0 $UNKNOWN1" "frames from unknown sources at e0-0 and e0-1 (an aged talker's)"
for h in "${TALKERS[@]}"; do
    t_assert_eq "$(pmac_of "$(ft_host_ip4 "$h")")" "${TPMAC[$h]}" "$h's PMAC, talking all along"
    kill -INT "${TPID[$h]}"
    wait "${TPID[$h]}" 2>/dev/null
    sent=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "${TLOG[$h]}")
    t_log "$h -> h3-1-1: $sent (sent, received)"
    [ -n "$sent" ] && [ $((${sent% *} - ${sent#* })) -le 1 ] ||
        t_fail "$h's pings lost (one in flight allowed): $(tail -n 3 "${TLOG[$h]}")"
done
t_pass
