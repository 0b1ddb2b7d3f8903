#!/usr/bin/env bash
# bench/vipd_arpflood.sh — the ARP flood a vipd backup survives without a false transition,
# before (an older vipd, main's build by default) and after (this tree's), side by side.
#
# A 2-node segment (lab/segment.sh): n1 priority 150 master, n2 priority 100 backup, one group
# (VIPs 198.51.100.10, 2001:db8:51::10), adverts every --advert-ms. floodtool (tests/tools) in
# the client's namespace sends ARP requests for the VIP to n2's MAC, stepping the rate up
# (--rates, 0 = as fast as it can), --seconds per step. Per step and implementation:
#   arrived      frames/s that reached n2's eth0 (its rx_packets)
#   read         the share of them vipd read (its interface's `frames`)
#   adverts lost adverts n1 sent during the step that n2's VRRP machine never saw
#                (n1 adverts_sent - n2 adverts_received, both families)
#   false trans. transitions of n1 and n2 during the step (any is false: n1 is healthy)
#   queue drops  (after only) frames the kernel dropped from n2's VRRP / ARP-NS socket queue
# Between steps the lab settles (n1 master, n2 backup again). The report ends, for each side,
# with the rate it survived: the arrival rate of the last step before the first with a false
# transition (and before the first that lost an advert).
#
# A benchmark never fails on a figure; it exits non-zero only when it could not run.
#
# usage: bench/vipd_arpflood.sh [--rates "25000 50000 100000 150000 0"] [--seconds 5]
#                               [--advert-ms 20] [--before REV | --before-build DIR]
#                               [--no-before]
#   --before REV        build vipd at REV (git archive into a temp dir, removed at exit);
#                       default 39c9d50, main before the VRRP socket of its own
#   --before-build DIR  use DIR/vipd/vipd, already built
set -uo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/netns/lib.sh
. "$BENCH_ROOT/tests/netns/lib.sh"

RATES="25000 50000 100000 150000 0" SECONDS_PER=5 ADVERT=20 BEFORE_REV=39c9d50 BEFORE_BUILD=''
USE_BEFORE=1
VIP4=198.51.100.10 VIP6=2001:db8:51::10
FLOODTOOL=${L2F_FLOODTOOL:-$T_BUILD/tests/tools/floodtool}

usage() {
    sed -n '/^# usage:/,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit "${1:-0}"
}

while [ $# -gt 0 ]; do
    case $1 in
        --rates) RATES=${2:?--rates \"PPS ...\"}; shift 2 ;;
        --seconds) SECONDS_PER=${2:?--seconds N}; shift 2 ;;
        --advert-ms) ADVERT=${2:?--advert-ms MS}; shift 2 ;;
        --before) BEFORE_REV=${2:?--before REV}; shift 2 ;;
        --before-build) BEFORE_BUILD=${2:?--before-build DIR}; shift 2 ;;
        --no-before) USE_BEFORE=0; shift ;;
        -h|--help) usage 0 ;;
        *) echo "unknown option '$1'" >&2; usage 2 ;;
    esac
done
[[ $SECONDS_PER =~ ^[1-9][0-9]?$ ]] && [ "$SECONDS_PER" -le 30 ] ||
    { echo "--seconds: 1..30" >&2; exit 2; }
[[ $ADVERT =~ ^[1-9][0-9]*0$ ]] && [ "$ADVERT" -le 40950 ] ||
    { echo "--advert-ms: a multiple of 10 up to 40950" >&2; exit 2; }
for r in $RATES; do [[ $r =~ ^[0-9]+$ ]] || { echo "--rates: integers (0: top rate)" >&2; exit 2; }; done

say() { printf '%s\n' "$*"; }
note() { printf '  %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { echo "vipd_arpflood: needs root (network namespaces)" >&2; exit 1; }
for c in ip jq awk; do
    command -v "$c" >/dev/null 2>&1 || { echo "vipd_arpflood: $c not installed" >&2; exit 1; }
done
for f in "$VIPD" "$FABRICCTL" "$FLOODTOOL"; do
    [ -x "$f" ] || { echo "vipd_arpflood: $f not built (ninja -C build)" >&2; exit 1; }
done

BEFORE_TMP=''
bench_cleanup() {
    lab_cleanup
    case $BEFORE_TMP in /tmp/l2f-arpflood-before.*) rm -rf -- "$BEFORE_TMP" ;; esac
}
set_traps() { trap bench_cleanup EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; }
set_traps

