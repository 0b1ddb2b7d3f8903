#!/usr/bin/env bash
# bench/switchd_fwd.sh [--seconds S] [--trials N] — the forwarding rate of one switch
# namespace, switchd's eBPF data plane (switchd/bpf/switch.bpf.c, loaded by
# tests/tools/dpctl) against a Linux bridge doing the same job, in the same run, as a ratio.
#   gen ──(in0) sw (out0)── sink
# gen sends 64-byte UDP frames (60 + FCS) with trafgen, as fast as it can, to one unicast
# destination MAC. eBPF: sw is an aggregation switch of pod 1 and the destination a PMAC of
# pod 1, position 0, behind out0 (in0 an up port): one hash lookup and bpf_redirect. Bridge:
# in0 and out0 on br0, the destination MAC a static FDB entry on out0. The rate is what
# arrives at sink (its eth0 rx_packets) over the trial. Trials alternate bpf and bridge, and
# a third mode, wire (gen:eth1 straight to sink:eth1, no switch), prices the rest of the chain:
# a switch's own cost per frame is its ns/frame less the wire's.
# See bench/README.md. Never fails on a rate; exits non-zero only when it cannot measure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB_PREFIX=${LAB_PREFIX:-l2fsf-$$-}
. "$ROOT/lab/lib.sh"

SECONDS_PER=3 TRIALS=3 TARGET=1.5
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) SECONDS_PER=${2:?--seconds S}; shift 2 ;;
        --trials) TRIALS=${2:?--trials N}; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--seconds S] [--trials N]" >&2; exit 2 ;;
    esac
done
case $SECONDS_PER$TRIALS in *[!0-9]*) echo "$0: --seconds and --trials take numbers" >&2; exit 2 ;; esac

lab_require_root
DPCTL=${L2F_DPCTL:-${L2F_BUILD:-$ROOT/build}/tests/tools/dpctl}
[ -x "$DPCTL" ] || lab_die "$DPCTL not built (ninja -C build; needs clang, bpftool, libbpf-dev)"
for c in ip bridge trafgen awk; do command -v $c >/dev/null || lab_die "$c not installed (scripts/deps.sh)"; done

progress() { printf '[switchd_fwd] %s\n' "$*" >&2; }
DST=02:01:00:01:00:01

lab_tmpdir
BPFFS=$LAB_TMP/bpffs
mkdir "$BPFFS" && mount -t bpf bpf "$BPFFS" || lab_die "cannot mount a bpffs"
fwd_cleanup() { local rc=$?; umount "$BPFFS" 2>/dev/null; (exit $rc); lab_cleanup; }
trap fwd_cleanup EXIT

# --- the lab --------------------------------------------------------------------------------
for ns in gen sw sink; do lab_ns_add "$ns"; done
lab_exec sw sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for ns in gen sink; do lab_exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
lab_veth gen eth0 sw in0
lab_veth sw out0 sink eth0
lab_veth gen eth1 sink eth1
lab_exec gen ip link set eth0 address 02:00:00:00:00:10
lab_exec gen ip link set eth1 address 02:00:00:00:00:10
for l in "gen eth0" "sw in0" "sw out0" "sink eth0" "gen eth1" "sink eth1"; do set -- $l; lab_exec "$1" ip link set "$2" up; done

# 14 Ethernet + 20 IPv4 + 8 UDP + 18 payload = 60 bytes (64 on a wire with the FCS).
cat >"$LAB_TMP/udp64.cfg" <<CFG
{
  0x00, 0x01, 0x00, 0x01, 0x00, 0x01,
  0x02, 0x00, 0x00, 0x00, 0x00, 0x10,
  0x08, 0x00,
  0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, csumip(14, 33),
  198, 18, 0, 1, 198, 18, 0, 2,
  0x13, 0x88, 0x13, 0x89, 0x00, 0x1a, 0x00, 0x00,
  fill(0x00, 18)
}
CFG

dp() { lab_exec sw "$DPCTL" -d "$BPFFS/sw" "$@"; }
mode_bpf() {
    lab_exec sw ip link del br0 2>/dev/null
    dp attach in0 out0 >/dev/null || lab_die "dpctl attach failed"
    dp port in0 up && dp port out0 down && dp pos 0 out0 && dp up in0 &&
        dp config level=aggregation pod=1 salt=7 located=1 || lab_die "dpctl could not program sw"
}
mode_bridge() {
    dp detach in0 out0 || lab_die "dpctl detach failed"
    lab_bridge sw br0
    lab_bridge_port sw br0 in0
    lab_bridge_port sw br0 out0
    lab_exec sw bridge fdb replace $DST dev out0 master static || lab_die "cannot add the FDB entry"
}

