#!/usr/bin/env bash
# bench/switchd_ldp.sh [--k "4 6 8"] [--runs N] [--host-timeout MS] — PortLand on
# lab/fattree.sh, per k:
#  - LDP cold start: every switchd started (in a random order), then the time from the last
#    start to every switch located, as fabricd sees it (fabricctl topo, polled every 20 ms);
#    min/median/max over --runs (3), with the start window (first to last start) and whether
#    the result was right (every level the wiring's, one pod number per pod, positions
#    0..k/2-1 in each). The paper gives no figure; the issue's target is < 1 s at k = 4.
#    --host-timeout: switchd's LDP host timeout (default its own, 1000 ms). A start window
#    longer than it can mislead switches (docs/switchd.md, "Late switches").
#  - restart into the located fabric: one edge, one aggregation and one core switchd stopped
#    and started again; the time from its start to located (the last run only).
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
KS="4 6 8" RUNS=3 HOST_TIMEOUT=
while [ $# -gt 0 ]; do
    case $1 in
        --k) KS=${2:?--k "K ..."}; shift 2 ;;
        --runs) RUNS=${2:?--runs N}; shift 2 ;;
        --host-timeout) HOST_TIMEOUT=${2:?--host-timeout MS}; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--k \"4 6 8\"] [--runs N] [--host-timeout MS]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root (network namespaces)" >&2; exit 1; }
SWITCHD=$T_BUILD/switchd/switchd FABRICD=$T_BUILD/fabricd/fabricd
[ -x "$SWITCHD" ] || { echo "$0: build switchd first (scripts/build.sh)" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%d %d %d", v[1], v[int((NR + 1) / 2)], v[NR] }'; }

SW_ARGS=(${HOST_TIMEOUT:+--host-timeout "$HOST_TIMEOUT"})
# "right", or what is wrong: levels against the wiring, pods and positions per physical pod
check_right() {
    local topo bad=0 want p n
    topo=$("$FABRICCTL" -s "$FT_FM_SOCK" topo --json 2>/dev/null)
    for sw in $(ft_switches); do
        case $(ft_level "$sw") in
            edge) want=LEVEL_EDGE ;; agg) want=LEVEL_AGGREGATION ;; core) want=LEVEL_CORE ;;
        esac
        [ "$(jq -r --arg n "$sw" '.[] | select(.name == $n) | .level' <<<"$topo")" = "$want" ] ||
            bad=$((bad + 1))
    done
    local pods=()
    for ((p = 0; p < k; p++)); do
        n=$(jq -r --arg p "e$p-" '[.[] | select((.name | startswith($p)) or (.name | startswith("a" + ($p | ltrimstr("e"))))) | .pod] | unique | join(",")' <<<"$topo")
        case $n in *,*|"") bad=$((bad + 1)) ;; esac
        pods+=("$n")
        [ "$(jq -r --arg p "e$p-" '[.[] | select(.name | startswith($p)) | .position] | sort | join(",")' <<<"$topo")" = \
          "$(seq -s, 0 $((k / 2 - 1)))" ] || bad=$((bad + 1))
    done
    [ "$(printf '%s\n' "${pods[@]}" | sort -u | wc -l)" = "$k" ] || bad=$((bad + 1))
    [ $bad = 0 ] && echo right || echo "wrong($bad)"
}

printf '%-3s %-10s %8s %8s %8s  %-22s %s\n' K SWITCHES "MIN ms" "MED ms" "MAX ms" "START WINDOWS ms" RESULT
declare -A STATE RESTART
for k in $KS; do
    # a fresh fabricd per run, below; the bpffs unmounted by ft_teardown: below, or on any exit
    ft_build "$k" >/dev/null
    ft_pki >/dev/null
    ft_bpffs || lab_die "cannot mount a bpffs on $LAB_TMP/bpffs"
    times=() windows=() right=()
    for run in $(seq "$RUNS"); do
        ft_start_fabricd
        nsw=$(ft_switches | wc -l)
        ts=$(now_ms)
        ft_fabric_switchds "${SW_ARGS[@]}"
        t0=$(now_ms)
        windows+=($((t0 - ts)))
        if ft_wait_located 30 "$nsw"; then
            times+=($(( $(now_ms) - t0 )))
        else
            times+=(never)
        fi
        right+=("$(check_right)")
        if [ "$run" = "$RUNS" ]; then
            # one switch of each level stopped and started again into the located fabric
            for sw in $(ft_switches edge | shuf -n 1) $(ft_switches agg | shuf -n 1) \
                      $(ft_switches core | shuf -n 1); do
                ft_stop_switchd "$sw"
                for _ in $(seq 100); do
                    [ "$(ft_located)" -lt "$nsw" ] && break
                    sleep 0.05
                done
                t1=$(now_ms)
                ft_fabric_switchd "$sw" "${SW_ARGS[@]}"
                if ft_wait_located 10 "$nsw"; then
                    RESTART[$k,$(ft_level "$sw")]="$(( $(now_ms) - t1 )) ms ($sw)"
                else
                    RESTART[$k,$(ft_level "$sw")]="not located ($sw)"
                fi
            done
        fi
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
        ft_stop_fabricd
    done
    ok=$(printf '%s\n' "${times[@]}" | grep -c '^[0-9]')
    if [ "$ok" -gt 0 ]; then
        read -r tmin tmed tmax < <(printf '%s\n' "${times[@]}" | grep '^[0-9]' | stats)
    else
        tmin=- tmed=- tmax=-
    fi
    printf '%-3s %-10s %8s %8s %8s  %-22s %s\n' "$k" "$nsw" "$tmin" "$tmed" "$tmax" \
        "$(IFS=/; echo "${windows[*]}")" "$(printf '%s\n' "${right[@]}" | sort | uniq -c | awk '{printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1}')$([ "$ok" -lt "$RUNS" ] && echo ", $((RUNS - ok)) never all located in 30 s")"
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
echo
echo "restart into the located fabric (from its start to located, the last run):"
for k in $KS; do
    printf '  k=%-3s edge %-22s aggregation %-22s core %s\n' "$k" "${RESTART[$k,edge]:-?}" \
        "${RESTART[$k,agg]:-?}" "${RESTART[$k,core]:-?}"
done
echo "host timeout: ${HOST_TIMEOUT:-1000} ms${HOST_TIMEOUT:+ (--host-timeout)}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
