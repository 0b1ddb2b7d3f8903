#!/usr/bin/env bash
# bench/vtep_program.sh [--entries N] [--trials N] — how fast vtepd's kernel side
# (vtepd/kernel.c, driven by tests/tools/fdbtool) installs VXLAN FDB and suppression
# neighbour entries, against iproute2's `bridge -batch` and `ip -batch` doing the same in the
# same run, how long a reconcile that finds nothing to do takes (dump + compare), and the
# longest the event loop stalls while the kernel takes the entries (fdbtool stall).
# See bench/README.md. Never fails on a time; exits non-zero only when it cannot measure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB_PREFIX=${LAB_PREFIX:-l2fk-$$-}
. "$ROOT/lab/lib.sh"

ENTRIES=100000 TRIALS=3
while [ $# -gt 0 ]; do
    case $1 in
        --entries) ENTRIES=${2:?--entries N}; shift 2 ;;
        --trials) TRIALS=${2:?--trials N}; shift 2 ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--entries N] [--trials N]" >&2; exit 2 ;;
    esac
done
case $ENTRIES$TRIALS in *[!0-9]*) echo "$0: --entries and --trials take numbers" >&2; exit 2 ;; esac

lab_require_root
FDBTOOL=${L2F_FDBTOOL:-${L2F_BUILD:-$ROOT/build}/tests/tools/fdbtool}
[ -x "$FDBTOOL" ] || lab_die "$FDBTOOL not built (ninja -C build)"
for c in ip bridge awk sort jq; do command -v $c >/dev/null || lab_die "$c not installed"; done

lab_tmpdir
D=$LAB_TMP
NS=v

progress() { printf '[vtep_program] %s\n' "$*" >&2; }

# --- the entries ------------------------------------------------------------------------------
# Entry i: MAC 02:00:00:xx:yy:zz (i), behind VTEP 198.18.0.(2 + i % 250); neighbour i is
# 198.19.x.y for even i and 2001:db8:100::x for odd i, at MAC i. The same entries, as
# iproute2 batch files and as one fdbtool desired-state file.
awk -v n="$ENTRIES" -v d="$D" 'BEGIN {
    for (i = 0; i < n; i++) {
        mac = sprintf("02:00:00:%02x:%02x:%02x", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
        dst = sprintf("198.18.0.%d", 2 + i % 250)
        if (i % 2 == 0) ip = sprintf("198.19.%d.%d", int(i / 2 / 250), 1 + int(i / 2) % 250)
        else ip = sprintf("2001:db8:100::%x", int(i / 2) + 1)
        print "fdb add " mac " dev vx100 dst " dst " self master extern_learn" > (d "/fdb.batch")
        print "neigh add " ip " lladdr " mac " dev br100 nud noarp extern_learn proto 245" > (d "/neigh.batch")
        print "fdb 100 " mac " " dst > (d "/fdb.state")
        print "neigh 100 " ip " " mac > (d "/neigh.state")
        print "fdb-set 100 " mac " " dst > (d "/fdb.ops")
        print "neigh-set 100 " ip " " mac > (d "/neigh.ops")
    }
}'
cat "$D/fdb.state" "$D/neigh.state" >"$D/all.state"
cat "$D/fdb.ops" "$D/neigh.ops" >"$D/all.ops"

lab_ns_add "$NS"
lab_veth "$NS" u0 "$NS" u1
lab_exec "$NS" ip link set u0 up
lab_exec "$NS" ip link set u1 up
lab_exec "$NS" ip addr add 198.18.0.1/24 dev u0

# Fresh devices: br100 and vx100 as vtepd makes them (fdbtool ensure), nothing in them.
fresh() {
    lab_exec "$NS" ip link del vx100 2>/dev/null
    lab_exec "$NS" ip link del br100 2>/dev/null
    lab_bridge "$NS" br100
    lab_exec "$NS" "$FDBTOOL" ensure 100 br100 198.18.0.1 u0 >/dev/null || lab_die "fdbtool ensure failed"
}

now_us() { local t=${EPOCHREALTIME/./}; printf '%s\n' "$((10#$t))"; }

# timed CMD... — runs CMD in the namespace, prints its wall time in µs; fails if CMD does.
timed() {
    local t0 t1
    t0=$(now_us)
    lab_exec "$NS" "$@" >"$D/last.out" 2>"$D/last.err" || { cat "$D/last.err" >&2; return 1; }
    t1=$(now_us)
    echo $((t1 - t0))
}

