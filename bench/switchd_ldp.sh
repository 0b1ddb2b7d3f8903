#!/usr/bin/env bash
# bench/switchd_ldp.sh [--k "4 6 8"] [--runs N] — PortLand on lab/fattree.sh, per k:
#  - LDP cold start: every switchd started (in a random order), then the time from the last
#    start to every switch located, as fabricd sees it (fabricctl topo, polled every 20 ms);
#    min/median/max over --runs (3). The paper gives no figure; the issue's target is < 1 s
#    at k = 4.
#  - per-switch state once every host has talked (each pings one address): the data plane's
#    map entries at each level (the most any switch of the level holds), next to what a
#    learning bridge would hold there (one FDB entry per host of the tree: k^3/4), and both
#    projected to k = 48 (27,648 hosts) by the formulas the counts fit.
# A benchmark never fails on a figure (bench/README.md).
set -uo pipefail
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/netns/lib.sh
. "$BENCH_ROOT/tests/netns/lib.sh"
# shellcheck source=lab/fattree.sh
. "$BENCH_ROOT/lab/fattree.sh"
KS="4 6 8" RUNS=3
while [ $# -gt 0 ]; do
    case $1 in
        --k) KS=${2:?--k "K ..."}; shift 2 ;;
        --runs) RUNS=${2:?--runs N}; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--k \"4 6 8\"] [--runs N]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root (network namespaces)" >&2; exit 1; }
SWITCHD=$T_BUILD/switchd/switchd
[ -x "$SWITCHD" ] || { echo "$0: build switchd first (scripts/build.sh)" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%d %d %d", v[1], v[int((NR + 1) / 2)], v[NR] }'; }

printf '%-3s %-10s %8s %8s %8s\n' K SWITCHES "MIN ms" "MED ms" "MAX ms"
declare -A STATE
for k in $KS; do
    lab_tmpdir
    ft_build "$k" >/dev/null || exit 1
    ft_pki >/dev/null || exit 1
    bpffs=$LAB_TMP/bpffs-$k
    mkdir "$bpffs" && mount -t bpf bpf "$bpffs" || exit 1
    # on every exit path: the pins' bpffs first, then the tree (lab/fattree.sh)
    bench_cleanup() { local rc=$?; umount -l "$bpffs" 2>/dev/null; (exit "$rc"); ft_cleanup; }
    trap bench_cleanup EXIT
    sock=$LAB_TMP/fabricd.sock
    times=()
    for run in $(seq "$RUNS"); do
        ft_start fm fabricd "$T_BUILD/fabricd/fabricd" -f -l "$FT_CTL_NET.1:$FT_FM_PORT" \
            $(ft_tls fabricd fm) -s "$sock" -S none
        fpid=$FT_LAST_PID
        for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
        nsw=$(ft_switches | wc -l)
        for sw in $(ft_switches | shuf); do
            ft_start_switchd "$sw" -f -F "$FT_CTL_NET.1:$FT_FM_PORT" $(ft_tls switchd "$sw") \
                --bpf-dir "$bpffs" --control-socket "$LAB_TMP/switchd-$sw.sock"
        done
        t0=$(now_ms)
        for _ in $(seq 1500); do
            n=$("$FABRICCTL" -s "$sock" topo --json 2>/dev/null | jq '[.[] | select(.located)] | length')
            [ "${n:-0}" = "$nsw" ] && break
            sleep 0.02
        done
        times+=($(( $(now_ms) - t0 )))
        if [ "$run" = "$RUNS" ]; then
            # every host says something once; then the most entries a switch of each level holds
            pings=()
            for h in $(ft_hosts); do
                ip netns exec "$(lab_ns "$h")" ping -c 2 -W 1 -q "$(ft_host_ip4 h0-0-0)" >/dev/null 2>&1 &
                pings+=($!)
            done
            wait "${pings[@]}"
            for lvl in edge agg core; do
                max=0
                for sw in $(ft_switches "$lvl"); do
                    e=$("$FABRICCTL" -s "$LAB_TMP/switchd-$sw.sock" switch status --json |
                        jq '[.counters | to_entries[] | select(.key | startswith("map.")) | .value] | add')
                    [ "${e:-0}" -gt "$max" ] && max=$e
                done
                STATE[$k,$lvl]=$max
            done
        fi
        for sw in $(ft_switches); do ft_stop_switchd "$sw"; done
        lab_kill_pids "$fpid"
        rm -f "$sock"
    done
    printf '%-3s %-10s %8s %8s %8s\n' "$k" "$nsw" $(printf '%s\n' "${times[@]}" | stats)
    umount -l "$bpffs"
    ft_teardown
done
echo
printf '%-3s %-8s %12s %12s %12s %16s\n' K HOSTS "EDGE maps" "AGG maps" "CORE maps" "BRIDGE FDB/switch"
for k in $KS; do
    printf '%-3s %-8s %12s %12s %12s %16s\n' "$k" $((k * k * k / 4)) "${STATE[$k,edge]}" \
        "${STATE[$k,agg]}" "${STATE[$k,core]}" $((k * k * k / 4))
done
# what the counts are made of (switchd/bpf/switch_shared.h): every switch k ports and one up
# group; an edge 2 entries per host (sw_hosts, sw_amacs) for its k/2 hosts; an
# aggregation k/2 positions; a core k pods (and an empty up group)
k=48
printf '%-3s %-8s %12s %12s %12s %16s   (projected)\n' $k $((k * k * k / 4)) $((k + 1 + k)) \
    $((k + 1 + k / 2)) $((k + 1 + k)) $((k * k * k / 4))
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
