#!/usr/bin/env bash
# test_vtepd_kernel.sh — vtepd's kernel side (vtepd/kernel.c) through tests/tools/fdbtool, in
# one namespace with a veth underlay: vx100 is created as vtepd wants it (and repaired), a
# desired state becomes exactly those FDB and neighbour entries (and a host on the bridge gets
# its ARP and NS answered from them), a changed state changes only ours while entries added by
# hand (no extern_learn, a flood remote to an unknown VTEP, a neighbour without our protocol)
# survive, and applying the same state again does nothing. A repair puts back what of ours
# was deleted (per table, or for named keys only) and removes nothing; a missing bridge is
# created with a set address.
LAB_PREFIX=${LAB_PREFIX:-l2fk-$$-}
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd ip bridge jq arping ndisc6

FDBTOOL=${L2F_FDBTOOL:-$T_BUILD/tests/tools/fdbtool}
[ -z "${L2F_BUILD_FAILED:-}" ] || t_skip "the build failed; not testing a stale fdbtool"
[ -x "$FDBTOOL" ] || t_skip "$FDBTOOL not built"

lab_tmpdir
lab_ns_add v
lab_veth v u0 v u1
lab_exec v ip link set u0 up
lab_exec v ip link set u1 up
lab_exec v ip addr add 198.18.0.1/24 dev u0
lab_bridge v br100
# A host on the bridge, to ask for what the suppression neighbours answer.
lab_ns_add h
lab_veth v p1 h eth0
lab_bridge_port v br100 p1
lab_exec h ip link set eth0 up
lab_exec h ip addr add 198.19.0.200/16 dev eth0
lab_exec h ip -6 addr add 2001:db8:100::200/64 dev eth0 nodad

ft() { lab_exec v "$FDBTOOL" "$@"; }
# apply FILE: the stats JSON in $STATS, fails the test if fdbtool does.
apply() {
    STATS=$(ft apply "$1" 2>"$LAB_TMP/apply.err") || t_fail "fdbtool apply $1: $(cat "$LAB_TMP/apply.err")"
}
stat() { jq -r "$1" <<<"$STATS"; }

# What the kernel holds, normalized to fdbtool's line format.
kernel_fdb() {   # ours (extern_learn) unicast entries: "fdb 100 MAC DST"
    lab_exec v bridge fdb show dev vx100 | awk '/extern_learn/ && $1 != "00:00:00:00:00:00" {
        for (i = 1; i <= NF; i++) if ($i == "dst") print "fdb 100", $1, $(i + 1) }' | sort
}
kernel_port() {  # the bridge's extern_learn entries on the vx port: "fdb 100 MAC"
    lab_exec v bridge fdb show dev vx100 | awk '/extern_learn master br100/ { print "fdb 100", $1 }' | sort
}
kernel_flood() { # every remote of the all-zero entry: "flood 100 DST"
    lab_exec v bridge fdb show dev vx100 | awk '$1 == "00:00:00:00:00:00" {
        for (i = 1; i <= NF; i++) if ($i == "dst") print "flood 100", $(i + 1) }' | sort
}
kernel_neigh() { # neighbours on br100 with our protocol: "neigh 100 IP MAC"
    lab_exec v ip neigh show nud all dev br100 | awk '/proto 245/ { print "neigh 100", $1, $3 }' | sort
}
expected() { grep -E "^$1 " "$2" | sort; }

# --- the device ----------------------------------------------------------------------------
ensure() { ft ensure "$@" 2>>"$LAB_TMP/ensure.log"; }
out=$(ensure 100 br100 198.18.0.1 u0) || t_fail "fdbtool ensure failed"
t_assert_eq "$(jq -r .created <<<"$out")" true "ensure created vx100"
d=$(lab_exec v ip -d link show vx100)
for w in "vxlan id 100" "local 198.18.0.1" "dev u0" "dstport 4789" nolearning "master br100" "state UNKNOWN\|,UP"; do
    grep -q -- "$w" <<<"$d" || t_fail "ip -d link show vx100 lacks '$w': $d"
