#!/usr/bin/env bash
# bench/api_add.sh [--sizes "1000 100000 1000000"] [--adds N] [--procs N] [--keep-logs DIR]
# — what an API `port add` costs against the size of the directory: for each size, a fresh
# fabricd (store on disk, in the lab's temp dir) preloaded with that many API ports (not
# measured), then ADDS (default 10000) further adds (tests/tools/apiload), measured three
# ways: (a) one at a time (INFLIGHT 1: each add waits for its own fdatasync); (b) INFLIGHT 64
# on one session (group commit); (c) PROCS (default 4) sessions in parallel, INFLIGHT 64
# each. p50 / p99 latency, the cost per add (wall time / adds) and adds per fdatasync, next
# to the fdatasync cost of the same filesystem. Target: <= 0.2 ms per add with
# group commit, independent of size. See bench/README.md. Never fails on a figure; exits
# non-zero only when it cannot measure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB_PREFIX=${LAB_PREFIX:-l2fa-$$-}
# shellcheck source=lab/lib.sh
. "$ROOT/lab/lib.sh"

SIZES="1000 100000 1000000" ADDS=10000 PROCS=4 KEEP_LOGS=
while [ $# -gt 0 ]; do
    case $1 in
        --sizes) SIZES=${2:?--sizes \"N ...\"}; shift 2 ;;
        --adds) ADDS=${2:?--adds N}; shift 2 ;;
        --procs) PROCS=${2:?--procs N}; shift 2 ;;
        --keep-logs) KEEP_LOGS=${2:?--keep-logs DIR}; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--sizes \"1000 100000 1000000\"] [--adds N] [--procs N] [--keep-logs DIR]" >&2; exit 2 ;;
    esac
done
for n in $SIZES $ADDS $PROCS; do case $n in ''|*[!0-9]*) echo "$0: sizes, --adds and --procs take numbers" >&2; exit 2 ;; esac; done
for n in $SIZES; do
    if [ "$n" -lt 1 ] || [ "$n" -gt 4000000 ]; then echo "$0: a size from 1 to 4000000" >&2; exit 2; fi
done
if [ "$ADDS" -lt 100 ] || [ "$ADDS" -gt 1000000 ]; then echo "$0: --adds 100..1000000" >&2; exit 2; fi
if [ "$PROCS" -lt 1 ] || [ "$PROCS" -gt 16 ]; then echo "$0: --procs 1..16" >&2; exit 2; fi

lab_require_root
BUILD=${L2F_BUILD:-$ROOT/build}
FABRICD=$BUILD/fabricd/fabricd APILOAD=$BUILD/tests/tools/apiload FABRICCTL=$BUILD/fabricctl/fabricctl
for b in "$FABRICD" "$APILOAD" "$FABRICCTL"; do [ -x "$b" ] || lab_die "$b not built (meson compile -C build)"; done
for c in jq awk sort python3; do command -v $c >/dev/null || lab_die "$c not installed"; done

progress() { printf '[api_add] %s\n' "$*" >&2; }

lab_tmpdir
D=$LAB_TMP
lab_ns_add fm
NS=$(lab_ns fm)
SOCK=$D/fabricd.sock
CTL=("$FABRICCTL" -s "$SOCK")
STORE_FS=$(df -PT "$D" | awk 'NR == 2 { print $2 }')
STORE_DEV=$(df -P "$D" | awk 'NR == 2 { print $1 }')

forget_pid() {
    local p keep=()
    for p in "${LAB_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    LAB_PIDS=("${keep[@]}")
}
now_us() { local t=${EPOCHREALTIME/./}; printf '%s\n' "$t"; }
fd_ready() { lab_alive "$FD_PID" && "${CTL[@]}" status >/dev/null 2>&1; }

