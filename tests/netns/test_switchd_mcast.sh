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
#  5. IPv6: two hosts join an ff0e:: group (MLDv2), and receive;
#  6. a host (h0-0-1) sends IGMPv2 joins and leaves of a group by turns, as fast as a packet
#     socket takes them: its edge reads a burst and then its port's rate
#     (mcast.reports_rate_limited moves), coalesces the changes (mcast.reports_coalesced) and
#     sends fabricd less than a report per hundred frames, none of which fabricd refuses;
#     meanwhile h0-0-0, on the same edge, joins another group and fabricd has it; once the
#     flooder leaves, every group has the members it had, and the new group's datagrams
#     reach h0-0-0 and not the flooder.
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
# makes it leave, DIR/stop ends it (and 120 s at most).
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
left, end = False, time.time() + 120
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

# --- 6. a host flooding joins and leaves ---------------------------------------------------
# flood: joins and leaves of GROUP by turns (IGMPv2, RFC 2236: TTL 1, Router Alert), until
# DIR/flood-stop once 20000 are sent, at most 10000000 frames or 30 s; prints how many it sent.
# leave: one leave every 100 ms, at most 50, until DIR/leave-stop.
cat >"$LAB_TMP/igmpflood.py" <<'PY'
import os, socket, struct, sys, time
mode, src_mac, src_ip, group, d = sys.argv[1:6]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def frame(kind):
    dst = socket.inet_aton(group if kind == 0x16 else "224.0.0.2")
    igmp = struct.pack("!BBH4s", kind, 0, 0, socket.inet_aton(group))
    igmp = igmp[:2] + struct.pack("!H", csum(igmp)) + igmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x46, 0xc0, 32, 0, 0, 1, 2, 0,
                     socket.inet_aton(src_ip), dst) + b"\x94\x04\x00\x00"
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    dmac = bytes([1, 0, 0x5e, dst[1] & 0x7f, dst[2], dst[3]])
    return dmac + bytes.fromhex(src_mac.replace(":", "")) + b"\x08\x00" + ip + igmp
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
n = 0
if mode == "flood":
    fr, end = [frame(0x16), frame(0x17)], time.time() + 30
    while n < 10000000 and time.time() < end and (n < 20000 or not os.path.exists(d + "/flood-stop")):
        for _ in range(1000):
            s.send(fr[n & 1])
            n += 1
else:
    while n < 50 and not os.path.exists(d + "/leave-stop"):
        s.send(frame(0x17))
        n += 1
        time.sleep(0.1)
print(n)
PY
G2=239.9.9.9
G3=239.1.2.4
FLOODER=h0-0-1
mc() { sw_ctl e0-0 switch status --json | jq -r --arg k "mcast.$1" '.counters[$k]'; }
flood() {   # MODE
    lab_exec "$FLOODER" "$T_PYTHON" "$LAB_TMP/igmpflood.py" "$1" "$(ft_host_mac $FLOODER)" \
        "$(ft_host_ip4 $FLOODER)" $G2 "$LAB_TMP"
}
rl0=$(mc reports_rate_limited) sent0=$(mc reports_sent) co0=$(mc reports_coalesced)
before="$(members $G) $(members $G6)"
flood flood >"$LAB_TMP/flood.out" &
flood_pid=$!
t_assert_wait 5 "e0-0 rate-limits nothing of the flood: $(mc reports_rate_limited)" \
    '[ "$(mc reports_rate_limited)" -gt "$rl0" ]'
rx h0-0-0 $G3 join
rx "$FLOODER" $G3 sniff
for h in h0-0-0 $FLOODER; do
    t_assert_wait 5 "$h's receiver of $G3 did not start" test -e "$LAB_TMP/ready-$h-$G3"
done
t_assert_wait 5 "h0-0-0's join of $G3 (port 0) while port 1 floods: $(members $G3)" \
    '[ "$(members $G3)" = "e0-0:0" ]'
kill -0 $flood_pid 2>/dev/null || t_fail "the flood was over before h0-0-0's join was seen"
touch "$LAB_TMP/flood-stop"
wait $flood_pid || t_fail "the flooder failed"
frames=$(cat "$LAB_TMP/flood.out")
rl=$(( $(mc reports_rate_limited) - rl0 )) sent=$(( $(mc reports_sent) - sent0 ))
co=$(( $(mc reports_coalesced) - co0 ))
t_log "flood: $frames frames sent by $FLOODER; e0-0 dropped $rl unread, sent fabricd $sent reports, coalesced $co changes"
[ "$frames" -ge 20000 ] || t_fail "the flooder sent only $frames frames"
[ "$co" -gt 0 ] || t_fail "e0-0 coalesced no change of the flood into a later report"
[ $(( sent * 100 )) -lt "$frames" ] || t_fail "e0-0 sent fabricd $sent reports for $frames frames of the flood"
# the flooder leaves (a leave every 100 ms, within its port's rate); then every group has the
# members it had before the flood, and e0-0 holds G, G6 and G3
flood leave >/dev/null &
leave_pid=$!
t_assert_wait 5 "$G2 still has members after the flooder's leaves: $(members $G2)" '[ -z "$(members $G2)" ]'
touch "$LAB_TMP/leave-stop"
wait $leave_pid
t_assert_eq "$(members $G) $(members $G6)" "$before" "the members of $G and $G6, before and after the flood"
t_assert_eq "$before" "e0-0:0,e2-0:1,e2-1:0,e3-0:1 e0-0:0,e3-0:1" "the members of $G and $G6 before the flood"
t_assert_eq "$(members $G3)" "e0-0:0" "the members of $G3 after the flood"
t_assert_wait 3 "e0-0's groups after the flood: $(mc groups)" '[ "$(mc groups)" = 3 ]'
t_assert_eq "$(ctl status --json | jq -r '.counters["portland.mcast.reports_rate_limited"]')" 0 \
    "fabricd refused none of the reports switchd sent"
send $G3 F 100
check $G3 F 100 "h0-0-0" "$FLOODER"
t_log "after the flood: h0-0-0 got 100 of 100 of $G3, the flooder none"
touch "$LAB_TMP/stop"
t_pass