# The older vipd: built from REV alone (vipd and fabricctl targets), in a temp dir.
build_before() {
    BEFORE_TMP=$(mktemp -d /tmp/l2f-arpflood-before.XXXXXX) || return 1
    git -C "$BENCH_ROOT" archive "$BEFORE_REV" | tar -x -C "$BEFORE_TMP" || return 1
    (cd "$BEFORE_TMP" && CC=gcc meson setup build >/dev/null && ninja -C build vipd/vipd >/dev/null) \
        >"$BEFORE_TMP/build.log" 2>&1 || { tail -n 20 "$BEFORE_TMP/build.log" >&2; return 1; }
    BEFORE_BUILD=$BEFORE_TMP/build
}

IMPLS=after
declare -A BIN=([after]=$VIPD) LABEL=()
LABEL[after]="this tree ($(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$BENCH_ROOT" diff --quiet HEAD -- 2>/dev/null || echo '+dirty'))"
if [ "$USE_BEFORE" = 1 ]; then
    if [ -z "$BEFORE_BUILD" ]; then
        note "building vipd at $BEFORE_REV ..."
        build_before || { echo "vipd_arpflood: cannot build $BEFORE_REV" >&2; exit 1; }
        LABEL[before]="$BEFORE_REV"
    else
        LABEL[before]="$BEFORE_BUILD"
    fi
    BIN[before]=$BEFORE_BUILD/vipd/vipd
    [ -x "${BIN[before]}" ] || { echo "vipd_arpflood: ${BIN[before]} missing" >&2; exit 1; }
    IMPLS="before after"
fi

MAC2=$(seg_node_mac n2)

# vipd of lib/daemon detaches unless -f; older ones have no -f and stay in the foreground.
start_vipd() {
    local ns=$1 conf=$2 bin=$3 sock fg=()
    "$bin" -h 2>&1 | grep -q -- '--foreground' && fg=(-f)
    sock=$(vipd_socket_of "$conf")
    rm -f -- "$sock"
    lab_bg "$ns" "$LAB_TMP/vipd-$ns.log" "$bin" "${fg[@]}" -c "$conf"
    VIPD_PID[$ns]=$LAB_LAST_PID VIPD_SOCKET[$ns]=$sock
    lab_wait_for 5 vipd_up "$LAB_LAST_PID" "$sock"
}

snap() { vip_status_json "${VIPD_SOCKET[$1]}"; }
sum() {   # sum JSON COUNTER: over the group's instances
    jq -r --arg c "$2" '[.groups[0].instances[].counters[$c]] | add' <<<"$1"
}
sockq() { jq -r --arg s "$2" '.interfaces[0].sockets[$s].queue_drops // "n/a"' <<<"$1"; }
rx_packets() { lab_exec n2 cat /sys/class/net/eth0/statistics/rx_packets; }
settled() {
    [ "$(vip_state "${VIPD_SOCKET[n1]}" web ipv4)$(vip_state "${VIPD_SOCKET[n1]}" web ipv6)" = mastermaster ] &&
        [ "$(vip_state "${VIPD_SOCKET[n2]}" web ipv4)$(vip_state "${VIPD_SOCKET[n2]}" web ipv6)" = backupbackup ]
}

declare -A ROW=() TOPRATE=() CLEAN_T=() CLEAN_A=() FAIL_T=() FAIL_A=()

