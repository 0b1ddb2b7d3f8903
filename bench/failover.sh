#!/usr/bin/env bash
# bench/failover.sh — VIP failover outage of vipd next to keepalived, from the same run.
#
# A client pings each VIP every 1 ms while the master's link is cut, and the outage it sees
# (the longest gap between consecutive replies, lab/measure.sh) is printed for vipd and for
# keepalived with the same advert interval (1000, 100 and 10 ms), as median (min-max) over
# R trials and as a ratio vipd/keepalived. Then both run 60 s at 10 ms adverts with both
# cores loaded by stress-ng, and the transitions nobody asked for are counted.
#
# Each trial builds its own 2-node segment (lab/segment.sh): n1 priority 150 (master), n2
# priority 100, VIPs 198.51.100.10 and 2001:db8:51::10. It waits until n1 is master and the
# client resolves both VIPs to n1's MAC, starts the pings, waits ~0.5 s and then (by default,
# --phase aligned) for the next round of adverts from n1 (IPv4 and IPv6), and cuts n1's link
# within a fraction of a millisecond of it (cut_n1): every trial and both implementations
# then see the same phase, the worst case of a full Master_Down_Interval. With --phase unaligned the cut comes 0.5 s in, wherever that
# falls between adverts (set by start-up timing, so not uniformly spread). The lab is
# removed after every trial.
#
# A benchmark never fails on a time: the verdict lines say met / missed, and the exit status
# is non-zero only when the benchmark could not run. See bench/README.md.
#
# usage: bench/failover.sh [--quick] [--trials N] [--soak SECONDS] [--intervals "1000 100 10"]
#                          [--phase aligned|unaligned] [--no-keepalived] [--keep-logs DIR]
#                          [--capture]
set -uo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/netns/lib.sh
. "$BENCH_ROOT/tests/netns/lib.sh"
# shellcheck source=lab/measure.sh
. "$BENCH_ROOT/lab/measure.sh"

TRIALS=5 SOAK=60 INTERVALS="1000 100 10" KEEP_LOGS='' USE_KEEPALIVED=1 PHASE=aligned CAPTURE=0
VIP4=198.51.100.10 VIP6=2001:db8:51::10
PRIO_MASTER=150 PRIO_BACKUP=100
DEFAULT_ADVERT=100   # vipd's advert_interval_ms default (docs/vipd.yaml.md)

usage() {
    sed -n '/^# usage:/,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
    exit "${1:-0}"
}

while [ $# -gt 0 ]; do
    case $1 in
        --quick) TRIALS=1 SOAK=10; shift ;;
        --trials) TRIALS=${2:?--trials N}; shift 2 ;;
        --soak) SOAK=${2:?--soak SECONDS}; shift 2 ;;
        --intervals) INTERVALS=${2:?--intervals \"MS ...\"}; shift 2 ;;
        --phase) PHASE=${2:?--phase aligned|unaligned}; shift 2 ;;
        --no-keepalived) USE_KEEPALIVED=0; shift ;;
        --keep-logs) KEEP_LOGS=${2:?--keep-logs DIR}; shift 2 ;;
        --capture) CAPTURE=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "unknown option '$1'" >&2; usage 2 ;;
    esac
done
[[ $TRIALS =~ ^[1-9][0-9]*$ ]] || { echo "--trials: a positive integer" >&2; exit 2; }
case $PHASE in aligned|unaligned) ;; *) echo "--phase: aligned or unaligned" >&2; exit 2 ;; esac
[[ $SOAK =~ ^[0-9]+$ ]] || { echo "--soak: seconds (0 skips the soak)" >&2; exit 2; }
for a in $INTERVALS; do
    [[ $a =~ ^[1-9][0-9]*0$ ]] && [ "$a" -le 40950 ] ||
        { echo "--intervals: multiples of 10 ms up to 40950, not '$a'" >&2; exit 2; }
done

say() { printf '%s\n' "$*"; }
note() { printf '  %s\n' "$*" >&2; }   # progress, on stderr so stdout is the report