done
p=$(lab_exec v bridge -d link show dev vx100)
grep -q "neigh_suppress on" <<<"$p" || t_fail "vx100 port: neigh_suppress not on: $p"
grep -q "learning off" <<<"$p" || t_fail "vx100 port: learning not off: $p"
out=$(ensure 100 br100 198.18.0.1 u0) || t_fail "second ensure failed"
t_assert_eq "$(jq -c '[.created,.recreated,.fixed]' <<<"$out")" "[false,false,false]" "second ensure (nothing to do)"
# Settings someone changed are put back.
lab_exec v ip link set vx100 type vxlan learning
lab_exec v bridge link set dev vx100 neigh_suppress off learning on
lab_exec v ip link set vx100 down
out=$(ensure 100 br100 198.18.0.1 u0) || t_fail "ensure after changes failed"
t_assert_eq "$(jq -r .fixed <<<"$out")" true "ensure repaired vx100"
grep -q nolearning <<<"$(lab_exec v ip -d link show vx100)" || t_fail "vxlan learning not turned off again"
p=$(lab_exec v bridge -d link show dev vx100)
grep -q "neigh_suppress on" <<<"$p" && grep -q "learning off" <<<"$p" || t_fail "port flags not repaired: $p"
lab_exec v ip link show vx100 | grep -q ',UP' || t_fail "vx100 not brought up again"

# --- a desired state -----------------------------------------------------------------------
s1=$LAB_TMP/state1
cat >"$s1" <<'EOF'
known 198.18.0.2
known 198.18.0.3
known 198.18.0.4
known 198.18.0.5
fdb 100 02:00:00:00:10:01 198.18.0.2
fdb 100 02:00:00:00:10:02 198.18.0.3
fdb 100 02:00:00:00:10:03 198.18.0.4
fdb 100 02:00:00:00:10:04 198.18.0.2
flood 100 198.18.0.2,198.18.0.3,198.18.0.4
neigh 100 198.19.0.1 02:00:00:00:10:01
neigh 100 198.19.0.2 02:00:00:00:10:02
neigh 100 198.19.0.3 02:00:00:00:10:03
neigh 100 2001:db8:100::1 02:00:00:00:10:01
neigh 100 2001:db8:100::2 02:00:00:00:10:02
EOF
apply "$s1"
t_assert_eq "$(stat '[.fdb.added,.flood.added,.neigh.added,.errors]|@csv')" "4,3,5,0" "first apply: added fdb,flood,neigh; errors"
t_assert_eq "$(kernel_fdb)" "$(expected fdb "$s1")" "unicast FDB after the first apply"
t_assert_eq "$(kernel_port)" "$(expected fdb "$s1" | cut -d' ' -f1-3)" "bridge entries on vx100 after the first apply"
t_assert_eq "$(kernel_flood)" "$(printf 'flood 100 198.18.0.%s\n' 2 3 4)" "flood list after the first apply"
t_assert_eq "$(kernel_neigh)" "$(expected neigh "$s1")" "neighbours after the first apply"
# Each neighbour as ARP/ND suppression needs it: NOARP, extern_learn.
t_assert_eq "$(lab_exec v ip neigh show nud all dev br100 | grep 'proto 245' | grep -c 'extern_learn NOARP')" 5 "our neighbours are extern_learn NOARP"
# What a host on the bridge sees: the bridge answers for the remote hosts (neigh_suppress).
t_assert_eq "$(arp_mac h eth0 198.19.0.2)" 02:00:00:00:10:02 "ARP answer for 198.19.0.2"
t_assert_eq "$(ndisc_mac h 2001:db8:100::1)" 02:00:00:00:10:01 "NA for 2001:db8:100::1"
t_assert_eq "$(ft dump 100 198.18.0.2,198.18.0.3,198.18.0.4,198.18.0.5 | grep -v '^vni' | sort)" \
    "$({ grep -Ev '^(known|flood)' "$s1"; printf 'flood 100 198.18.0.%s\n' 2 3 4; } | sort)" "fdbtool dump"

