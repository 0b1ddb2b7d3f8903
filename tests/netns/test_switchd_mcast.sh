#!/usr/bin/env bash
# shellcheck disable=SC2016  # conditions eval'd by t_assert_wait
# test_switchd_mcast.sh — PortLand multicast on a k=4 fat tree (lab/fattree.sh), with the
# hosts' own Linux stacks: receivers in three pods (and on the sender's edge and pod) join a
# group (IP_ADD_MEMBERSHIP: the kernel sends IGMPv3), a host of pod 2 sends UDP to it.
#  1. fabricctl groups: the five members, one core, a tree; every member receives each
#     datagram once, and no frame of the group reaches a non-member host (a packet socket in
#     each, which sees what arrives whatever the host joined);
#  2. a leave (IP_DROP_MEMBERSHIP): the member is gone from fabricctl groups and its host gets
#     no more frames of the group;
#  3. the chosen core's link to a member pod loses its carrier: fabricd moves the tree to a
#     core that reaches every member edge, and every member receives;
#  4. two edge links down, one under each half of the cores, so that no core reaches every
#     member edge: a set cover of two cores, and every member still receives each datagram
#     once (no duplicates);
#  5. IPv6: two hosts join an ff0e:: group (MLDv2), and receive.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/switchd_lib.sh
. "$(dirname "$0")/switchd_lib.sh"
t_require_root
t_require_cmd jq fping
sw_lab 4
sw_start_all

located() { [ "$(ctl topo --json | jq '[.[] | select(.located)] | length')" = 20 ]; }
t_assert_wait 20 "not every switch located: $(ctl topo 2>&1 | head -22)" located
G=239.1.2.3
G6=ff0e::db8:1
SENDER=h2-0-0
MEMBERS="h0-0-0 h1-1-0 h3-0-1 h2-0-1 h2-1-0"
OTHERS="h0-0-1 h0-1-0 h1-0-0 h3-1-1 h2-1-1"
lab_exec "$SENDER" fping -q -r 3 -t 500 "$(ft_host_ip4 h0-0-0)" "$(ft_host_ip6 h0-0-0)" \
    || t_fail "$SENDER does not reach h0-0-0 (unicast)"

# A host's view: a packet socket logs every UDP frame to the group's port as "raw TAG SEQ";
# with "join", a UDP socket joined to the group logs "udp TAG SEQ"; the file DIR/leave-HOST
# makes it leave, DIR/stop ends it (and 60 s at most).
cat >"$LAB_TMP/mrx.py" <<'EOF'
import os, select, socket, struct, sys, time
host, group, port, mode, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
v6 = ":" in group
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd if v6 else 0x0800))
raw.bind(("eth0", 0))
gb = socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, group)
ifx = socket.if_nametoindex("eth0")
socks = [raw]
if mode == "join":
    u = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.bind(("::" if v6 else "0.0.0.0", port))
    if v6:
        mreq = gb + struct.pack("=I", ifx)
        u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    else:
        mreq = gb + b"\0" * 4 + struct.pack("=i", ifx)
        u.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    socks.append(u)
out = open("%s/rx-%s-%s" % (d, host, group), "w", buffering=1)
open("%s/ready-%s-%s" % (d, host, group), "w").close()
left, end = False, time.time() + 60
while time.time() < end and not os.path.exists(d + "/stop"):
    if mode == "join" and not left and os.path.exists("%s/leave-%s" % (d, host)):
        u.setsockopt(socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP,
                     socket.IPV6_LEAVE_GROUP if v6 else socket.IP_DROP_MEMBERSHIP, mreq)
        left = True
        out.write("left\n")
    r, _, _ = select.select(socks, [], [], 0.1)
    for s in r:
        b = s.recv(2048)
        if s is raw:
            off = 14 + (40 if v6 else 20)
            dst = b[38:54] if v6 else b[30:34]
            if dst != gb or len(b) < off + 8 or struct.unpack("!H", b[off + 2:off + 4])[0] != port:
                continue
            b = b[off + 8:]
            kind = "raw"
        else:
            kind = "udp"
        out.write("%s %s\n" % (kind, b.decode(errors="replace")))
EOF
rx() {   # HOST GROUP join|sniff
    lab_exec "$1" "$T_PYTHON" "$LAB_TMP/mrx.py" "$1" "$2" 5000 "$3" "$LAB_TMP" &
}
send() {   # GROUP TAG COUNT: COUNT datagrams "TAG SEQ", 2 ms apart
    lab_exec "$SENDER" "$T_PYTHON" -c 'import socket, struct, sys, time
g, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
v6 = ":" in g
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
ifx = socket.if_nametoindex("eth0")
if v6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifx)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
else:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, struct.pack("=4s4si", b"\0" * 4, b"\0" * 4, ifx))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
for i in range(n):
    s.sendto(("%s %d" % (tag, i)).encode(), (g, 5000))
    time.sleep(0.002)' "$1" "$2" "$3" || t_fail "sending to $1"
}
# KIND HOST GROUP TAG: how many distinct datagrams of TAG arrived, and how many in all
got() { grep "^$1 $4 " "$LAB_TMP/rx-$2-$3" 2>/dev/null | sort -u | wc -l; }
all() { grep -c "^$1 $4 " "$LAB_TMP/rx-$2-$3" 2>/dev/null; }
members() { ctl groups --json | jq -r --arg g "$1" '[.[] | select(.group == $g) | .members[] | "\(.switch_name):\(.port)"] | sort | join(",")'; }
cores() { ctl groups --json | jq -r --arg g "$1" '[.[] | select(.group == $g) | .cores[]] | join(",")'; }
# every member got all N of TAG exactly once, no other host any
check() {   # GROUP TAG N "MEMBERS" "OTHERS"
    local h
    for h in $4; do
        t_assert_wait 5 "$h: $(got udp "$h" "$1" "$2") of $3 datagrams of $2 ($(got raw "$h" "$1" "$2") frames seen: $(grep "^raw $2 " "$LAB_TMP/rx-$h-$1" | tr '\n' ' ' | cut -c1-400))" \
            "[ \"\$(got udp $h $1 $2)\" = $3 ] && [ \"\$(got raw $h $1 $2)\" = $3 ]"
    done
    sleep 0.2   # duplicates, had there been any, would have arrived by now
    for h in $4; do
        t_assert_eq "$(all raw "$h" "$1" "$2")" "$3" "frames of $2 at $h (duplicates?)"
    done
    for h in $5; do
        t_assert_eq "$(all raw "$h" "$1" "$2")" 0 "frames of $2 at $h, not a member"
    done
}