# --- prerequisites: anything missing here means the benchmark cannot run ------------------
[ "$(id -u)" -eq 0 ] || { echo "failover: needs root (network namespaces)" >&2; exit 1; }
for c in ip ping jq awk; do
    command -v "$c" >/dev/null 2>&1 || { echo "failover: $c not installed (scripts/deps.sh)" >&2; exit 1; }
done
[ -x "$VIPD" ] && [ -x "$FABRICCTL" ] ||
    { echo "failover: $VIPD or $FABRICCTL not built (ninja -C build)" >&2; exit 1; }
if [ "$USE_KEEPALIVED" = 1 ] && ! command -v keepalived >/dev/null 2>&1; then
    note "keepalived not installed: measuring vipd alone"
    USE_KEEPALIVED=0
fi
ALIGN=python
if [ "$PHASE" = aligned ] && ! [ -x "$T_PYTHON" ]; then
    ALIGN=tcpdump
    note "$T_PYTHON not installed: aligning the cut with tcpdump (20-45 ms after the advert)"
    if ! command -v tcpdump >/dev/null 2>&1; then
        note "tcpdump not installed either: cutting at an unaligned phase"
        PHASE=unaligned
    fi
fi
HAVE_STRESS=0; command -v stress-ng >/dev/null 2>&1 && HAVE_STRESS=1
IMPLS="vipd"; [ "$USE_KEEPALIVED" = 1 ] && IMPLS="vipd keepalived"
if [ -n "$KEEP_LOGS" ]; then
    mkdir -p -- "$KEEP_LOGS" || exit 1
    KEEP_LOGS=$(cd "$KEEP_LOGS" && pwd)
fi

MAC1=$(seg_node_mac n1) MAC2=$(seg_node_mac n2)

# --- small helpers --------------------------------------------------------------------------

# Master_Down_Interval of the backup (RFC 5798 6.1), in ms, for an advert interval in ms.
master_down_ms() { awk -v a="$1" -v p="$PRIO_BACKUP" 'BEGIN { printf "%.1f", 3 * a + (256 - p) * a / 256 }'; }

# lab_cleanup removes everything a trial made; it also drops the traps, so set them again.
trial_teardown() {
    local tag=$1 f
    if [ -n "$KEEP_LOGS" ] && [ -n "$LAB_TMP" ]; then
        for f in "$LAB_TMP"/*.log "$LAB_TMP"/*.yaml "$LAB_TMP"/*.conf "$LAB_TMP"/ping.* "$LAB_TMP"/*.pcap; do
            [ -e "$f" ] && cp -- "$f" "$KEEP_LOGS/$tag-${f##*/}"
        done
    fi
    lab_cleanup
    trap lab_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

has_vip() { lab_exec "$1" ip addr show dev eth0 | grep -q "inet6\? $2/"; }

# The client reaches VIP and its neighbour cache maps it to MAC.
client_at() {
    local vip=$1 mac=$2 fam=-4
    [[ $vip == *:* ]] && fam=-6
    lab_exec cl ping "$fam" -c 1 -W 0.3 "$vip" >/dev/null 2>&1 && [ "$(neigh_mac cl "$vip")" = "$mac" ]
}

# state_of IMPL NODE FAMILY: master | backup | fault | init | ?
state_of() {
    local impl=$1 node=$2 fam=$3
    if [ "$impl" = vipd ]; then
        vip_state "${VIPD_SOCKET[$node]}" web "$fam" 2>/dev/null || echo '?'
    else
        local inst=vi4_51
        [ "$fam" = ipv6 ] && inst=vi6_51
        sed -n "s/.*($inst) Entering \([A-Z]*\) STATE.*/\1/p" "$LAB_TMP/keepalived-$node.log" |
            tail -n 1 | tr 'A-Z' 'a-z' | grep . || echo init
    fi
}

ready() {
    local impl=$1 fam
    for fam in ipv4 ipv6; do
        [ "$(state_of "$impl" n1 "$fam")" = master ] || return 1
        [ "$(state_of "$impl" n2 "$fam")" = backup ] || return 1
    done
    has_vip n1 "$VIP4" && has_vip n1 "$VIP6" || return 1
    ! has_vip n2 "$VIP4" && ! has_vip n2 "$VIP6" || return 1
    client_at "$VIP4" "$MAC1" && client_at "$VIP6" "$MAC1"
}