run_impl() {
    local impl=$1 n prio rate out b1 b2 a1 a2 r0 r1 offered arrived nread lost trans vq sq
    seg_build 2
    lab_tmpdir
    for n in n1 n2; do
        prio=100; [ "$n" = n1 ] && prio=150
        vipd_conf "$LAB_TMP/$n.yaml" node="$n" priority="$prio" advert_ms="$ADVERT" addrs="$VIP4 $VIP6"
        start_vipd "$n" "$LAB_TMP/$n.yaml" "${BIN[$impl]}" || { note "$impl: vipd on $n did not start"; return 1; }
    done
    lab_wait_for 10 settled || { note "$impl: n1 master / n2 backup not reached"; return 1; }
    lab_exec n2 ping -c 1 -W 1 "$SEG_CLIENT4" >/dev/null   # the bridge learns n2's port
    for rate in $RATES; do
        lab_wait_for 10 settled || note "$impl: not settled before the $rate pps step"
        sleep 0.5
        b2=$(snap n2) b1=$(snap n1) r0=$(rx_packets)
        out=$(lab_exec cl "$FLOODTOOL" -i eth0 -k arp --dst-mac "$MAC2" --src-ip "$SEG_CLIENT4" \
            --target "$VIP4" -r "$rate" -d "$SECONDS_PER") || { note "floodtool: $out"; return 1; }
        sleep 0.3
        a1=$(snap n1) a2=$(snap n2) r1=$(rx_packets)
        offered=$(sed -n 's/.*: \([0-9]*\) pps.*/\1/p' <<<"$out")
        arrived=$(( (r1 - r0) / SECONDS_PER ))
        nread=$(( $(jq -r '.interfaces[0].frames' <<<"$a2") - $(jq -r '.interfaces[0].frames' <<<"$b2") ))
        lost=$(( ($(sum "$a1" adverts_sent) - $(sum "$b1" adverts_sent)) -
                 ($(sum "$a2" adverts_received) - $(sum "$b2" adverts_received)) ))
        [ "$lost" -lt 0 ] && lost=0   # an advert in flight at a snapshot
        trans=$(( $(sum "$a1" transitions) - $(sum "$b1" transitions) +
                  $(sum "$a2" transitions) - $(sum "$b2" transitions) ))
        vq=$(sockq "$a2" vrrp) sq=$(sockq "$a2" segment)
        if [ "$vq" != n/a ]; then
            vq=$((vq - $(sockq "$b2" vrrp))) sq=$((sq - $(sockq "$b2" segment)))
        fi
        ROW[$impl,$rate]=$(printf '%7s %5s%% %5s/%-5s %5s %15s' "$arrived" \
            "$(awk -v r="$nread" -v a="$((r1 - r0))" 'BEGIN { printf "%.0f", a ? 100 * r / a : 0 }')" \
            "$lost" "$(( $(sum "$a1" adverts_sent) - $(sum "$b1" adverts_sent) ))" "$trans" "$vq/$sq")
        ROW[$impl,$rate,offered]=$offered
        note "$impl at ${rate:-0} pps: offered $offered, arrived $arrived/s, read $nread, adverts lost $lost, transitions $trans, queue drops $vq/$sq"
        [ "$arrived" -gt "${TOPRATE[$impl]:-0}" ] && TOPRATE[$impl]=$arrived
        # Survived: this step and every one before it had none.
        [ "$trans" = 0 ] && [ -z "${FAIL_T[$impl]:-}" ] && CLEAN_T[$impl]=$arrived
        [ "$trans" = 0 ] || [ -n "${FAIL_T[$impl]:-}" ] || FAIL_T[$impl]=$arrived
        [ "$lost" = 0 ] && [ "$trans" = 0 ] && [ -z "${FAIL_A[$impl]:-}" ] && CLEAN_A[$impl]=$arrived
        [ "$lost" = 0 ] && [ "$trans" = 0 ] || [ -n "${FAIL_A[$impl]:-}" ] || FAIL_A[$impl]=$arrived
    done
    return 0
}

say "vipd ARP flood benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: $(nproc) cpu ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), kernel $(uname -r)"
for impl in $IMPLS; do say "$impl: vipd ${LABEL[$impl]}"; done
say "setup: n1 priority 150 master, n2 100 backup, adverts every $ADVERT ms; ARP requests for $VIP4"
say "       from the client to n2's MAC, $SECONDS_PER s per step"
say ""
got=0
for impl in $IMPLS; do
    run_impl "$impl" && got=1
    lab_cleanup; set_traps
done
[ "$got" = 1 ] || { echo "vipd_arpflood: no measurement came out" >&2; exit 1; }

hdr=$(printf '%7s %6s %11s %5s %15s' arrived read adv-lost trans 'qdrop vrrp/seg')
printf '%-9s' "step"
for impl in $IMPLS; do printf ' | %-49s' "$impl"; done
printf '\n%-9s' "pps"
for impl in $IMPLS; do printf ' | %s' "$hdr"; done
printf '\n'
for rate in $RATES; do
    label=$rate; [ "$rate" = 0 ] && label=top
    printf '%-9s' "$label"
    for impl in $IMPLS; do printf ' | %-49s' "${ROW[$impl,$rate]:-n/a}"; done
    printf '\n'
done
say ""
say "arrived: frames/s at n2's eth0; read: share of them vipd read; adv-lost: adverts n1 sent"
say "that n2 never saw / adverts n1 sent; trans: transitions of n1 and n2 (all false);"
say "qdrop: frames the kernel dropped from n2's VRRP / ARP-NS socket queue (n/a: one socket)."
say ""
# survived IMPL CLEAN FAIL: the figure, or "every step" when nothing failed.
survived() {
    if [ -z "$3" ]; then printf 'every step (top %s pps)' "${TOPRATE[$1]:-?}"
    else printf '%s pps (failed at %s pps)' "${2:-none}" "$3"; fi
}
say "survived: the arrival rate of the last step before the first that failed, stepping up"
for impl in $IMPLS; do
    say "$(printf '  %-6s no false transition: %-34s no advert lost either: %s' "$impl" \
        "$(survived "$impl" "${CLEAN_T[$impl]:-}" "${FAIL_T[$impl]:-}")" \
        "$(survived "$impl" "${CLEAN_A[$impl]:-}" "${FAIL_A[$impl]:-}")")"
done
exit 0