for h in $MEMBERS; do rx "$h" $G join; done
for h in $OTHERS; do rx "$h" $G sniff; done
for h in $MEMBERS $OTHERS; do
    t_assert_wait 5 "$h's receiver did not start" test -e "$LAB_TMP/ready-$h-$G"
done
# --- 1. the tree ---------------------------------------------------------------------------
want="e0-0:0,e1-1:0,e2-0:1,e2-1:0,e3-0:1"
t_assert_wait 5 "the members fabricd holds: $(members $G)" '[ "$(members $G)" = "$want" ]'
t_assert_wait 3 "no core for $G: $(ctl groups)" '[ -n "$(cores $G)" ]'
C=$(cores $G)
case $C in *,*) t_fail "more than one core without a fault: $C" ;; esac
ctl groups | sed 's/^/  /'
[ "$(ctl groups --json | jq --arg g $G '[.[] | select(.group == $g) | .tree[] | select(.switch_name == "'"$C"'")] | length')" -gt 0 ] \
    || t_fail "the core $C has no entry in the tree"
m_before=$(ctl status --json | jq -r '.counters["portland.mcast.messages"]')
send $G A 100
check $G A 100 "$MEMBERS" "$OTHERS"
t_log "phase A: every member got 100 of 100, no other host any"
[ "$(sw_ctl e2-0 switch status --json | jq -r '.counters.mcast_forwarded')" -ge 100 ] \
    || t_fail "the sender's edge did not count its frames replicated"

# --- 2. a leave ----------------------------------------------------------------------------
touch "$LAB_TMP/leave-h1-1-0"
want="e0-0:0,e2-0:1,e2-1:0,e3-0:1"
t_assert_wait 5 "h1-1-0's leave: $(members $G)" '[ "$(members $G)" = "$want" ]'
# e1-1 keeps its entry for its hosts' frames only, once the stale ones are gone (switchd
# removes them MCAST_BREAK_MS after the table that drops them: make before break)
mcast_entries() { sw_ctl "$1" switch status --json | jq -r '.counters["map.sw_mcast"]'; }
t_assert_wait 3 "e1-1's entries after the leave: $(mcast_entries e1-1)" '[ "$(mcast_entries e1-1)" = 1 ]'
MEMBERS="h0-0-0 h3-0-1 h2-0-1 h2-1-0"
OTHERS="$OTHERS h1-1-0"
send $G B 100
check $G B 100 "$MEMBERS" "$OTHERS"
t_log "phase B: after the leave, h1-1-0 gets nothing"

# --- 3. a core link on the tree ------------------------------------------------------------
# cN's port P leads to pod P; pod 0 has a member (h0-0-0)
ft_link_down "$C" p0
t_assert_wait 5 "the tree still on $C after its link to pod 0 went" '[ -n "$(cores $G)" ] && [ "$(cores $G)" != "$C" ]'
t_log "core link $C p0 down: the tree moved to $(cores $G)"
send $G C 100
check $G C 100 "$MEMBERS" "$OTHERS"
ft_link_up "$C" p0

# --- 4. no single core reaches every member edge: a set cover -----------------------------
# e0-0 - a0-0 (under c0, c1) and e3-0 - a3-1 (under c2, c3)
ft_link_down e0-0 p2
ft_link_down e3-0 p3
t_assert_wait 5 "no set cover: $(ctl groups)" '[[ "$(cores $G)" == *,* ]]'
ctl groups | sed 's/^/  /'
t_log "set cover: $(cores $G)"
send $G D 100
check $G D 100 "$MEMBERS" "$OTHERS"
ft_link_up e0-0 p2
ft_link_up e3-0 p3
t_assert_wait 5 "still a set cover after the repairs" '[ -n "$(cores $G)" ] && [[ "$(cores $G)" != *,* ]]'
n=$(( $(ctl status --json | jq -r '.counters["portland.mcast.messages"]') - m_before ))
t_log "fabricd's multicast messages from phase A to here: $n"

# --- 5. IPv6 (MLDv2) -----------------------------------------------------------------------
for h in h0-0-0 h3-0-1; do rx "$h" $G6 join; done
rx h1-0-0 $G6 sniff
for h in h0-0-0 h3-0-1 h1-0-0; do
    t_assert_wait 5 "$h's IPv6 receiver did not start" test -e "$LAB_TMP/ready-$h-$G6"
done
t_assert_wait 5 "the IPv6 members: $(members $G6)" '[ "$(members $G6)" = "e0-0:0,e3-0:1" ]'
send $G6 E 100
check $G6 E 100 "h0-0-0 h3-0-1" "h1-0-0"
t_log "IPv6: both members got 100 of 100"
touch "$LAB_TMP/stop"
t_pass