count_fdb() { lab_exec "$NS" bridge fdb show dev vx100 | grep -c 'dst .* self extern_learn'; }
count_port() { lab_exec "$NS" bridge fdb show dev vx100 | grep -c 'extern_learn master br100'; }
count_neigh() { lab_exec "$NS" ip neigh show nud all dev br100 | grep -c 'proto 245'; }
check() {   # check WHAT FDB PORT NEIGH
    local f p n
    f=$(count_fdb) p=$(count_port) n=$(count_neigh)
    [ "$f:$p:$n" = "$2:$3:$4" ] || { ANOMALIES+=("$1: kernel holds $f vxlan, $p bridge, $n neighbour entries, want $2, $3, $4"); }
}

declare -A T=()
ANOMALIES=()
add_t() { T[$1]="${T[$1]:-} $2"; }

for ((trial = 1; trial <= TRIALS; trial++)); do
    progress "trial $trial/$TRIALS: iproute2"
    fresh
    t=$(timed bridge -batch "$D/fdb.batch") || lab_die "bridge -batch failed"
    add_t ip_fdb "$t"
    t=$(timed ip -batch "$D/neigh.batch") || lab_die "ip -batch failed"
    add_t ip_neigh "$t"
    check "iproute2 trial $trial" "$ENTRIES" "$ENTRIES" "$ENTRIES"
    t=$(timed sh -c 'bridge fdb show br br100 >/dev/null && ip neigh show nud all dev br100 >/dev/null')
    add_t ip_show "$t"

    progress "trial $trial/$TRIALS: fdbtool"
    fresh
    t=$(timed "$FDBTOOL" apply "$D/fdb.state") || lab_die "fdbtool apply (fdb) failed"
    add_t ft_fdb "$t"
    fresh
    t=$(timed "$FDBTOOL" apply "$D/neigh.state") || lab_die "fdbtool apply (neigh) failed"
    add_t ft_neigh "$t"
    fresh
    t=$(timed "$FDBTOOL" apply "$D/all.state") || lab_die "fdbtool apply (all) failed"
    add_t ft_all "$t"
    check "fdbtool trial $trial" "$ENTRIES" "$ENTRIES" "$ENTRIES"
    t=$(timed "$FDBTOOL" apply "$D/all.state") || lab_die "fdbtool apply (no-op) failed"
    add_t ft_noop "$t"
    noop_json=$(cat "$D/last.out")
    changes=$(jq '[.fdb, .flood, .neigh] | map(.added + .updated + .removed) | add' <<<"$noop_json")
    [ "$changes" = 0 ] || ANOMALIES+=("no-op reconcile of trial $trial changed $changes entries")
done

# --- the event loop's longest stall -----------------------------------------------------------
# fdbtool stall: the same work from an event loop with a 1 ms timer; the longest gap between
# its ticks is what a daemon's other events (fabricd's session, the control socket) wait.
# ops: every entry as incremental operations in one commit (one Update from fabricd), answered
# from the loop; "ops wait": the same waiting for the answers after queueing, as the blocking
# commit did; apply: a reconcile of fresh devices (blocking dumps, then the changes answered
# from the loop); no-op apply: a reconcile that finds everything in place (the dumps alone).
declare -A S=()
stall() {   # stall KEY ARGS...
    local out
    out=$(lab_exec "$NS" "$FDBTOOL" stall "${@:2}") || lab_die "fdbtool stall $* failed"
    S[$1]=$out
}
progress "stall: fdbtool stall"
fresh; stall ops ops "$D/all.ops"
check "stall ops" "$ENTRIES" "$ENTRIES" "$ENTRIES"
fresh; stall ops_wait ops "$D/all.ops" wait
fresh; stall apply apply "$D/all.state"
stall noop apply "$D/all.state"
# The FDB's dump alone, which is what the learner's resync (vtepd/learn.c) does after lost
# notifications: a no-op repair of the FDB table reports its dump time.
S[fdb_dump]=$(lab_exec "$NS" "$FDBTOOL" repair "$D/all.state" fdb) || lab_die "fdbtool repair fdb failed"

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
range() { tr ' ' '\n' | grep . | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo / 1000, hi / 1000 }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.0f", us / 1000 }'; }
rate() { awk -v n="$1" -v us="$2" 'BEGIN { printf "%.0f", n / (us / 1e6) }'; }

declare -A M=()
for k in "${!T[@]}"; do M[$k]=$(median <<<"${T[$k]}"); done
M[ip_all]=$(( M[ip_fdb] + M[ip_neigh] ))

