#!/usr/bin/env bash
# scripts/demo.sh — l2fabric's main job, shown on network namespaces it builds and removes:
# three nodes run vipd for three service VIPs on one segment, a client reaches them, and then
# a node loses its link and another is stopped, while the client's traffic follows.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${L2F_NO_DEPS:-}" = 1 ] || scripts/deps.sh
scripts/build.sh >/dev/null

. lab/segment.sh
. lab/measure.sh
VIPD=$PWD/build/vipd/vipd
CTL=$PWD/build/fabricctl/fabricctl

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
node_of_mac() { case "$1" in 02:00:00:00:00:1?) echo "n${1: -1}" ;; *) echo "?($1)" ;; esac; }
resolve4() { lab_exec cl arping -c 1 -w 2 -I eth0 "$1" 2>/dev/null |
             awk '/bytes from/ { print $4; exit }'; }
resolve6() { lab_exec cl ndisc6 -1 -r 2 -w 500 "$1" eth0 2>/dev/null |
             awk '/Target link-layer/ { print tolower($4); exit }'; }
master_of() { # GROUP: the node whose vipd says it is master for the group's IPv4 instance
    local n
    for n in n1 n2 n3; do
        [ -S "$LAB_TMP/$n.sock" ] || continue
        if "$CTL" -s "$LAB_TMP/$n.sock" vip status --json 2>/dev/null |
            jq -e --arg g "$1" '.groups[] | select(.name == $g) | .instances[] |
                                select(.family == "ipv4" and .state == "master")' >/dev/null
        then echo "$n"; return; fi
    done
    echo none
}

say "Building a segment: bridge sw, nodes n1 n2 n3, client cl"
seg_build 3
lab_tmpdir
for n in n1 n2 n3; do
    cat > "$LAB_TMP/$n.yaml" <<YAML
node: $n
control_socket: $LAB_TMP/$n.sock
nodes: [n1, n2, n3]
groups:
  - { name: web, interface: eth0, vrid: 51, priority: auto, assign: true,
      addresses: [198.51.100.10, 2001:db8:51::10] }
  - { name: api, interface: eth0, vrid: 52, priority: auto, assign: true,
      addresses: [198.51.100.20, 2001:db8:51::20] }
  - { name: db,  interface: eth0, vrid: 53, priority: auto, assign: true,
      addresses: [198.51.100.30, 2001:db8:51::30] }
YAML
done
echo "Each node has the same three groups with priority: auto, so the groups spread over the nodes."
"$VIPD" -c "$LAB_TMP/n1.yaml" -n | sed 's/^/    /'

say "Starting vipd on n1, n2, n3"
declare -A PID
for n in n1 n2 n3; do
    lab_bg "$n" "$LAB_TMP/$n.log" "$VIPD" -c "$LAB_TMP/$n.yaml"
    PID[$n]=$LAB_LAST_PID
done
for g in web api db; do
    lab_wait_for 5 "[ \"\$(master_of $g)\" != none ]" || lab_die "no master for $g"
done
sleep 0.3
"$CTL" -s "$LAB_TMP/n1.sock" vip status

say "The client resolves each VIP (its own ARP / NDP) and pings it"
for spec in "web 198.51.100.10 2001:db8:51::10" "api 198.51.100.20 2001:db8:51::20" \
            "db 198.51.100.30 2001:db8:51::30"; do
    read -r name v4 v6 <<<"$spec"
    m4=$(resolve4 "$v4"); m6=$(resolve6 "$v6")
    lab_exec cl ping -c 1 -W 1 "$v4" >/dev/null && p4=ok || p4=FAIL
    lab_exec cl ping -6 -c 1 -W 1 "$v6" >/dev/null && p6=ok || p6=FAIL
    printf '  %-4s %-15s -> %s (%s), ping %s   %-17s -> %s (%s), ping %s\n' "$name" "$v4" \
        "$m4" "$(node_of_mac "$m4")" "$p4" "$v6" "$m6" "$(node_of_mac "$m6")" "$p6"
done

victim=$(master_of web)
say "Failover: $victim (master of web) loses its link while the client pings 198.51.100.10 every 1 ms"
measure_ping_start cl 198.51.100.10 2500
sleep 0.5
seg_cut "$victim"
echo "  $(date +%T.%3N) cut $victim's link"
outage=$(measure_ping_wait)
new=$(master_of web)
echo "  new master of web: $new; the client now resolves 198.51.100.10 to $(resolve4 198.51.100.10)"
echo "  outage seen by the client: ${outage} ms (advert interval 100 ms)"
echo "  what $victim's vipd logged for web:"
grep ': web ' "$LAB_TMP/$victim.log" | tail -n 4 | sed 's/^/    /'
echo "  and what the new master's did:"
grep ': web ' "$LAB_TMP/$new.log" | tail -n 2 | sed 's/^/    /'

say "$victim's link comes back: it rejoins as backup, and preempts the groups it is first for"
seg_restore "$victim"
lab_wait_for 5 "[ \"\$(master_of web)\" = $victim ]" || true
"$CTL" -s "$LAB_TMP/$victim.sock" vip status | sed -n '1,7p'

victim=$(master_of api)
say "Handover: vipd on $victim (master of api) gets SIGTERM and sends priority 0"
measure_ping_start cl 198.51.100.20 1500
sleep 0.5
kill -TERM "${PID[$victim]}"
outage=$(measure_ping_wait)
echo "  new master of api: $(master_of api); outage: ${outage} ms (a backup takes over after its skew time)"
echo "  $victim's VIPs left on eth0: $(lab_exec "$victim" ip -br addr show dev eth0 | grep -c '198.51.100' || true)"

say "Done; removing the namespaces"