# start_pair IMPL ADVERT_MS: n1 (150) and n2 (100) on a fresh segment.
start_pair() {
    local impl=$1 adv=$2 n prio
    seg_build 2
    lab_tmpdir
    for n in n1 n2; do
        prio=$PRIO_BACKUP; [ "$n" = n1 ] && prio=$PRIO_MASTER
        if [ "$impl" = vipd ]; then
            vipd_conf "$LAB_TMP/vipd-$n.yaml" node="$n" priority="$prio" advert_ms="$adv" \
                assign=true addrs="$VIP4 $VIP6"
            vipd_start "$n" "$LAB_TMP/vipd-$n.yaml"
        else
            keepalived_conf "$LAB_TMP/keepalived-$n.conf" router_id="$n" priority="$prio" \
                advert="$(awk -v a="$adv" 'BEGIN { printf "%g", a / 1000 }')" addrs="$VIP4 $VIP6"
            keepalived_start "$n" "$LAB_TMP/keepalived-$n.conf"
        fi
    done
}

# The cut, --phase aligned: right after one round of n1's adverts (its IPv4 and its IPv6
# advert, which both implementations send within a fraction of a millisecond of each other),
# so that every trial of both implementations starts from the same phase: the backup has
# just restarted its Master_Down_Timer for both families, and the outage is one full
# Master_Down_Interval. A small Python helper (lab/cut_after_advert.py) in the bridge's
# namespace listens on n1's
# bridge port (a packet socket, BPF filter: IPv4 protocol 112 or IPv6 next header 112) and,
# once it has received since it started listening an advert of each family from n1 less
# than half an interval apart, takes that port down itself (SIOCSIFFLAGS, what
# `ip link set n1 down` does): the cut lands ~0.3 ms after the later advert.
# Waiting with tcpdump and then running `ip` (the fallback when python3 is missing) lands it
# 20-45 ms after an IPv4 advert, by how long tcpdump, `ip netns exec` and the shell take at
# that moment: as much as the differences the benchmark is after, and not the same on
# average for both implementations. Prints "advert4 TS advert6 TS cut T0 T1" (epoch
# seconds; TS the kernel's receive stamps) and exits 0, or exits 1 when no such round came
# within LIMIT seconds.

# cut_n1 ADVERT_MS LIMIT_S: cuts n1's link (aligned to a round of adverts, waiting at most
# LIMIT_S, or at once); sets CUT_MS (epoch ms, at or before the cut) and CUT_LAG4 / CUT_LAG6
# (ms from n1's last IPv4 / IPv6 advert to the cut done; empty when not known). The cut's
# times go to $LAB_TMP/cut.log.
cut_n1() {
    local adv=$1 limit=$2 pid line a4 a6 c0 c1
    CUT_LAG4='' CUT_LAG6=''
    if [ "$PHASE" = aligned ] && [ "$ALIGN" = python ]; then
        lab_bg sw "$LAB_TMP/cut.log" "$T_PYTHON" "$BENCH_ROOT/lab/cut_after_advert.py" n1 "$MAC1" "$limit" \
            "$(awk -v a="$adv" 'BEGIN { print a / 2000 }')"
        pid=$LAB_LAST_PID
        lab_wait_for "$(awk -v l="$limit" 'BEGIN { printf "%d", l + 5 }')" t_exited "$pid" ||
            lab_kill_pids "$pid"
        wait "$pid" 2>/dev/null
        line=$(grep -m 1 '^advert4 ' "$LAB_TMP/cut.log")
        if [ -n "$line" ]; then
            read -r _ a4 _ a6 _ c0 c1 <<<"$line"
            CUT_MS=$(awk -v t="$c0" 'BEGIN { printf "%d", t * 1000 }')
            CUT_LAG4=$(awk -v a="$a4" -v c="$c1" 'BEGIN { printf "%.2f", (c - a) * 1000 }')
            CUT_LAG6=$(awk -v a="$a6" -v c="$c1" 'BEGIN { printf "%.2f", (c - a) * 1000 }')
            return
        fi
        note "no round of adverts from n1 within ${limit}s: cutting now"
    elif [ "$PHASE" = aligned ]; then
        # tcpdump fallback: the client sees an IPv4 advert, then the shell cuts.
        lab_exec cl timeout "$limit" tcpdump -Z root -i eth0 -c 1 -n -q --immediate-mode \
            "ip proto 112 and ether src $MAC1" >/dev/null 2>&1
    fi
    CUT_MS=$(lab_now_ms)
    local t0=$EPOCHREALTIME
    seg_cut n1
    printf 'cut %s %s\n' "$t0" "$EPOCHREALTIME" >>"$LAB_TMP/cut.log"
}

