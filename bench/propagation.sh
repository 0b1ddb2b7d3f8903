#!/usr/bin/env bash
# bench/propagation.sh [--changes N] [--stores "disk none"] [--transports "tls unix"]
#                      [--timeout-ms MS] [--keep-logs DIR]
# — how long a binding change takes from the API request to the entry being in the kernel of
# every agent that must hold it: fabricd + 3 real vtepd on the overlay lab (lab/overlay.sh),
# N port changes through the API (half new ports, half moves), p50 / p99 / max; the agents
# over TCP with mutual TLS (tls) and, as the plaintext reference of the same run, over
# fabricd's Unix socket (unix). Targets: p99 <= 10 ms with 3 agents (issue 3); TLS p99
# within +0.5 ms of plaintext (issue 7). See bench/README.md. Never fails on a time; exits
# non-zero only when it cannot measure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB_PREFIX=${LAB_PREFIX:-l2fp-$$-}
# shellcheck source=lab/overlay.sh
. "$ROOT/lab/overlay.sh"

CHANGES=1000 STORES="disk none" TRANSPORTS="tls unix" TIMEOUT_MS=2000 KEEP_LOGS=
while [ $# -gt 0 ]; do
    case $1 in
        --changes) CHANGES=${2:?--changes N}; shift 2 ;;
        --stores) STORES=${2:?--stores "disk none"}; shift 2 ;;
        --transports) TRANSPORTS=${2:?--transports "tls unix"}; shift 2 ;;
        --timeout-ms) TIMEOUT_MS=${2:?--timeout-ms MS}; shift 2 ;;
        --keep-logs) KEEP_LOGS=${2:?--keep-logs DIR}; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--changes N] [--stores \"disk none\"] [--transports \"tls unix\"] [--timeout-ms MS] [--keep-logs DIR]" >&2; exit 2 ;;
    esac
done
case $CHANGES$TIMEOUT_MS in *[!0-9]*) echo "$0: --changes and --timeout-ms take numbers" >&2; exit 2 ;; esac
if [ "$CHANGES" -lt 2 ] || [ "$CHANGES" -gt 60000 ]; then echo "$0: --changes 2..60000" >&2; exit 2; fi
for s in $STORES; do case $s in disk|none) ;; *) echo "$0: store 'disk' or 'none', not '$s'" >&2; exit 2 ;; esac; done
for t in $TRANSPORTS; do case $t in tls|unix) ;; *) echo "$0: transport 'tls' or 'unix', not '$t'" >&2; exit 2 ;; esac; done

lab_require_root
BUILD=${L2F_BUILD:-$ROOT/build}
FABRICD=$BUILD/fabricd/fabricd VTEPD=$BUILD/vtepd/vtepd FABRICCTL=$BUILD/fabricctl/fabricctl
PROPTOOL=$BUILD/tests/tools/proptool
for b in "$FABRICD" "$VTEPD" "$FABRICCTL" "$PROPTOOL"; do
    [ -x "$b" ] || lab_die "$b not built (meson compile -C build)"
done
for c in ip bridge jq awk sort; do command -v $c >/dev/null || lab_die "$c not installed"; done

progress() { printf '[propagation] %s\n' "$*" >&2; }

lab_tmpdir
D=$LAB_TMP
FABRICD_ADDR=$OV_FM4:$OV_FM_PORT
SOCK=$D/fabricd.sock
CTL=("$FABRICCTL" -s "$SOCK")
NHV=3

# Stop pids we started and forget them (so the final cleanup never signals a reused pid).
stop_pids() {
    local p keep=() q
    lab_kill_pids "$@"
    for p in "${LAB_PIDS[@]}"; do
        for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
        keep+=("$p")
    done
    LAB_PIDS=("${keep[@]}")
}

fdb_count() {   # HV: remote unicast entries of vx100
    lab_exec "$1" bridge fdb show dev vx100 2>/dev/null | awk '$1 != "00:00:00:00:00:00" && / dst / { n++ } END { print n + 0 }'
}
agents_connected() {
    [ "$("${CTL[@]}" host --json 2>/dev/null | jq '[.[] | select(.connected)] | length')" = "$NHV" ]
}

