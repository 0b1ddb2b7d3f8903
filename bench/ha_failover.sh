#!/usr/bin/env bash
# bench/ha_failover.sh — failover outage of an HA router port on the overlay, track mode next
# to vipd's own failover, from the same run.
#
# The overlay lab (lab/overlay.sh: 3 hypervisors with vtepd, fabricd) carries an HA port
# (VNI 100, MAC 02:00:64:00:00:fe, 198.19.100.254) served by vipd in router namespaces r1
# (hv1, priority 200) and r2 (hv2, priority 100), advert interval 100 ms (vipd's default),
# with virtual_mac and fabric_vni. A client VM on hv3 pings the VIP every 1 ms (fping,
# lab/measure.sh) and r1's link is cut ~0.3 ms after one of its adverts
# (lab/cut_after_advert.py); the outage is the longest gap between replies.
#  - track: vipd reports the new master to fabricd, which moves every agent's unicast entry:
#    the outage is vipd's failover plus the control plane's propagation.
#  - flood: no unicast entry, frames reach both routers, only the master takes them: the
#    outage is vipd's failover alone, on the same topology and path. This is the reference.
# Target (issue 3): track <= flood + 10 ms. Trials alternate between the modes; the lab is
# built once. A benchmark never fails on a time: the verdict says met / missed.
#
# Usage: sudo bench/ha_failover.sh [--trials N]      (default 5)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TRIALS=5
while [ $# -gt 0 ]; do
    case $1 in
        --trials) TRIALS=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
[[ $TRIALS =~ ^[1-9][0-9]?$ ]] || { echo "--trials: 1-99" >&2; exit 2; }

# The test harness's helpers (daemons, fabricd, probes); they only touch namespaces they made.
. "$ROOT/tests/netns/lib.sh"
. "$ROOT/tests/netns/overlay_lib.sh"
. "$ROOT/lab/measure.sh"
t_require_root
t_require_vipd
t_require_cmd fping jq tcpdump

note() { printf '  %s\n' "$*" >&2; }

HA_MAC=02:00:64:00:00:fe
HA_IP4=198.19.100.254
PRIO_BACKUP=100
ADVERT_MS=100

note "building the overlay lab (3 hypervisors, fabricd, vtepd)"
ov_build 3 >/dev/null
ov_fabric_up
ov_add_router r1 hv1
ov_add_router r2 hv2
VX1=$(ov_hv_ip4 hv1) VX2=$(ov_hv_ip4 hv2)

for r in r1:hv1:200 r2:hv2:$PRIO_BACKUP; do
    IFS=: read -r name hv prio <<<"$r"
    cat >"$LAB_TMP/vipd-$name.yaml" <<EOF
node: $name
control_socket: $LAB_TMP/vipd-$name.sock
fabric:
  connect: unix:$OV_FABRICD_SOCK
  host: $hv
groups:
  - name: router
    interface: eth0
    vrid: 50
    priority: $prio
    advert_interval_ms: $ADVERT_MS
    assign: true
    addresses: [$HA_IP4]
    virtual_mac: $HA_MAC
    fabric_vni: 100
EOF
done

state() { vip_state "$LAB_TMP/vipd-$1.sock" router ipv4 2>/dev/null; }
port_fdb() { ov_fdb "$1" 100 | awk -v m="$HA_MAC" '$1 == m { print $2 }'; }
flood_on_hv3() {
    "${OV_CTL[@]}" fdb hv3 --json | jq -e --arg m "$HA_MAC" '.fdb[] | select(.mac == $m) | .ha_flood' >/dev/null
}

declare -A RES=()
NOTES=()