# --capture: every frame of the election and of the pings on the bridge (it is promiscuous,
# so it sees the unicast between ports too), from before the cut to the end of the trial,
# kept with --keep-logs as TAG-capture.pcap next to TAG-cut.log (the cut's wall clock).
CAPTURE_PID=''
capture_start() {
    lab_bg sw "$LAB_TMP/tcpdump.log" tcpdump -Z root -n -U --immediate-mode -s 128 -i br0 \
        -w "$LAB_TMP/capture.pcap" 'ip proto 112 or ip6 proto 112 or arp or icmp or icmp6'
    CAPTURE_PID=$LAB_LAST_PID
    lab_wait_for 5 grep -q 'listening on' "$LAB_TMP/tcpdump.log" || note "tcpdump did not start"
}
capture_stop() { [ -n "$CAPTURE_PID" ] && lab_kill_pids "$CAPTURE_PID"; CAPTURE_PID=''; }

# Results: RES[impl,adv,fam] = space-separated outages (ms); FAILS[...] = count of trials
# without a figure; LAG[impl,adv,fam] = how long after n1's advert each cut came (ms); NOTES = anomalies seen, printed at the end.
declare -A RES=() FAILS=() LAG=()
NOTES=()
anomaly() { NOTES+=("$*"); note "anomaly: $*"; }

# run_trial IMPL ADVERT_MS TRIAL_NO
run_trial() {
    local impl=$1 adv=$2 no=$3 md count settle limit cut_ms fam vip out tag bm0 bm1
    local -A plog=() ppid=()
    tag=$impl-$adv-t$no
    md=$(master_down_ms "$adv")
    start_pair "$impl" "$adv"
    limit=$(awk -v m="$md" 'BEGIN { printf "%d", 2 * m / 1000 + 10 }')
    if ! lab_wait_for "$limit" ready "$impl"; then
        anomaly "$tag: n1 not master with the client at its MAC within ${limit}s" \
            "(n1 $(state_of "$impl" n1 ipv4)/$(state_of "$impl" n1 ipv6)," \
            "n2 $(state_of "$impl" n2 ipv4)/$(state_of "$impl" n2 ipv6))"
        for fam in v4 v6; do FAILS[$impl,$adv,$fam]=$((${FAILS[$impl,$adv,$fam]:-0} + 1)); done
        trial_teardown "$tag"
        return
    fi
    # n2 master before n1's adverts reached it: a start-up transient, told apart from the
    # failover's transitions.
    read -r _ bm0 <<<"$("${impl}_counts" n2)"
    [ "$bm0" = 0 ] || anomaly "$tag: at start-up n2 became master $bm0 time(s) (over its 2 instances) before following n1"
    # Pings: 0.5 s before the cut, up to one advert interval waiting for the phase, the
    # Master_Down_Interval, then at least 1 s (or half the interval) to see replies resume.
    count=$(awk -v a="$adv" -v m="$md" 'BEGIN { t = m / 2; if (t < 1000) t = 1000;
                                               printf "%d", 500 + a + m + t }')
    for vip in "$VIP4" "$VIP6"; do
        measure_ping_start cl "$vip" "$count"
        plog[$vip]=$MEASURE_LOG ppid[$vip]=$MEASURE_PID
    done
    [ "$CAPTURE" = 1 ] && capture_start
    settle=0.5
    sleep "$settle"
    cut_n1 "$adv" "$(awk -v a="$adv" 'BEGIN { printf "%.2f", 2 * a / 1000 + 0.5 }')"
    cut_ms=$CUT_MS
    [ -n "$CUT_LAG4" ] && LAG[$impl,$adv,v4]+="$CUT_LAG4 " LAG[$impl,$adv,v6]+="$CUT_LAG6 "
    for vip in "$VIP4" "$VIP6"; do
        fam=v4; [[ $vip == *:* ]] && fam=v6
        # shellcheck disable=SC2034 # read by measure_ping_wait
        MEASURE_LOG=${plog[$vip]} MEASURE_PID=${ppid[$vip]} MEASURE_COUNT=$count
        out=$(measure_ping_wait)
        if [ "$out" = -1 ]; then
            anomaly "$tag $fam: no ping reply at all"
            FAILS[$impl,$adv,$fam]=$((${FAILS[$impl,$adv,$fam]:-0} + 1))
        elif ! measure_replied_after "${plog[$vip]}" "$cut_ms"; then
            anomaly "$tag $fam: no reply within $((count - 500)) ms of the cut"
            FAILS[$impl,$adv,$fam]=$((${FAILS[$impl,$adv,$fam]:-0} + 1))
        else
            RES[$impl,$adv,$fam]+="$out "
        fi
    done
    # What a peer sees afterwards: n2 master, the client's cache at n2's MAC.
    for fam in ipv4 ipv6; do
        [ "$(state_of "$impl" n2 "$fam")" = master ] ||
            anomaly "$tag: n2 $fam is '$(state_of "$impl" n2 "$fam")' after the cut, not master"
    done
    for vip in "$VIP4" "$VIP6"; do
        [ "$(neigh_mac cl "$vip")" = "$MAC2" ] ||
            anomaly "$tag: client maps $vip to '$(neigh_mac cl "$vip")' after the cut, not n2 ($MAC2)"
    done
    read -r _ bm1 <<<"$("${impl}_counts" n2)"
    [ "$((bm1 - bm0))" = 2 ] ||
        anomaly "$tag: n2 became master $((bm1 - bm0)) time(s) over its 2 instances after the cut, want 2"
    note "$tag: v4 $(tail_res "$impl" "$adv" v4) ms, v6 $(tail_res "$impl" "$adv" v6) ms${CUT_LAG4:+ (cut $CUT_LAG4 / $CUT_LAG6 ms after the adverts)}"
    [ "$CAPTURE" = 1 ] && capture_stop
    trial_teardown "$tag"
}

