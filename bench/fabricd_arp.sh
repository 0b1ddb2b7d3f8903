#!/usr/bin/env bash
# bench/fabricd_arp.sh [--seconds S] [--batch N] [--runs N]
# — fabricd's proxy-ARP/ND resolutions per second on one core, end to end over the session:
# the real fabricd in a namespace, pinned to CPU 0, answering PortLand edges played by
# tests/tools/plpeer (pinned to CPU 1) on its Unix socket. For each table (100,000 IPv4
# hosts; 1,000,000 IPv6 hosts) the edges register every host, then one edge asks for
# addresses at random in batches of N (4096), 8 batches in flight, for S seconds (5); every
# answer must carry a PMAC. Prints resolutions/s per run (min/median/max over --runs, 3) and
# fabricd's peak RSS per host. The paper's fabric manager (as recalled, PORTLAND.md §2):
# ~40 k/s, 25 us each; the target (issue 9): >= 2 M/s. Never fails on a figure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB_PREFIX=${LAB_PREFIX:-l2fa-$$-}
# shellcheck source=lab/lib.sh
. "$ROOT/lab/lib.sh"

SECONDS_EACH=5 BATCH=4096 RUNS=3
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) SECONDS_EACH=${2:?--seconds S}; shift 2 ;;
        --batch) BATCH=${2:?--batch N}; shift 2 ;;
        --runs) RUNS=${2:?--runs N}; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--seconds S] [--batch N] [--runs N]" >&2; exit 2 ;;
    esac
done
case $SECONDS_EACH$BATCH$RUNS in *[!0-9]*) echo "$0: options take numbers" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root (network namespaces)" >&2; exit 1; }
BUILD=${L2F_BUILD:-$ROOT/build}
PLPEER=$BUILD/tests/tools/plpeer FABRICD=$BUILD/fabricd/fabricd
[ -x "$PLPEER" ] && [ -x "$FABRICD" ] || { echo "$0: build first (scripts/build.sh)" >&2; exit 1; }
lab_tmpdir
lab_ns_add m
lab_exec m ip link set lo up

# median of the numbers on stdin
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%d %d %d", v[1], v[int((NR + 1) / 2)], v[NR] }'; }

printf '%-22s %12s %12s %12s %14s\n' "TABLE" "MIN/s" "MEDIAN/s" "MAX/s" "RSS B/HOST"
for table in "100000 4" "1000000 6"; do
    set -- $table
    hosts=$1 fam=$2
    rates=()
    for run in $(seq "$RUNS"); do
        sock=$LAB_TMP/fabricd-$hosts-$run.sock
        lab_bg m "$LAB_TMP/fabricd-$hosts-$run.log" taskset -c 0 "$FABRICD" -f -s "$sock" -S none -i fm
        fpid=$LAB_LAST_PID
        for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
        rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$fpid/status")
        args=("$sock" bench "$hosts" "$BATCH" "$SECONDS_EACH")
        [ "$fam" = 6 ] && args+=(6)
        out=$(lab_exec m taskset -c 1 "$PLPEER" "${args[@]}") || { echo "plpeer failed: $out" >&2; exit 1; }
        rates+=("$(awk '$1 == "rate" { print $2 }' <<<"$out")")
        hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$fpid/status")
        lab_kill_pids "$fpid"
    done
    printf '%-22s %12s %12s %12s %14d\n' "$hosts IPv$fam hosts" $(printf '%s\n' "${rates[@]}" | stats) \
        $(( (hwm - rss0) * 1024 / hosts ))
done
echo "batch $BATCH, 8 batches in flight, ${SECONDS_EACH}s a run; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
