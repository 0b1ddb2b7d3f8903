#!/usr/bin/env bash
# bench/fabricd_memory.sh [--bindings N] [--agents N] [--batch N] [--vnis N] [--tls-sessions N]
#                         [--keep-logs DIR]
# — fabricd's memory per binding: the real fabricd process in a namespace, loaded with N
# learned bindings (default 1,000,000; one IPv4 + one IPv6 address each) by fake vtepd agents
# (tests/tools/agentload, on its Unix socket); RSS before and after, (delta bytes) / N, next to
# what the directory's structures alone take; then, at that size, what --tls-sessions (100)
# mutual-TLS sessions add (vipd peers, tests/tools/wirepeer, on fabricd's TCP listener).
# Target (issue 3): <= 256 bytes per binding at 1M. See bench/README.md. Never fails on a
# figure; exits non-zero only when it cannot measure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB_PREFIX=${LAB_PREFIX:-l2fm-$$-}
# shellcheck source=lab/lib.sh
. "$ROOT/lab/lib.sh"

BINDINGS=1000000 AGENTS=4 BATCH=5000 VNIS=16 TLS_SESSIONS=100 KEEP_LOGS=
while [ $# -gt 0 ]; do
    case $1 in
        --bindings) BINDINGS=${2:?--bindings N}; shift 2 ;;
        --agents) AGENTS=${2:?--agents N}; shift 2 ;;
        --batch) BATCH=${2:?--batch N}; shift 2 ;;
        --vnis) VNIS=${2:?--vnis N}; shift 2 ;;
        --tls-sessions) TLS_SESSIONS=${2:?--tls-sessions N}; shift 2 ;;
        --keep-logs) KEEP_LOGS=${2:?--keep-logs DIR}; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--bindings N] [--agents N] [--batch N] [--vnis N] [--tls-sessions N] [--keep-logs DIR]" >&2; exit 2 ;;
    esac
done
case $BINDINGS$AGENTS$BATCH$VNIS$TLS_SESSIONS in *[!0-9]*) echo "$0: options take numbers" >&2; exit 2 ;; esac
if [ "$BINDINGS" -lt 1000 ] || [ "$BINDINGS" -gt 16000000 ]; then echo "$0: --bindings 1000..16000000" >&2; exit 2; fi

lab_require_root
BUILD=${L2F_BUILD:-$ROOT/build}
FABRICD=$BUILD/fabricd/fabricd AGENTLOAD=$BUILD/tests/tools/agentload
WIREPEER=$BUILD/tests/tools/wirepeer FABRICCTL=$BUILD/fabricctl/fabricctl
for b in "$FABRICD" "$AGENTLOAD" "$WIREPEER" "$FABRICCTL"; do [ -x "$b" ] || lab_die "$b not built (meson compile -C build)"; done

progress() { printf '[fabricd_memory] %s\n' "$*" >&2; }

lab_tmpdir
D=$LAB_TMP
lab_ns_add m
lab_veth m u0 m u1   # an interface to hold the listening address (no dummy module needed)
lab_exec m ip link set u0 up
lab_exec m ip link set u1 up
lab_exec m ip addr add 198.18.0.2/24 dev u0

P=$D/pki
bash "$ROOT/scripts/certs.sh" "$P" ca >/dev/null && bash "$ROOT/scripts/certs.sh" "$P" issue fabricd fm 198.18.0.2 >/dev/null &&
    bash "$ROOT/scripts/certs.sh" "$P" issue vipd hv1 >/dev/null || lab_die "cannot make the certificates"
lab_bg m "$D/fabricd.log" "$FABRICD" -f -l 198.18.0.2:7301 --ca "$P/ca.pem" --cert "$P/fabricd-fm.pem" \
    --key "$P/fabricd-fm.key" -s "$D/fabricd.sock" -S "$D/fabricd.store" -i fm
FABRICD_PID=$LAB_LAST_PID
lab_wait_for 5 test -S "$D/fabricd.sock" || lab_die "fabricd did not start (see $D/fabricd.log)"

progress "loading $BINDINGS bindings from $AGENTS agents, $BATCH per report"
lab_exec m "$AGENTLOAD" -f "$D/fabricd.sock" -P "$FABRICD_PID" -a "$AGENTS" -n "$BINDINGS" -b "$BATCH" \
    -v "$VNIS" -t 170 >"$D/agentload.out" 2>"$D/agentload.log" || {
    cat "$D/agentload.log" >&2; lab_die "agentload failed"; }
lab_alive "$FABRICD_PID" || lab_die "fabricd died during the load (see $D/fabricd.log)"
declare -A V=()
while read -r k v; do V[$k]=$v; done <"$D/agentload.out"

# TLS sessions at that size: vipd peers that say Hello and hold their session
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$FABRICD_PID/status"; }
vipd_sessions() { lab_exec m "$FABRICCTL" -s "$D/fabricd.sock" status --json | jq -r '.counters["sessions.vipd"]'; }
tls_before=$(rss_kb) tls_after=$tls_before
if [ "$TLS_SESSIONS" -gt 0 ]; then
    progress "$TLS_SESSIONS TLS sessions"
    pids=()
    for ((i = 0; i < TLS_SESSIONS; i++)); do
        lab_bg m "$D/wirepeer-$i.log" "$WIREPEER" -f 198.18.0.2:7301 --ca "$P/ca.pem" \
            --cert "$P/vipd-hv1.pem" --key "$P/vipd-hv1.key" --role vipd --hold 60
        pids+=("$LAB_LAST_PID")
    done
    lab_wait_for 60 '[ "$(vipd_sessions)" = '"$TLS_SESSIONS"' ]' || lab_die "not every TLS session came up"
    sleep 0.5
    tls_after=$(rss_kb)
    lab_kill_pids "${pids[@]}"
fi

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
[ "$TLS_SESSIONS" -gt 0 ] && printf '\n%d mutual-TLS sessions (TLS 1.3, vipd peers) at %d bindings: VmRSS %d -> %d kB, %.1f kB a session\n' \
    "$TLS_SESSIONS" "$N" "$tls_before" "$tls_after" "$(awk -v a="$tls_before" -v b="$tls_after" -v n="$TLS_SESSIONS" 'BEGIN { print (b - a) / n }')"
printf '\ntarget <= 256 bytes per binding at %d bindings (VmRSS delta / bindings): %s (%s B)\n' "$N" \
    "$(awk -v m="$measured" 'BEGIN { print (m <= 256) ? "met" : "missed" }')" "$measured"
if [ -n "$KEEP_LOGS" ]; then
    mkdir -p "$KEEP_LOGS" && cp "$D"/*.log "$D"/agentload.out "$KEEP_LOGS"/ &&
        printf 'logs kept in %s\n' "$KEEP_LOGS"
fi
exit 0
