#!/usr/bin/env bash
# bench/takeover_busy.sh — how long a vipd backup takes from the master's priority-0 advert
# to its own first gratuitous ARP on the wire, with the rtnl lock idle and with it busy: a
# concurrent FDB load in the backup's namespace (`bridge -batch` adding and removing 100 k
# static entries on a veth port of a scratch bridge, over and over). Both on the wire, one
# clock (tcpdump on the segment's switch). The groups have `assign: true`, so a takeover
# also adds the VIPs to the interface: a vipd that waits for the kernel before it announces
# is delayed by every rtnl holder in the namespace.
#
# Printed per build (the tree's, and --before BIN, e.g. a build of main before issue 8) and
# load: median (min-max) over the trials of the takeover gap, and of the gap minus the
# backup's Skew_Time (RFC 5798 6.1: (256 - priority) * Master_Adver_Interval / 256), which
# is what vipd itself adds. A benchmark never fails on a time (bench/README.md).
#
# usage: bench/takeover_busy.sh [--trials N] [--before VIPD] [--entries N]
set -uo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/netns/lib.sh
. "$BENCH_ROOT/tests/netns/lib.sh"

TRIALS=5 BEFORE='' ENTRIES=100000
while [ $# -gt 0 ]; do
    case $1 in
        --trials) TRIALS=${2:?}; shift 2 ;;
        --before) BEFORE=${2:?}; shift 2 ;;
        --entries) ENTRIES=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "unknown option '$1'" >&2; exit 2 ;;
    esac
done
[[ $TRIALS =~ ^[1-9][0-9]*$ ]] || { echo "--trials: a positive integer" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "takeover_busy: run as root (network namespaces)" >&2; exit 1; }
for c in tcpdump tshark bridge; do command -v $c >/dev/null || { echo "$c missing" >&2; exit 1; }; done
[ -x "$VIPD" ] || { echo "$VIPD not built" >&2; exit 1; }

ADVERT_MS=100 PRIO_BACKUP=100
SKEW_MS=$(( (256 - PRIO_BACKUP) * ADVERT_MS / 256 ))
MAC2=$(seg_node_mac n2)

# The FDB batch: ENTRIES adds, then as many deletes, on dev dl (a veth port of bridge brl).
batch_file() {
    local i
    for ((i = 0; i < ENTRIES; i++)); do
        printf 'fdb add 02:10:%02x:%02x:%02x:01 dev dl master static\n' $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255))
    done
    for ((i = 0; i < ENTRIES; i++)); do
        printf 'fdb del 02:10:%02x:%02x:%02x:01 dev dl master static\n' $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255))
    done
}

teardown() {
    lab_cleanup
    trap 'lab_cleanup; rm -f "$BATCH"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

trial() {   # BIN LOAD(idle|busy) -> the gap in ms in GAP, or GAP empty
    local bin=$1 load=$2 f= loadpid= cap t0 t1
    GAP=
    "$bin" --help 2>&1 | grep -q -- --foreground && f=-f
    seg_build 2
    lab_tmpdir
    vipd_conf "$LAB_TMP/n1.yaml" node=n1 priority=150 assign=true advert_ms=$ADVERT_MS addrs=198.51.100.10
    vipd_conf "$LAB_TMP/n2.yaml" node=n2 priority=$PRIO_BACKUP assign=true advert_ms=$ADVERT_MS addrs=198.51.100.10
    lab_bg n1 "$LAB_TMP/n1.log" "$bin" $f -c "$LAB_TMP/n1.yaml"
    local p1=$LAB_LAST_PID
    lab_bg n2 "$LAB_TMP/n2.log" "$bin" $f -c "$LAB_TMP/n2.yaml"
    lab_wait_for 5 test -S "$LAB_TMP/vipd-n2.sock" || { teardown; return; }
    # States from the logs, which every build writes the same way (an older build's control
    # socket may not speak this tree's fabricctl).
    lab_wait_for 5 grep -q 'web ipv4: .*-> master' "$LAB_TMP/n1.log" || { teardown; return; }
    lab_wait_for 5 grep -q 'web ipv4: .*-> backup' "$LAB_TMP/n2.log" || { teardown; return; }
    if [ "$load" = busy ]; then
        lab_exec n2 ip link add brl type bridge
        lab_exec n2 ip link add dl type veth peer name dlp
        lab_exec n2 ip link set dl master brl
        lab_exec n2 ip link set dl up
        lab_exec n2 ip link set brl up
        lab_bg n2 "$LAB_TMP/load.log" timeout 60 bash -c "while bridge -batch '$BATCH' >/dev/null 2>&1; do :; done"
        loadpid=$LAB_LAST_PID
        sleep 1
    fi
    cap=$LAB_TMP/wire.pcap
    t_capture_start sw br0 "$cap" 'ip proto 112 or arp'
    local cpid=$T_CAPTURE_PID
    sleep 0.3
    kill -TERM "$p1"
    lab_wait_for 5 grep -q 'web ipv4: .*-> master' "$LAB_TMP/n2.log"
    sleep 0.3
    t_capture_stop "$cpid"
    [ -n "$loadpid" ] && kill "$loadpid" 2>/dev/null
    t0=$(tshark -n -r "$cap" -Y 'vrrp.prio == 0' -T fields -e frame.time_epoch 2>/dev/null | head -1)
    t1=$(tshark -n -r "$cap" -Y "arp.isgratuitous && eth.src == $MAC2" -T fields -e frame.time_epoch 2>/dev/null | head -1)
    teardown
    [ -n "$t0" ] && [ -n "$t1" ] && GAP=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
}

stats() {   # values... -> "median (min-max) n"
    [ $# -gt 0 ] || { echo "- (no trial succeeded)"; return; }
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (!NR) { print "-"; exit }
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f (%.1f-%.1f) n=%d\n", m, v[1], v[NR], NR }'
}

BATCH=$(mktemp /tmp/l2f-takeover-XXXXXX.batch) || exit 1
trap 'lab_cleanup; rm -f "$BATCH"' EXIT
batch_file >"$BATCH"
builds=("$VIPD")
[ -n "$BEFORE" ] && builds+=("$BEFORE")
printf 'vipd takeover, priority-0 advert -> first gratuitous ARP (ms); advert %d ms, skew %d ms, %d trials\n' \
    "$ADVERT_MS" "$SKEW_MS" "$TRIALS"
printf '%-44s %-6s %-26s %s\n' build rtnl gap "gap - skew"
for bin in "${builds[@]}"; do
    for load in idle busy; do
        gaps=()
        for ((t = 0; t < TRIALS; t++)); do
            trial "$bin" "$load"
            [ -n "$GAP" ] && gaps+=("$GAP")
        done
        less=()
        for g in "${gaps[@]}"; do less+=("$(awk -v g="$g" -v s="$SKEW_MS" 'BEGIN { printf "%.1f", g - s }')"); done
        printf '%-44s %-6s %-26s %s\n' "$bin" "$load" "$(stats "${gaps[@]}")" "$(stats "${less[@]}")"
    done
done