# --- foreign entries, added by hand ----------------------------------------------------------
lab_exec v bridge fdb add 02:00:00:00:99:01 dev vx100 dst 198.18.0.99 self permanent
lab_exec v bridge fdb append 00:00:00:00:00:00 dev vx100 dst 198.18.0.98 self
lab_exec v ip neigh add 198.19.0.99 lladdr 02:00:00:00:99:02 nud permanent dev br100
lab_exec v ip -6 neigh add 2001:db8:100::99 lladdr 02:00:00:00:99:03 nud noarp dev br100
# A foreign neighbour on an IP we want: a conflict, not ours to replace.
lab_exec v ip neigh add 198.19.0.4 lladdr 02:00:00:00:99:04 nud permanent dev br100
foreign_fdb() { lab_exec v bridge fdb show dev vx100 | grep -c '02:00:00:00:99:01 dst 198.18.0.99'; }
foreign_flood() { lab_exec v bridge fdb show dev vx100 | grep -c '^00:00:00:00:00:00 dst 198.18.0.98'; }
foreign_neigh() { lab_exec v ip neigh show nud all dev br100 | grep -Ec '^(198\.19\.0\.99 lladdr 02:00:00:00:99:02|2001:db8:100::99 lladdr 02:00:00:00:99:03|198\.19\.0\.4 lladdr 02:00:00:00:99:04) '; }

# --- a changed state: some removed, some moved, some new; a MAC on two VTEPs --------------------
s2=$LAB_TMP/state2
cat >"$s2" <<'EOF'
known 198.18.0.2
known 198.18.0.3
known 198.18.0.4
known 198.18.0.5
fdb 100 02:00:00:00:10:01 198.18.0.2
fdb 100 02:00:00:00:10:02 198.18.0.5
fdb 100 02:00:00:00:10:05 198.18.0.3
fdb 100 02:00:00:00:10:06 198.18.0.3,198.18.0.4
fdb 100 02:00:00:00:99:01 198.18.0.2
flood 100 198.18.0.2,198.18.0.5
neigh 100 198.19.0.1 02:00:00:00:10:01
neigh 100 198.19.0.2 02:00:00:00:10:05
neigh 100 198.19.0.4 02:00:00:00:10:04
neigh 100 2001:db8:100::2 02:00:00:00:10:02
neigh 100 2001:db8:100::3 02:00:00:00:10:03
EOF
apply "$s2"
# fdb: 10:01 kept; 10:02 moved; 10:05 new; 10:03, 10:04 removed; 10:06 has two VTEPs (left
# to the flood list); 99:01 is foreign (a conflict). flood: .2 kept, .5 new, .3 .4 removed,
# .98 foreign. neigh: ::1 and .3 removed, .1 and ::2 kept, .2 changed MAC, ::3 new, .4 a
# conflict; foreign: .99, ::99, .4 and the kernel's own multicast entries.
# fdb foreign: 99:01 and the bridge's entry for vx100's own MAC.
t_assert_eq "$(stat '.fdb|[.added,.updated,.removed,.kept,.foreign,.conflicts]|@csv')" "1,1,2,1,2,1" \
    "fdb added,updated,removed,kept,foreign,conflicts"
t_assert_eq "$(stat .fdb_flooded)" 1 "unicast MACs left to the flood list"
t_assert_eq "$(stat '.flood|[.added,.removed,.kept,.foreign]|@csv')" "1,2,1,1" "flood added,removed,kept,foreign"
t_assert_eq "$(stat '.neigh|[.added,.updated,.removed,.kept,.conflicts]|@csv')" "1,1,2,2,1" \
    "neigh added,updated,removed,kept,conflicts"