tail_res() { local r=${RES[$1,$2,$3]:-}; r=${r% }; [ -n "$r" ] && echo "${r##* }" || echo '-'; }

# stats "x y z": "median min max" (or nothing)
stats() {
    tr ' ' '\n' <<<"$1" | grep . | sort -g |
        awk '{ v[n++] = $1 } END { if (!n) exit; m = n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2;
                                   printf "%.1f %.1f %.1f\n", m, v[0], v[n - 1] }'
}

median_of() { local s; s=$(stats "${RES[$1,$2,$3]:-}"); echo "${s%% *}"; }

cell() {
    local s fails=${FAILS[$1,$2,$3]:-0} txt
    s=$(stats "${RES[$1,$2,$3]:-}")
    if [ -n "$s" ]; then
        read -r m lo hi <<<"$s"
        txt="$m ($lo-$hi)"
    else
        txt="n/a"
    fi
    [ "$fails" -gt 0 ] && txt+=" [$fails failed]"
    printf '%s' "$txt"
}

ratio() {
    local a b
    a=$(median_of vipd "$1" "$2") b=$(median_of keepalived "$1" "$2")
    [ -n "$a" ] && [ -n "$b" ] || { printf 'n/a'; return; }
    awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'
}

# --- soak: false transitions at 10 ms adverts under load --------------------------------------

# vipd_counts NODE: "transitions became_master" summed over the node's instances.
vipd_counts() {
    vip_status_json "${VIPD_SOCKET[$1]}" |
        jq -r '[.groups[].instances[].counters] | "\(map(.transitions) | add) \(map(.became_master) | add)"'
}

# keepalived_counts NODE: "transitions became_master" from its log (lines so far).
keepalived_counts() {
    local log=$LAB_TMP/keepalived-$1.log
    printf '%s %s\n' "$(grep -c 'Entering [A-Z]* STATE' "$log")" "$(grep -c 'Entering MASTER STATE' "$log")"
}