row() {   # row LABEL N IPROUTE2_US FDBTOOL_US IP_KEY FT_KEY
    local rip rft
    rip=$(rate "$2" "$3") rft=$(rate "$2" "$4")
    printf '%-24s %9s ms %10s/s   %9s ms %10s/s   %6s\n' "$1" "$(ms "$3")" "$rip" "$(ms "$4")" "$rft" \
        "$(awk -v a="$rft" -v b="$rip" 'BEGIN { printf "%.2f", a / b }')"
}

printf 'vtep programming benchmark — %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
printf 'machine: %s cpu (%s), kernel %s; iproute2 %s\n' "$(nproc)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$(uname -r)" \
    "$(ip -V | sed -n 's/.*iproute2-\([^,]*\).*/\1/p')"
printf 'fdbtool: %s (tree %s)\n' "$FDBTOOL" \
    "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
printf 'entries: %d FDB (VNI 100, MAC -> 1 of 250 VTEPs; vxlan + bridge entry, extern_learn) + %d neighbours on br100 (%d IPv4, %d IPv6; noarp extern_learn proto 245)\n' \
    "$ENTRIES" "$ENTRIES" $(( (ENTRIES + 1) / 2 )) $(( ENTRIES / 2 ))
printf 'median of %d trials, each on fresh devices; wall time of the whole command (process start, parsing included)\n\n' "$TRIALS"
printf '%-24s %24s   %24s   %6s\n' "" "iproute2" "fdbtool" "ratio"
row "FDB install" "$ENTRIES" "${M[ip_fdb]}" "${M[ft_fdb]}"
row "neighbour install" "$ENTRIES" "${M[ip_neigh]}" "${M[ft_neigh]}"
row "both (one apply)" $(( 2 * ENTRIES )) "${M[ip_all]}" "${M[ft_all]}"
printf '  (iproute2 "both" = bridge -batch + ip -batch; ratio = fdbtool entries/s / iproute2 entries/s)\n'
printf '  spread (ms): iproute2 fdb %s, neigh %s; fdbtool fdb %s, neigh %s, both %s\n\n' \
    "$(range <<<"${T[ip_fdb]}")" "$(range <<<"${T[ip_neigh]}")" "$(range <<<"${T[ft_fdb]}")" \
    "$(range <<<"${T[ft_neigh]}")" "$(range <<<"${T[ft_all]}")"
printf 'no-op reconcile of all %d entries (dump + compare, nothing sent): %s ms (%s)\n' \
    $(( 2 * ENTRIES )) "$(ms "${M[ft_noop]}")" "$(range <<<"${T[ft_noop]}")"
printf '  last run as fdbtool reports it: %s\n' "$noop_json"
printf '  for scale, `bridge fdb show br br100` + `ip neigh show dev br100` of the same: %s ms\n' "$(ms "${M[ip_show]}")"
printf '\ntarget fdbtool at least as fast as iproute2 for both: %s (ratio %s)\n' \
    "$(awk -v a="${M[ip_all]}" -v b="${M[ft_all]}" 'BEGIN { print (b <= a) ? "met" : "missed" }')" \
    "$(awk -v a="${M[ip_all]}" -v b="${M[ft_all]}" 'BEGIN { printf "%.2f", a / b }')"
sj() { jq -r ".$2" <<<"${S[$1]}"; }
printf '\nevent loop stall while the kernel takes all %d entries (one run each; longest gap between the ticks of a 1 ms timer):\n' \
    $(( 2 * ENTRIES ))
printf '  %-50s %10s %10s %10s\n' "" "stall ms" "queue ms" "total ms"
for k in ops ops_wait apply noop; do
    case $k in
        ops) label="one commit, answered from the loop" ;;
        ops_wait) label="one commit, waited for (the old blocking commit)" ;;
        apply) label="reconcile, fresh devices" ;;
        noop) label="reconcile, nothing to do (dumps)" ;;
    esac
    printf '  %-50s %10s %10s %10s\n' "$label" "$(sj $k stall_max_ms)" "$(sj $k queue_ms)" "$(sj $k total_ms)"
done
printf '  %-50s %10s\n' "FDB dump alone (what a learner resync blocks)" "$(sj fdb_dump dump_ms)"
[ "$(sj ops refused)" = 0 ] || ANOMALIES+=("stall ops: $(sj ops refused) refused")
if [ ${#ANOMALIES[@]} -gt 0 ]; then
    printf '\nanomalies (%d):\n' "${#ANOMALIES[@]}"
    printf '  %s\n' "${ANOMALIES[@]}"
fi
exit 0