t_assert_eq "$(stat .errors)" 0 "errors in the second apply"
t_assert_eq "$(kernel_fdb)" "$(expected fdb "$s2" | grep -Ev '10:06|99:01')" "unicast FDB after the change"
t_assert_eq "$(kernel_port)" "$(expected fdb "$s2" | grep -Ev '10:06|99:01' | cut -d' ' -f1-3)" "bridge entries on vx100 after the change"
t_assert_eq "$(arp_mac h eth0 198.19.0.2)" 02:00:00:00:10:05 "ARP answer for 198.19.0.2 after its MAC changed"
t_assert_eq "$(arp_mac h eth0 198.19.0.3)" "" "ARP answer for a removed neighbour"
t_assert_eq "$(kernel_flood)" "$(printf 'flood 100 198.18.0.%s\n' 2 5 98)" "flood list after the change"
t_assert_eq "$(kernel_neigh)" "$(expected neigh "$s2" | grep -v '198.19.0.4 ')" "neighbours after the change"
t_assert_eq "$(foreign_fdb)" 1 "foreign FDB entry (no extern_learn) kept, with its dst"
t_assert_eq "$(foreign_flood)" 1 "flood remote to an unknown VTEP kept"
t_assert_eq "$(foreign_neigh)" 3 "foreign neighbours kept, unchanged"

# --- the same state again: nothing to do -----------------------------------------------------
apply "$s2"
t_assert_eq "$(stat '[.fdb,.flood,.neigh]|map(.added+.updated+.removed)|add')" 0 "changes when applying the same state twice"
t_assert_eq "$(stat '[.fdb.kept,.flood.kept,.neigh.kept]|@csv')" "3,2,4" "entries kept when applying the same state twice"
t_assert_eq "$(kernel_fdb)" "$(expected fdb "$s2" | grep -Ev '10:06|99:01')" "unicast FDB after the second apply"

# --- repair: what went is put back, nothing is removed ------------------------------------------
# One of each kind of ours deleted by hand, and a neighbour of ours that s2 does not want added.
lab_exec v bridge fdb del 02:00:00:00:10:01 dev vx100 dst 198.18.0.2 self || t_fail "fdb del self"
lab_exec v bridge fdb del 02:00:00:00:10:05 dev vx100 master || t_fail "fdb del master"
lab_exec v bridge fdb del 00:00:00:00:00:00 dev vx100 dst 198.18.0.5 self || t_fail "fdb del flood"
lab_exec v ip neigh del 198.19.0.1 dev br100 || t_fail "neigh del"
lab_exec v ip neigh add 198.19.0.77 lladdr 02:00:00:00:10:77 dev br100 nud noarp extern_learn protocol 245 ||
    t_fail "neigh add 198.19.0.77"
repair() {   # repair CMD ARGS: fdbtool repair or repair-keys
    STATS=$(ft "$@" 2>"$LAB_TMP/repair.err") || t_fail "fdbtool $*: $(cat "$LAB_TMP/repair.err")"
}
repair repair "$s2" neigh
t_assert_eq "$(stat '[.neigh.added,.neigh.removed,.fdb.added+.fdb.updated,.flood.added]|@csv')" "1,0,0,0" \
    "repair of the neighbours only: neigh added,removed; fdb and flood changes"
lab_exec v bridge fdb show dev vx100 | grep -q '^02:00:00:00:10:01 dst' && t_fail "a neighbour repair touched the FDB"
repair repair "$s2"
t_assert_eq "$(stat '.fdb|[.added,.updated,.removed]|@csv')" "0,2,0" "repair: fdb added,updated,removed (one half each)"
t_assert_eq "$(stat '.flood|[.added,.removed]|@csv')" "1,0" "repair: flood added,removed"
t_assert_eq "$(stat '.neigh|[.added,.removed]|@csv')" "0,0" "repair: neigh added,removed (ours, not wanted, kept)"
t_assert_eq "$(kernel_fdb)" "$(expected fdb "$s2" | grep -Ev '10:06|99:01')" "unicast FDB after the repair"
t_assert_eq "$(kernel_port)" "$(expected fdb "$s2" | grep -Ev '10:06|99:01' | cut -d' ' -f1-3)" "bridge entries after the repair"
t_assert_eq "$(kernel_flood)" "$(printf 'flood 100 198.18.0.%s\n' 2 5 98)" "flood list after the repair"
t_assert_eq "$(kernel_neigh)" "$({ expected neigh "$s2" | grep -v '198.19.0.4 '; echo 'neigh 100 198.19.0.77 02:00:00:00:10:77'; } | sort)" \
    "neighbours after the repair"