declare -A SOAK_FALSE=() SOAK_DETAIL=()

run_soak() {
    local impl=$1 adv=10 t0 t1 n1a n1b n2a n2b pid deadline
    start_pair "$impl" "$adv"
    if ! lab_wait_for 10 ready "$impl"; then
        anomaly "soak $impl: n1 not master with the client at its MAC within 10s"
        trial_teardown "soak-$impl"
        return
    fi
    sleep 1   # past the announcements of the election
    read -r n1a _ <<<"$("${impl}_counts" n1)"
    read -r _ n2a <<<"$("${impl}_counts" n2)"
    t0=$(lab_now_ms)
    if [ "$HAVE_STRESS" = 1 ]; then
        lab_bg sw "$LAB_TMP/stress-ng.log" stress-ng --cpu 2 --timeout "${SOAK}s"
        pid=$LAB_LAST_PID
        deadline=$((t0 + SOAK * 1000 + 15000))
        while lab_alive "$pid" && [ "$(lab_now_ms)" -lt "$deadline" ]; do sleep 0.2; done
        lab_kill_pids "$pid"
    else
        deadline=$((t0 + SOAK * 1000))
        while [ "$(lab_now_ms)" -lt "$deadline" ]; do sleep 0.2; done
    fi
    t1=$(lab_now_ms)
    read -r n1b _ <<<"$("${impl}_counts" n1)"
    read -r _ n2b <<<"$("${impl}_counts" n2)"
    SOAK_FALSE[$impl]=$(( (n1b - n1a) + (n2b - n2a) ))
    SOAK_DETAIL[$impl]="n1 transitions +$((n1b - n1a)), n2 became master +$((n2b - n2a)) in $(( (t1 - t0) / 1000 )) s"
    for fam in ipv4 ipv6; do
        [ "$(state_of "$impl" n1 "$fam")" = master ] ||
            anomaly "soak $impl: n1 $fam is '$(state_of "$impl" n1 "$fam")' at the end, not master"
    done
    note "soak $impl: ${SOAK_DETAIL[$impl]}"
    trial_teardown "soak-$impl"
}

# --- run --------------------------------------------------------------------------------------

ka_version=$( (keepalived --version 2>&1 || true) | sed -n '1s/^Keepalived v\{0,1\}\([^ ]*\).*/\1/p')
rev=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$BENCH_ROOT" diff --quiet HEAD -- 2>/dev/null || rev+="+dirty"
say "failover benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: $(nproc) cpu ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), kernel $(uname -r)"
say "vipd: $VIPD (tree $rev)   keepalived: ${ka_version:-not installed}$([ "$USE_KEEPALIVED" = 1 ] || echo ' (not measured)')"
say "setup: 2 nodes on a bridge, n1 priority $PRIO_MASTER master, n2 $PRIO_BACKUP; client pings $VIP4 and $VIP6 every 1 ms;"
if [ "$PHASE" = aligned ]; then phase_txt="n1's link cut just after one of its adverts (--phase aligned)"
else phase_txt="n1's link cut 0.5 s in, not aligned to the adverts (--phase unaligned)"; fi
say "       $phase_txt; $TRIALS trial(s) per cell, a fresh lab each"
say ""

start_s=$SECONDS
for adv in $INTERVALS; do
    for ((t = 1; t <= TRIALS; t++)); do
        for impl in $IMPLS; do
            run_trial "$impl" "$adv" "$t"
        done
    done
done
if [ "$SOAK" -gt 0 ]; then
    for impl in $IMPLS; do run_soak "$impl"; done
fi

# --- report -----------------------------------------------------------------------------------

for fam in v4 v6; do
    vip=$VIP4; [ "$fam" = v6 ] && vip=$VIP6
    say "outage (ms) seen by the client for $vip, median (min-max) of $TRIALS"
    printf '%-9s %-12s %-30s %-30s %s\n' advert master-down "vipd-$fam" "keepalived-$fam" "vipd/keepalived"
    for adv in $INTERVALS; do
        ka=n/a r=n/a
        if [ "$USE_KEEPALIVED" = 1 ]; then ka=$(cell keepalived "$adv" "$fam"); r=$(ratio "$adv" "$fam"); fi
        label="$adv ms"; [ "$adv" = "$DEFAULT_ADVERT" ] && label+="*"
        printf '%-9s %-12s %-30s %-30s %s\n' "$label" "$(master_down_ms "$adv")" \
            "$(cell vipd "$adv" "$fam")" "$ka" "$r"
    done
    say ""
