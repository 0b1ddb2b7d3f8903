#!/usr/bin/env bash
# bench/fabricd_memory.sh [--bindings N] [--agents N] [--batch N] [--vnis N] [--keep-logs DIR]
# — fabricd's memory per binding: the real fabricd process in a namespace, loaded with N
# learned bindings (default 1,000,000; one IPv4 + one IPv6 address each) by fake vtepd agents
# (tests/tools/agentload); RSS before and after, (delta bytes) / N, next to what the
# directory's structures alone take. Target (issue 3): <= 256 bytes per binding at 1M. See
# bench/README.md. Never fails on a figure; exits non-zero only when it cannot measure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB_PREFIX=${LAB_PREFIX:-l2fm-$$-}
# shellcheck source=lab/lib.sh
. "$ROOT/lab/lib.sh"

BINDINGS=1000000 AGENTS=4 BATCH=5000 VNIS=16 KEEP_LOGS=
while [ $# -gt 0 ]; do
    case $1 in
        --bindings) BINDINGS=${2:?--bindings N}; shift 2 ;;
        --agents) AGENTS=${2:?--agents N}; shift 2 ;;
        --batch) BATCH=${2:?--batch N}; shift 2 ;;
        --vnis) VNIS=${2:?--vnis N}; shift 2 ;;
        --keep-logs) KEEP_LOGS=${2:?--keep-logs DIR}; shift 2 ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--bindings N] [--agents N] [--batch N] [--vnis N] [--keep-logs DIR]" >&2; exit 2 ;;
    esac
done
case $BINDINGS$AGENTS$BATCH$VNIS in *[!0-9]*) echo "$0: options take numbers" >&2; exit 2 ;; esac
if [ "$BINDINGS" -lt 1000 ] || [ "$BINDINGS" -gt 16000000 ]; then echo "$0: --bindings 1000..16000000" >&2; exit 2; fi

lab_require_root
BUILD=${L2F_BUILD:-$ROOT/build}
FABRICD=$BUILD/fabricd/fabricd AGENTLOAD=$BUILD/tests/tools/agentload
for b in "$FABRICD" "$AGENTLOAD"; do [ -x "$b" ] || lab_die "$b not built (meson compile -C build)"; done

progress() { printf '[fabricd_memory] %s\n' "$*" >&2; }

lab_tmpdir
D=$LAB_TMP
lab_ns_add m
lab_veth m u0 m u1   # an interface to hold the listening address (no dummy module needed)
lab_exec m ip link set u0 up
lab_exec m ip link set u1 up
lab_exec m ip addr add 198.18.0.2/24 dev u0

lab_bg m "$D/fabricd.log" "$FABRICD" -s "$D/fabricd.sock" -S "$D/fabricd.store" -i fm
FABRICD_PID=$LAB_LAST_PID
lab_wait_for 5 test -S "$D/fabricd.sock" || lab_die "fabricd did not start (see $D/fabricd.log)"

progress "loading $BINDINGS bindings from $AGENTS agents, $BATCH per report"
lab_exec m "$AGENTLOAD" -f "$D/fabricd.sock" -P "$FABRICD_PID" -a "$AGENTS" -n "$BINDINGS" -b "$BATCH" \
    -v "$VNIS" -t 170 >"$D/agentload.out" 2>"$D/agentload.log" || {
    cat "$D/agentload.log" >&2; lab_die "agentload failed"; }
lab_alive "$FABRICD_PID" || lab_die "fabricd died during the load (see $D/fabricd.log)"
declare -A V=()
while read -r k v; do V[$k]=$v; done <"$D/agentload.out"

# What the directory's structures alone take (directory.h, lib/macmap.c): a binding and its
# address array are one malloc chunk each; the macmap keeps its load at most 1/2 and doubles,
# so at N bindings it has the smallest power of two >= 2N slots.
slots=1; while [ $((slots)) -lt $((2 * BINDINGS)) ]; do slots=$((slots * 2)); done
N=$BINDINGS
per() { awk -v b="$1" -v n="$N" 'BEGIN { printf "%.1f", b / n }'; }
kb_per() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%.1f", (b - a) * 1024 / n }'; }
table=$(per $((slots * V[sizeof_slot])))
model=$(awk -v a="$table" -v b="${V[chunk_binding]}" -v c="${V[chunk_ips2]}" 'BEGIN { printf "%.1f", a + b + c }')
measured=$(kb_per "${V[before_rss_kb]}" "${V[after_rss_kb]}")

printf 'fabricd memory benchmark — %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
printf 'machine: %s cpu (%s), kernel %s, %s\n' "$(nproc)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$(uname -r)" \
    "$(ldd --version 2>/dev/null | head -n 1 | sed 's/^ldd //')"
printf 'fabricd: %s (tree %s)\n' "$FABRICD" "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
printf 'load: %d learned bindings from %d fake vtepd agents (tests/tools/agentload), %d per Report,\n' "$N" "$AGENTS" "$BATCH"
printf '  each with 1 IPv4 + 1 IPv6 address, over %d VNIs served by every agent; every agent reads\n' "$VNIS"
printf '  the Updates fabricd pushes to it (%s adds in all) before the next Report; load %d ms\n\n' "${V[adds_received]}" "${V[load_ms]}"

printf '%-34s %12s %12s %12s\n' "fabricd, kB" before after "B/binding"
for k in rss heap anon other; do
    case $k in
        rss) label="VmRSS" ;; heap) label="  [heap] (malloc arena)" ;;
        anon) label="  anonymous mmaps (large blocks)" ;; other) label="  the rest (code, stack, ...)" ;;
    esac
    printf '%-34s %12s %12s %12s\n' "$label" "${V[before_${k}_kb]}" "${V[after_${k}_kb]}" \
        "$(kb_per "${V[before_${k}_kb]}" "${V[after_${k}_kb]}")"
done
printf '%-34s %12s %12s\n' "VmHWM (peak)" "${V[before_hwm_kb]}" "${V[after_hwm_kb]}"
printf '\nwhat the structures take, per binding (this build, glibc chunks incl. their header):\n'
printf '  struct binding     %3d B, malloc chunk %3d B\n' "${V[sizeof_binding]}" "${V[chunk_binding]}"
printf '  ips (2 x %d B)     %3d B, malloc chunk %3d B\n' "${V[sizeof_ipaddr]}" $((2 * V[sizeof_ipaddr])) "${V[chunk_ips2]}"
printf '  macmap slots       %3d B x %d slots (load %.2f) = %s B\n' "${V[sizeof_slot]}" "$slots" \
    "$(awk -v n="$N" -v s="$slots" 'BEGIN { print n / s }')" "$table"
printf '  sum                %s B; measured %s B (difference: allocator slack, transient buffers)\n' "$model" "$measured"
printf '\ntarget <= 256 bytes per binding at %d bindings (VmRSS delta / bindings): %s (%s B)\n' "$N" \
    "$(awk -v m="$measured" 'BEGIN { print (m <= 256) ? "met" : "missed" }')" "$measured"
if [ -n "$KEEP_LOGS" ]; then
    mkdir -p "$KEEP_LOGS" && cp "$D"/*.log "$D"/agentload.out "$KEEP_LOGS"/ &&
        printf 'logs kept in %s\n' "$KEEP_LOGS"
fi
exit 0