t_assert_eq "$(foreign_fdb):$(foreign_flood):$(foreign_neigh)" "1:1:3" "foreign entries after the repair"
lab_exec v ip neigh del 198.19.0.77 dev br100
# Repair of named keys: only those are looked at. Three of ours go; two are named, and one of
# them has a foreign entry in its place by then (left alone: a conflict).
lab_exec v bridge fdb del 02:00:00:00:10:05 dev vx100 dst 198.18.0.3 self || t_fail "fdb del 10:05"
lab_exec v ip neigh del 2001:db8:100::2 dev br100 || t_fail "neigh del ::2"
lab_exec v ip neigh del 198.19.0.1 dev br100 || t_fail "neigh del .1"
lab_exec v ip -6 neigh add 2001:db8:100::2 lladdr 02:00:00:00:99:05 nud permanent dev br100
repair repair-keys "$s2" 02:00:00:00:10:05 2001:db8:100::2
t_assert_eq "$(stat '[.fdb.updated,.neigh.added,.neigh.conflicts,.neigh.removed]|@csv')" "1,0,1,0" \
    "repair-keys: fdb updated; neigh added, conflicts, removed"
t_assert_eq "$(kernel_fdb)" "$(expected fdb "$s2" | grep -Ev '10:06|99:01')" "unicast FDB after repair-keys"
lab_exec v ip neigh show 198.19.0.1 dev br100 | grep -q . && t_fail "repair-keys put back a neighbour it was not given"
lab_exec v ip -6 neigh show 2001:db8:100::2 dev br100 | grep -q '02:00:00:00:99:05' ||
    t_fail "repair-keys replaced a foreign neighbour"
lab_exec v ip -6 neigh del 2001:db8:100::2 dev br100
repair repair "$s2" neigh
t_assert_eq "$(stat .neigh.added)" 2 "neighbours a table repair puts back after repair-keys"
t_assert_eq "$(kernel_neigh)" "$(expected neigh "$s2" | grep -v '198.19.0.4 ')" "neighbours after the repairs"

# --- a MAC the bridge learnt on a local port is not taken back --------------------------------
hmac=$(lab_exec h cat /sys/class/net/eth0/address)
lab_exec h ping -q -c 1 -W 1 198.19.0.250 >/dev/null 2>&1  # any frame: the bridge learns hmac on p1
t_assert_wait 5 "the bridge did not learn the host's MAC on p1" \
    "lab_exec v bridge fdb show dev p1 | grep -q '^$hmac '"
{ cat "$s2"; echo "fdb 100 $hmac 198.18.0.3"; } >"$LAB_TMP/state3"
apply "$LAB_TMP/state3"
t_assert_eq "$(stat '.fdb|[.added,.updated,.removed]|@csv')" "1,0,0" "fdb changes for a locally learnt MAC"
t_assert_eq "$(kernel_fdb | grep -c "$hmac dst 198.18.0.3\|$hmac 198.18.0.3")" 1 "vxlan entry for a locally learnt MAC"
t_assert_eq "$(lab_exec v bridge fdb show dev vx100 | grep -c "^$hmac .*master")" 0 "bridge entry on vx100 for a locally learnt MAC"
lab_exec v bridge fdb show dev p1 | grep -q "^$hmac " || t_fail "the bridge lost the host's MAC on p1"
apply "$LAB_TMP/state3"
t_assert_eq "$(stat '.fdb|[.added,.updated,.removed]|@csv')" "0,0,0" "fdb changes, applying that again"