# fabric_up ROUND STORE TRANSPORT: fabricd in fm (store on disk in the lab's temp dir, or
# none), the lab's VMs as API ports, a vtepd on every hypervisor (over TCP with TLS, or on
# fabricd's Unix socket: a file, which the namespaces share); waits until every agent is
# connected and holds the other VMs of VNI 100.
fabric_up() {
    local round=$1 store=$2 transport=$3 vm hv s to
    s=$([ "$store" = disk ] && echo "$D/fabricd-$round.store" || echo none)
    rm -f "$SOCK"
    ov_pki
    # shellcheck disable=SC2046  # ov_tls prints options
    lab_bg fm "$D/fabricd-$round.log" "$FABRICD" -f -l "$FABRICD_ADDR" $(ov_tls fabricd fm) \
        -s "$SOCK" -S "$s" -i fm
    FABRICD_PID=$LAB_LAST_PID
    lab_wait_for 5 test -S "$SOCK" || lab_die "fabricd did not start (see $D/fabricd-$round.log)"
    for vm in $(ov_vms); do
        "${CTL[@]}" port add --vni "$(ov_vm_vni "$vm")" --mac "$(ov_vm_mac "$vm")" \
            --host "$(ov_vm_host "$vm")" --ip "$(ov_vm_ip4 "$vm")" --ip "$(ov_vm_ip6 "$vm")" \
            --name "$vm" >/dev/null || lab_die "port add $vm"
    done
    VTEPD_PIDS=()
    for hv in $(ov_hvs); do
        if [ "$transport" = tls ]; then to="-F $FABRICD_ADDR $(ov_tls vtepd "$hv")"; else to="-F unix:$SOCK"; fi
        # shellcheck disable=SC2086  # $to is options
        lab_bg "$hv" "$D/vtepd-$hv-$round.log" "$VTEPD" -f -i "$hv" $to \
            --control-socket "$D/vtepd-$hv.sock" -l "$(ov_hv_ip4 "$hv")" -u eth0 -s 100:br100 -s 200:br200
        VTEPD_PIDS+=("$LAB_LAST_PID")
    done
    lab_wait_for 10 agents_connected || lab_die "not all $NHV agents connected"
    for hv in $(ov_hvs); do
        lab_wait_for 10 "[ \"\$(fdb_count $hv)\" = $((NHV - 1)) ]" || lab_die "$hv: FDB of vx100 incomplete"
    done
}

fabric_down() {
    stop_pids "${VTEPD_PIDS[@]}" "$FABRICD_PID"
}

# The plan: hosts, then CHANGES/2 (rounded up) new ports on VNI 100, round robin over the
# hypervisors, each with an IPv4 and an IPv6 address; then the moves, port k from its host
# to the next one. MACs 02:00:64:RR:xx:yy, RR = 0x10 + round, so rounds never share one.
write_plan() {
    local round=$1 file=$2 hv
    {
        for hv in $(ov_hvs); do echo "host $hv $(lab_ns "$hv") $(ov_hv_ip4 "$hv")"; done
        awk -v n="$CHANGES" -v r=$((16 + round)) -v nhv="$NHV" 'BEGIN {
            adds = int((n + 1) / 2)
            for (i = 0; i < n; i++) {
                k = i < adds ? i : i - adds
                mac = sprintf("02:00:64:%02x:%02x:%02x", r, int(k / 256), k % 256)
                ip4 = sprintf("198.19.%d.%d", 1 + int(k / 250), 1 + k % 250)
                ip6 = sprintf("2001:db8:100::%x:%x", r, k + 1)
                h = k % nhv
                if (i < adds) printf "add 100 %s hv%d %s %s\n", mac, h + 1, ip4, ip6
                else printf "move 100 %s hv%d hv%d %s %s\n", mac, (h + 1) % nhv + 1, h + 1, ip4, ip6
            }
        }'
    } >"$file"
}

# Nearest-rank percentile over a column, -1 (not complete) counting as worse than anything.
pct() {   # FILE KIND(add|move|all) COLUMN P
    awk -v kind="$2" -v col="$3" '(kind == "all" || $2 == kind) { print ($col < 0 ? 1e18 : $col) }' "$1" |
        sort -g | awk -v p="$4" '{ v[NR] = $1 } END {
            if (!NR) { print "-"; exit }
            i = int(p * NR); if (i < p * NR) i++; if (i < 1) i = 1
            if (v[i] >= 1e18) print "timeout"; else printf "%.2f\n", v[i] / 1000 }'
}
count() { awk -v kind="$2" '(kind == "all" || $2 == kind) { n++ } END { print n + 0 }' "$1"; }
incomplete() { awk -v kind="$2" -v col="$3" '(kind == "all" || $2 == kind) && $col < 0 { n++ } END { print n + 0 }' "$1"; }

progress "building the overlay lab ($NHV hypervisors)"
ov_build "$NHV"
# A fabricd with a disk store writes it (and fsyncs it) on every API change: say where.
STORE_FS=$(df -PT "$D" | awk 'NR == 2 { print $2 }')