rx() { lab_exec sink cat "/sys/class/net/$1/statistics/rx_packets"; }
sent() { lab_exec gen cat "/sys/class/net/$1/statistics/tx_packets"; }

# One trial on gen's IF (eth0: through sw; eth1: the wire): trafgen for SECONDS_PER s;
# prints "received_pps offered_pps".
trial() {
    local ifn=$1 r0 s0 r1 s1 t0 t1 ms
    r0=$(rx "$ifn") s0=$(sent "$ifn") t0=$(lab_now_ms)
    lab_exec gen timeout -s INT "$SECONDS_PER" trafgen --dev "$ifn" --conf "$LAB_TMP/udp64.cfg" \
        --cpus 1 --qdisc-path -q >/dev/null 2>&1
    sleep 0.2
    t1=$(lab_now_ms) r1=$(rx "$ifn") s1=$(sent "$ifn")
    ms=$((t1 - t0 - 200))
    echo $(( (r1 - r0) * 1000 / ms )) $(( (s1 - s0) * 1000 / ms ))
}

read -r load1 _ </proc/loadavg
progress "load average before: $load1 (2 CPUs); ${TRIALS} trials x ${SECONDS_PER}s per mode"
declare -a BPF=() BR=() WIRE=()
for ((i = 1; i <= TRIALS; i++)); do
    read -r pps off < <(trial eth1); WIRE+=("$pps")
    progress "trial $i wire:   $pps pps received, $off pps offered"
    mode_bpf
    read -r pps off < <(trial eth0); BPF+=("$pps")
    drops=$(dp counters | awk '$1 != "forwarded_down" && $2 > 0 {printf "%s=%s ", $1, $2}')
    progress "trial $i bpf:    $pps pps received, $off pps offered${drops:+ (other verdicts: $drops)}"
    mode_bridge
    read -r pps off < <(trial eth0); BR+=("$pps")
    progress "trial $i bridge: $pps pps received, $off pps offered"
done
read -r load2 _ </proc/loadavg

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
mb=$(median "${BPF[@]}") mr=$(median "${BR[@]}") mw=$(median "${WIRE[@]}")
[ "$mb" -gt 0 ] && [ "$mr" -gt 0 ] && [ "$mw" -gt 0 ] ||
    lab_die "no frames arrived (bpf $mb, bridge $mr, wire $mw)"
ratio=$(awk -v a="$mb" -v b="$mr" 'BEGIN {printf "%.2f", a / b}')
# ns per frame of the switch alone: the chain's, less the wire's (the same generator and sink).
own() { awk -v p="$1" -v w="$mw" 'BEGIN {printf "%.0f", 1e9 / p - 1e9 / w}'; }
ob=$(own "$mb") orr=$(own "$mr")
own_ratio=$(awk -v b="$ob" -v r="$orr" 'BEGIN {if (b > 0) printf "%.2f", r / b; else print "n/a"}')
verdict=$(awk -v r="$ratio" -v t="$TARGET" 'BEGIN {print (r >= t) ? "met" : "missed"}')
printf '\nforwarding through one switch namespace, 64-byte UDP, median of %d x %ds\n' "$TRIALS" "$SECONDS_PER"
printf '  %-22s %12s pps  (%s)\n' "eBPF (tc, switchd)" "$mb" "${BPF[*]}"
printf '  %-22s %12s pps  (%s)\n' "Linux bridge" "$mr" "${BR[*]}"
printf '  %-22s %12s pps  (%s)\n' "wire (no switch)" "$mw" "${WIRE[*]}"
printf '  %-22s %12s      target >= %s: %s\n' "ratio eBPF / bridge" "$ratio" "$TARGET" "$verdict"
printf '  %-22s %12s ns/frame eBPF, %s ns/frame bridge: bridge / eBPF = %s\n' \
    "switch's own cost" "$ob" "$orr" "$own_ratio"
printf '  load average: %s before, %s after (2 CPUs; other work on the machine skews both alike)\n' "$load1" "$load2"