# --- nothing desired: ours go, the foreign ones stay -----------------------------------------
printf 'known 198.18.0.2\nknown 198.18.0.5\nvni 100\n' >"$LAB_TMP/empty"
apply "$LAB_TMP/empty"
t_assert_eq "$(kernel_fdb)" "" "unicast FDB after an empty state"
t_assert_eq "$(kernel_port)" "" "bridge entries on vx100 after an empty state"
t_assert_eq "$(kernel_flood)" "flood 100 198.18.0.98" "flood list after an empty state"
t_assert_eq "$(kernel_neigh)" "" "neighbours after an empty state"
t_assert_eq "$(foreign_fdb):$(foreign_neigh)" "1:3" "foreign entries after an empty state"

# --- incremental operations (one batch, one commit) -----------------------------------------
cat >"$LAB_TMP/ops" <<'EOF'
fdb-set 100 02:00:00:00:30:01 198.18.0.2
fdb-set 100 02:00:00:00:30:02 198.18.0.3
flood-add 100 198.18.0.2
flood-add 100 198.18.0.3
neigh-set 100 198.19.0.31 02:00:00:00:30:01
neigh-set 100 2001:db8:100::31 02:00:00:00:30:02
EOF
out=$(ft ops "$LAB_TMP/ops") || t_fail "fdbtool ops (set) failed"
t_assert_eq "$(jq -r .refused <<<"$out")" 0 "refused incremental sets"
t_assert_eq "$(kernel_fdb)" "$(printf 'fdb 100 02:00:00:00:30:0%s 198.18.0.%s\n' 1 2 2 3)" "unicast FDB after incremental sets"
t_assert_eq "$(kernel_port)" "$(printf 'fdb 100 02:00:00:00:30:0%s\n' 1 2)" "bridge entries after incremental sets"
t_assert_eq "$(kernel_flood)" "$(printf 'flood 100 198.18.0.%s\n' 2 3 98)" "flood list after incremental adds"
t_assert_eq "$(kernel_neigh)" "$(printf 'neigh 100 %s\n' '198.19.0.31 02:00:00:00:30:01' '2001:db8:100::31 02:00:00:00:30:02')" "neighbours after incremental sets"
t_assert_eq "$(arp_mac h eth0 198.19.0.31)" 02:00:00:00:30:01 "ARP answer for an incrementally set neighbour"
cat >"$LAB_TMP/ops" <<'EOF'
fdb-del 100 02:00:00:00:30:01 198.18.0.2
flood-del 100 198.18.0.3
neigh-del 100 198.19.0.31
neigh-del 100 198.19.0.32
fdb-del 100 02:00:00:00:30:09 198.18.0.2
EOF
out=$(ft ops "$LAB_TMP/ops") || t_fail "fdbtool ops (del) failed"
t_assert_eq "$(jq -r .refused <<<"$out")" 0 "refused incremental deletes (deleting what is gone is fine)"
t_assert_eq "$(kernel_fdb)" "fdb 100 02:00:00:00:30:02 198.18.0.3" "unicast FDB after incremental deletes"
t_assert_eq "$(kernel_port)" "fdb 100 02:00:00:00:30:02" "bridge entries after incremental deletes"
t_assert_eq "$(kernel_flood)" "$(printf 'flood 100 198.18.0.%s\n' 2 98)" "flood list after an incremental delete"
t_assert_eq "$(kernel_neigh)" "neigh 100 2001:db8:100::31 02:00:00:00:30:02" "neighbours after incremental deletes"
t_assert_eq "$(foreign_fdb):$(foreign_neigh)" "1:3" "foreign entries after incremental operations"
printf 'neigh-set 100 2001:db8:100::32 02:00:00:00:30:02\nfdb-set 100 02:00:00:00:30:03 2001:db8::3\n' >"$LAB_TMP/ops"
out=$(ft ops "$LAB_TMP/ops" 2>/dev/null) || t_fail "fdbtool ops (refused) failed"
t_assert_eq "$(jq -r .refused <<<"$out")" 1 "refused: an IPv6 VTEP on an IPv4 vx device"
apply "$LAB_TMP/empty"
# Many sendmsgs (64 KiB each, ~1000 requests): each refusal is matched to its own request
# wherever it falls, by the blocking wait (ops) and from the event loop (stall ops).
awk 'BEGIN { for (i = 0; i < 3000; i++)
    printf "fdb-set 100 02:00:00:01:%02x:%02x %s\n", int(i / 256), i % 256,
        i % 500 == 7 ? "2001:db8::3" : "198.18.0." (2 + i % 200) }' >"$LAB_TMP/ops"