done
say "* vipd's default advert interval. master-down: RFC 5798 Master_Down_Interval of the backup"
say "  (3 x interval + skew at priority $PRIO_BACKUP): the outage expected for a cut just after an advert;"
say "  a cut at another phase gives between (master-down - interval) and master-down."
say "  Resolution: fping probes every 1 ms through the outage (lab/measure.sh): figures are within ~1 ms."
if [ "$PHASE" = aligned ]; then
    say ""
    say "cut after n1's last advert (ms), median (min-max): the phase each implementation was measured at"
    printf '%-9s %-6s %-30s %s\n' advert family vipd keepalived
    for adv in $INTERVALS; do
        for fam in v4 v6; do
            line=$(printf '%-9s %-6s' "$adv ms" "$fam")
            for impl in $IMPLS; do
                s=$(stats "${LAG[$impl,$adv,$fam]:-}")
                if [ -n "$s" ]; then read -r m lo hi <<<"$s"; s="$m ($lo-$hi)"; else s=n/a; fi
                line+=$(printf ' %-30s' "$s")
            done
            say "$line"
        done
    done
fi

verdict() { printf 'target %s: %s\n' "$1" "$2"; }
say ""
for fam in v4 v6; do
    m=$(median_of vipd "$DEFAULT_ADVERT" "$fam")
    if [ -z "$m" ]; then v="not measured"
    elif awk -v m="$m" 'BEGIN { exit !(m <= 400) }'; then v="met ($m ms)"
    else v="missed ($m ms)"; fi
    verdict "vipd $fam at defaults (advert ${DEFAULT_ADVERT} ms) <= 400 ms" "$v"
    m=$(median_of vipd 10 "$fam")
    if [ -z "$m" ]; then v="not measured"
    elif awk -v m="$m" 'BEGIN { exit !(m <= 40) }'; then v="met ($m ms)"
    else v="missed ($m ms)"; fi
    verdict "vipd $fam at 10 ms adverts <= 40 ms" "$v"
done
if [ "$USE_KEEPALIVED" = 1 ]; then
    for fam in v4 v6; do
        worse=() cmp=0
        for adv in $INTERVALS; do
            a=$(median_of vipd "$adv" "$fam") b=$(median_of keepalived "$adv" "$fam")
            [ -n "$a" ] && [ -n "$b" ] || continue
            cmp=$((cmp + 1))
            awk -v a="$a" -v b="$b" 'BEGIN { exit !(a > b) }' && worse+=("$adv ms: $a > $b;")
        done
        if [ "$cmp" = 0 ]; then v="not measured"
        elif [ ${#worse[@]} = 0 ]; then v="met (median vipd <= keepalived at every interval)"
        else w="${worse[*]}"; v="missed (${w%;})"; fi
        verdict "vipd $fam never worse than keepalived" "$v"
    done
fi
if [ "$SOAK" -gt 0 ]; then
    f=${SOAK_FALSE[vipd]:-}
    if [ -z "$f" ]; then v="not measured"; elif [ "$f" = 0 ]; then v="met (0)"; else v="missed ($f)"; fi
    [ "$HAVE_STRESS" = 1 ] || v+=" (without load)"
    verdict "vipd 0 false transitions at 10 ms adverts over ${SOAK} s under load" "$v"
fi
if [ ${#NOTES[@]} -gt 0 ]; then
    say ""
    say "anomalies (${#NOTES[@]}):"
    printf '  %s\n' "${NOTES[@]}"
fi
say ""
say "ran in $((SECONDS - start_s)) s"

# Could not run: not one figure for vipd.
got=0
for k in "${!RES[@]}"; do case $k in vipd,*) got=1 ;; esac; done
[ "$got" = 1 ] || { echo "failover: no measurement came out; see the anomalies above" >&2; exit 1; }
exit 0