round=0
declare -A RES=() TOOLSUM=()
COLS=()
for store in $STORES; do
    for transport in $TRANSPORTS; do
        round=$((round + 1))
        col="$store/$transport"
        COLS+=("$col")
        progress "round $round: store $store, agents over $transport: fabricd + $NHV vtepd"
        fabric_up "$round" "$store" "$transport"
        write_plan "$round" "$D/plan-$round"
        progress "round $round: $CHANGES changes"
        lab_exec fm "$PROPTOOL" -s "$SOCK" -p "$D/plan-$round" -t "$TIMEOUT_MS" \
            >"$D/result-$round" 2>"$D/proptool-$round.log" || {
            cat "$D/proptool-$round.log" >&2; lab_die "proptool failed"; }
        TOOLSUM[$col]=$(tail -n 1 "$D/proptool-$round.log")
        RES[$col]=$D/result-$round
        fabric_down
    done
done

printf 'propagation benchmark — %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
printf 'machine: %s cpu (%s), kernel %s\n' "$(nproc)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$(uname -r)"
printf 'fabricd, vtepd: %s (tree %s)\n' "$BUILD" "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
printf 'lab: fabricd in fm, %d hypervisors each with a real vtepd (VNI 100, 200); %d changes on VNI 100\n' "$NHV" "$CHANGES"
printf '  through one fabricctl session (port_add): %d new ports (IPv4 + IPv6 each, round robin\n' $(( (CHANGES + 1) / 2 ))
printf '  over the hypervisors), then %d moves (each port to the next hypervisor)\n' $(( CHANGES / 2 ))
printf 'a change is complete when every agent holds it: FDB = the vxlan entry MAC -> VTEP of its\n'
printf '  host on the other 2 hypervisors (and, for a move, the old remote entry gone on the new\n'
printf '  host); +neigh = also the IPv4 and IPv6 suppression neighbours on all 3 (new ports).\n'
printf '  Times from right before the request is written to the netlink notification, one clock.\n'
printf 'store: disk = the journal in %s (%s; the API reply waits for its group commit);\n' "$D" "$STORE_FS"
printf '  none = fabricd -S none. Agents: tls = TCP with mutual TLS 1.3; unix = fabricd'"'"'s Unix\n'
printf '  socket, plaintext (the reference)\n\n'

printf '%-28s' "ms, p50 / p99 / max"
for col in "${COLS[@]}"; do printf '  %-26s' "$col"; done
printf '\n'
row() {   # LABEL KIND COLUMN
    local col
    printf '%-28s' "$1"
    for col in "${COLS[@]}"; do
        printf '  %-26s' "$(pct "${RES[$col]}" "$2" "$3" 0.5) / $(pct "${RES[$col]}" "$2" "$3" 0.99) / $(pct "${RES[$col]}" "$2" "$3" 1)"
    done
    printf '\n'
}
row "API reply, all changes" all 3
row "FDB in every agent, all" all 4
row "  new ports" add 4
row "  moves" move 4
row "FDB + neigh, new ports" add 5
printf '\n'
for col in "${COLS[@]}"; do
    printf '%s: %s; incomplete after %d ms: %d\n' "$col" "${TOOLSUM[$col]#proptool: }" \
        "$TIMEOUT_MS" "$(incomplete "${RES[$col]}" all 5)"
done
main=${COLS[0]}
p99=$(pct "${RES[$main]}" all 4 0.99)
verdict=$(awk -v v="$p99" 'BEGIN { print (v != "timeout" && v + 0 <= 10) ? "met" : "missed" }')
printf '\ntarget p99 <= 10 ms, binding change to FDB in every agent (3 agents, %s): %s (%s ms over %d changes)\n' \
    "$main" "$verdict" "$p99" "$(count "${RES[$main]}" all)"
for store in $STORES; do
    [ -n "${RES[$store/tls]:-}" ] && [ -n "${RES[$store/unix]:-}" ] || continue
    t=$(pct "${RES[$store/tls]}" all 4 0.99) u=$(pct "${RES[$store/unix]}" all 4 0.99)
    printf 'target TLS p99 within +0.5 ms of plaintext (store %s): %s (tls %s, unix %s, %+.2f ms)\n' \
        "$store" "$(awk -v t="$t" -v u="$u" 'BEGIN { print (t != "timeout" && t - u <= 0.5) ? "met" : "missed" }')" \
        "$t" "$u" "$(awk -v t="$t" -v u="$u" 'BEGIN { print t - u }')"
done
if [ -n "$KEEP_LOGS" ]; then
    mkdir -p "$KEEP_LOGS" && cp "$D"/*.log "$D"/result-* "$D"/plan-* "$KEEP_LOGS"/ &&
        printf 'logs, plans and per-change results kept in %s\n' "$KEEP_LOGS"
fi
exit 0