for mode in ops stall; do
    out=$(if [ $mode = ops ]; then ft ops "$LAB_TMP/ops"; else ft stall ops "$LAB_TMP/ops"; fi 2>"$LAB_TMP/ops.err") ||
        t_fail "fdbtool $mode (3000 sets) failed: $(cat "$LAB_TMP/ops.err")"
    t_assert_eq "$(jq -r .refused <<<"$out")" 6 "$mode: refused of 3000 sets, 6 with an IPv6 VTEP"
    t_assert_eq "$(kernel_fdb | grep -c ' 02:00:00:01:')" 2994 "$mode: unicast entries after 3000 sets"
    t_assert_eq "$(kernel_fdb | grep -cE ' 02:00:00:01:(00:07|01:fb|03:ef|05:e3|07:d7|09:cb) ')" 0 \
        "$mode: entries of the refused sets"
    t_assert_eq "$(grep -c 'set fdb .*2001:db8::3' "$LAB_TMP/ops.err")" 6 "$mode: refusals logged with their request"
    apply "$LAB_TMP/empty"
done

# --- a VNI without its device is an error, reported, not a crash ------------------------------
printf 'fdb 200 02:00:00:00:20:01 198.18.0.2\n' >"$LAB_TMP/novx"
ft apply "$LAB_TMP/novx" >"$LAB_TMP/novx.json" 2>/dev/null && t_fail "apply for a VNI without a device succeeded"
t_assert_eq "$(jq -r .errors "$LAB_TMP/novx.json")" 1 "errors for a VNI without a device"

# --- a device with the wrong local address is created again -----------------------------------
out=$(ensure 100 br100 198.18.0.7 u0) || t_fail "ensure with another local address failed"
t_assert_eq "$(jq -r .recreated <<<"$out")" true "vx100 recreated for a new local address"
grep -q "local 198.18.0.7" <<<"$(lab_exec v ip -d link show vx100)" || t_fail "vx100 local not 198.18.0.7"
# A bridge that does not exist is created, up, with a fixed address.
out=$(ensure 400 br400 198.18.0.1 u0) || t_fail "ensure with a missing bridge failed"
t_assert_eq "$(jq -c '[.created,.bridge_created]' <<<"$out")" "[true,true]" "ensure created vx400 and br400"
t_assert_eq "$(lab_exec v cat /sys/class/net/br400/addr_assign_type)" 3 "br400's addr_assign_type (set)"
lab_exec v cat /sys/class/net/br400/address | grep -q ':00:01:90$' || t_fail "br400's address does not end in its VNI"
lab_exec v ip link show br400 | grep -q ',UP' || t_fail "br400 not up"
lab_exec v ip link show vx400 | grep -q 'master br400' || t_fail "vx400 not in br400"
out=$(ensure 400 br400 198.18.0.1 u0) || t_fail "second ensure of vx400 failed"
t_assert_eq "$(jq -c '[.created,.bridge_created,.fixed]' <<<"$out")" "[false,false,false]" "second ensure of vx400"
# A device of our name that is not a VXLAN is not ours.
lab_exec v ip link add vx300 type bridge
ft ensure 300 br100 198.18.0.1 u0 >/dev/null 2>&1 && t_fail "ensure took over a non-VXLAN vx300"
lab_exec v ip link show vx300 >/dev/null 2>&1 || t_fail "ensure removed the non-VXLAN vx300"

t_pass