# trial MODE: one failover; prints the outage in ms, or nothing.
trial() {
    local mode=$1 out
    "${OV_CTL[@]}" port add --vni 100 --mac "$HA_MAC" --host hv1 --host hv2 --mode "$mode" \
        --ip "$HA_IP4" --name router >/dev/null || { NOTES+=("$mode: port add failed"); return; }
    vipd_start r1 "$LAB_TMP/vipd-r1.yaml"
    lab_wait_for 5 '[ "$(state r1)" = master ]' || { NOTES+=("$mode: r1 not master"); return; }
    vipd_start r2 "$LAB_TMP/vipd-r2.yaml"
    lab_wait_for 5 '[ "$(state r2)" = backup ]' || { NOTES+=("$mode: r2 not backup"); return; }
    if [ "$mode" = track ]; then
        lab_wait_for 5 '[ "$(port_fdb hv3)" = "$VX1" ]' || { NOTES+=("track: hv3 not at hv1"); return; }
    else
        lab_wait_for 5 flood_on_hv3 || { NOTES+=("flood: hv3 has no flood entry"); return; }
    fi
    ov_ping vm3a "$HA_IP4" 2 || { NOTES+=("$mode: VIP unreachable before the cut"); return; }
    measure_ping_start vm3a "$HA_IP4" 2500
    sleep 0.5
    # Right after one of r1's adverts: the same phase in every trial and both modes. The
    # helper listens on r1's bridge port in hv1 and takes it down ~0.3 ms after the advert.
    lab_exec hv1 "$T_PYTHON" "$ROOT/lab/cut_after_advert.py" r1 "$HA_MAC" 2 0 4 >/dev/null ||
        { NOTES+=("$mode: no advert from r1 seen; cut unaligned"); lab_exec hv1 ip link set r1 down; }
    out=$(measure_ping_wait)
    if [ "$mode" = track ] && [ "$(port_fdb hv3)" != "$VX2" ]; then
        NOTES+=("track: hv3's entry did not move to hv2")
    fi
    lab_exec hv1 ip link set r1 up
    vipd_stop r2
    vipd_stop r1
    "${OV_CTL[@]}" port del --vni 100 --mac "$HA_MAC" >/dev/null
    [ "$out" != -1 ] && echo "$out"
}

for ((i = 1; i <= TRIALS; i++)); do
    for mode in track flood; do
        o=$(trial "$mode")
        note "trial $i $mode: ${o:-no figure} ms"
        [ -n "$o" ] && RES[$mode]+="$o "
    done
done

stats() {   # "median min max n" of the figures given
    tr ' ' '\n' <<<"$1" | grep . | sort -n |
        awk '{ v[NR] = $1 } END { if (!NR) { print "- - - 0"; exit }
             m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
             printf "%.1f %.1f %.1f %d\n", m, v[1], v[NR], NR }'
}
md=$(awk -v a="$ADVERT_MS" -v p="$PRIO_BACKUP" 'BEGIN { printf "%.1f", 3 * a + (256 - p) * a / 256 }')
read -r tm tmin tmax tn <<<"$(stats "${RES[track]:-}")"
read -r fm fmin fmax fn <<<"$(stats "${RES[flood]:-}")"
printf '\nHA port failover, advert %d ms (Master_Down %s ms), client pings every 1 ms, %d trials\n' \
    "$ADVERT_MS" "$md" "$TRIALS"
printf '%-34s %10s %18s\n' "mode" "median ms" "min-max (n)"
printf '%-34s %10s %18s\n' "track (vipd + fabricd + vtepd)" "$tm" "$tmin-$tmax ($tn)"
printf '%-34s %10s %18s\n' "flood (vipd's own failover)" "$fm" "$fmin-$fmax ($fn)"
if [ "$tn" -gt 0 ] && [ "$fn" -gt 0 ]; then
    d=$(awk -v t="$tm" -v f="$fm" 'BEGIN { printf "%.1f", t - f }')
    printf 'track - flood: %s ms; target <= +10 ms: %s\n' "$d" \
        "$(awk -v d="$d" 'BEGIN { print (d <= 10 ? "met" : "missed") }')"
fi
for n in "${NOTES[@]}"; do printf 'note: %s\n' "$n"; done
exit 0