# fd_start TAG STORE: fabricd in fm; START_MS is the time until it answers (replay included).
fd_start() {
    local t0
    rm -f -- "$SOCK"
    t0=$(now_us)
    lab_bg fm "$D/fabricd-$1.log" "$FABRICD" -f -s "$SOCK" -S "$2" -i fm
    FD_PID=$LAB_LAST_PID
    lab_wait_for 300 fd_ready || lab_die "fabricd ($1) did not start (see $D/fabricd-$1.log)"
    START_MS=$(( ($(now_us) - t0) / 1000 ))
}
fd_stop() {
    kill -TERM "$FD_PID" 2>/dev/null
    lab_wait_for 60 "! lab_alive $FD_PID" || { kill -KILL "$FD_PID"; lab_die "fabricd did not stop"; }
    wait "$FD_PID" 2>/dev/null
    forget_pid "$FD_PID"
}
counter() { "${CTL[@]}" status --json | jq -r --arg c "$1" '.counters[$c]'; }
field() { grep '^sent ' "$1" | awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'; }
proc_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# apiloads PHASE PREFIX N PROCS INFLIGHT [-q]: PROCS apiload sessions in parallel, N adds in all
# (ports --start'ed apart), prefix PREFIX; waits for all; WALL_US for the whole group.
apiloads() {
    local phase=$1 pp=$2 n=$3 procs=$4 inflight=$5 quiet=${6:-} i per pids=() t0 rc=0 to
    per=$(( (n + procs - 1) / procs ))
    to=$(( n / 2000 + 120 ))
    t0=$(now_us)
    for ((i = 0; i < procs; i++)); do
        ip netns exec "$NS" "$APILOAD" -s "$SOCK" -n "$per" -p "$inflight" -P "$pp" \
            --start $((i * per)) -t "$to" $quiet >"$D/$phase-$i.out" 2>"$D/$phase-$i.err" &
        pids+=($!)
        LAB_PIDS+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || { rc=1; cat "$D/$phase-$i.err" >&2; }
        forget_pid "${pids[$i]}"
    done
    WALL_US=$(( $(now_us) - t0 ))
    [ $rc = 0 ] || lab_die "apiload ($phase) failed"
}

# Nearest-rank percentile of the latencies (µs) of every ack line of a phase's outputs, in ms.
pct_ms() {   # PHASE P
    cat "$D/$1"-*.out | awk '$1 == "ack" { print $3 }' | sort -n | awk -v p="$2" '{ v[NR] = $1 } END {
        if (!NR) { print "-"; exit }
        i = int(p * NR); if (i < p * NR) i++; if (i < 1) i = 1
        printf "%.2f\n", v[i] / 1000 }'
}
per_add_ms() { awk -v w="$1" -v n="$2" 'BEGIN { printf "%.3f\n", w / 1000 / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", (b > 0) ? a / b : 0 }'; }

# The disk's own fdatasync, as the journal does it: append a small record, fdatasync, 2000
# times, on the filesystem that holds the store.
progress "fdatasync of $STORE_FS on $STORE_DEV: 2000 appends of 40 bytes, each followed by fdatasync"
read -r SYNC_P50 SYNC_P99 SYNC_MEAN < <(python3 - "$D/fdatasync.test" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
t = []
for i in range(2000):
    a = time.monotonic_ns()
    os.write(fd, b"x" * 40)
    os.fdatasync(fd)
    t.append(time.monotonic_ns() - a)
os.close(fd)
os.unlink(sys.argv[1])
t.sort()
print("%.3f %.3f %.3f" % (t[len(t) // 2 - 1] / 1e6, t[int(len(t) * 0.99) - 1] / 1e6, sum(t) / len(t) / 1e6))
PY
)

declare -A R=()
for size in $SIZES; do
    store=$D/store-$size
    progress "$size ports: preloading ($PROCS sessions x INFLIGHT 64, not measured)"
    fd_start "$size-pre" "$store"
    apiloads "pre-$size" 01 "$size" "$PROCS" 64 -q
    R[$size,pre_s]=$(awk -v w="$WALL_US" 'BEGIN { printf "%.1f", w / 1e6 }')
    # A restart: no compaction left running from the preload, and the start-up figure.
    fd_stop
    fd_start "$size" "$store"
    R[$size,start_ms]=$START_MS
    R[$size,bindings]=$(counter directory.bindings)
    [ "${R[$size,bindings]}" -ge "$size" ] || lab_die "$size ports preloaded, fabricd lists ${R[$size,bindings]}"
    for ph in a b c; do
        case $ph in
            a) pp=02 procs=1 inflight=1 ;;
            b) pp=03 procs=1 inflight=64 ;;
            c) pp=04 procs=$PROCS inflight=64 ;;
        esac
        progress "$size ports: ($ph) $ADDS adds, $procs session(s) x INFLIGHT $inflight"
        syncs0=$(counter store.syncs)
        apiloads "$ph-$size" "$pp" "$ADDS" "$procs" "$inflight"
        syncs=$(( $(counter store.syncs) - syncs0 ))
        n=$(cat "$D/$ph-$size"-*.out | grep -c '^ack ')
        R[$size,$ph,p50]=$(pct_ms "$ph-$size" 0.5)
        R[$size,$ph,p99]=$(pct_ms "$ph-$size" 0.99)
        R[$size,$ph,per]=$(per_add_ms "$WALL_US" "$n")
        R[$size,$ph,batch]=$(ratio "$n" "$syncs")
    done
    R[$size,rss]=$(proc_kb "$FD_PID" VmRSS) R[$size,hwm]=$(proc_kb "$FD_PID" VmHWM)
    R[$size,file]=$(stat -c %s "$store")
    fd_stop
    rm -f -- "$store" "$store".*
done

printf 'API port add benchmark — %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
printf 'machine: %s cpu (%s), kernel %s\n' "$(nproc)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$(uname -r)"
printf 'fabricd: %s (tree %s)\n' "$FABRICD" "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
printf 'store: %s on %s (%s); its fdatasync (append 40 B + fdatasync, 2000 times):\n' "$D" "$STORE_DEV" "$STORE_FS"
printf '  p50 %s ms, p99 %s ms, mean %s ms\n' "$SYNC_P50" "$SYNC_P99" "$SYNC_MEAN"
[ "$STORE_FS" = tmpfs ] && printf '  WARNING: the store is on tmpfs: these are not a disk'"'"'s figures\n'
printf 'each size: a fresh fabricd, preloaded with that many API ports by %d apiload sessions at\n' "$PROCS"
printf '  INFLIGHT 64 (not measured), restarted (start-up = replay of the journal until fabricd\n'
printf '  answers), then %d more adds per column: (a) 1 session, INFLIGHT 1; (b) 1 session,\n' "$ADDS"
printf '  INFLIGHT 64; (c) %d sessions in parallel, INFLIGHT 64 each. Latency from the request\n' "$PROCS"
printf '  to its reply, which fabricd sends once the record is durable (fdatasync); per add = wall\n'
printf '  time of the column / adds; adds/sync = adds / fdatasyncs (store.syncs) in the column.\n\n'

printf '%-9s %9s %9s | %-23s | %-34s | %-34s | %8s\n' "" "preload" "start-up" "(a) INFLIGHT 1" \
    "(b) INFLIGHT 64" "(c) $PROCS x INFLIGHT 64" "fabricd"
printf '%-9s %9s %9s | %-13s %9s | %-13s %9s %10s | %-13s %9s %10s | %8s\n' "ports" "s" "ms" \
    "p50/p99 ms" "per add" "p50/p99 ms" "per add" "adds/sync" "p50/p99 ms" "per add" "adds/sync" "RSS MB"
for size in $SIZES; do
    printf '%-9s %9s %9s |' "$size" "${R[$size,pre_s]}" "${R[$size,start_ms]}"
    printf ' %-13s %9s |' "${R[$size,a,p50]}/${R[$size,a,p99]}" "${R[$size,a,per]}"
    for ph in b c; do
        printf ' %-13s %9s %10s |' "${R[$size,$ph,p50]}/${R[$size,$ph,p99]}" "${R[$size,$ph,per]}" "${R[$size,$ph,batch]}"
    done
    printf ' %8s\n' "$(awk -v k="${R[$size,rss]}" 'BEGIN { printf "%.1f", k / 1024 }')"
done
printf '\n'
for size in $SIZES; do
    printf 'at %s ports: directory.bindings %s after the restart; at the end: journal %s bytes,\n' \
        "$size" "${R[$size,bindings]}" "${R[$size,file]}"
    printf '  fabricd VmRSS %s kB, VmHWM %s kB (peak since start-up, the journal mapped for its replay included)\n' "${R[$size,rss]}" "${R[$size,hwm]}"
done
printf '\ntarget: <= 0.2 ms per add with group commit, independent of size\n'
best=
for size in $SIZES; do
    b=$(awk -v x="${R[$size,b,per]}" -v y="${R[$size,c,per]}" 'BEGIN { print ((x < y) ? x : y) }')
    printf '  %-9s best of (b), (c): %s ms per add: %s\n' "$size" "$b" \
        "$(awk -v v="$b" 'BEGIN { print ((v <= 0.2) ? "met" : "missed") }')"
    best+="$b "
done
read -r first _ <<<"$best"
last=${best% }; last=${last##* }
printf '  largest size / smallest: %s x the cost per add\n' "$(ratio "$last" "$first")"
if [ -n "$KEEP_LOGS" ]; then
    mkdir -p "$KEEP_LOGS" && cp "$D"/*.log "$D"/*.err "$KEEP_LOGS"/ &&
        printf 'logs kept in %s\n' "$KEEP_LOGS"
fi
exit 0
