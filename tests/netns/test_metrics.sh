#!/usr/bin/env bash
# test_metrics.sh — every daemon's Prometheus endpoint (lib/metrics), opted into with
# --metrics PORT (loopback of its namespace): each output passes `promtool check metrics`
# (Debian's prometheus) and says what the peers see — vipd's master reports state master
# and its backup backup, fabricd counts the two vtepd sessions and every port, vtepd is
# connected and holds the bindings fabricd sent; a path other than /metrics gets a 404; 20
# clients that connect and say nothing do not keep a scrape out (the oldest makes room).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd jq curl promtool
[ -x "$T_BUILD/fabricd/fabricd" ] && [ -x "$T_BUILD/vtepd/vtepd" ] && [ -x "$VIPD" ] || t_skip "daemons not built"

scrape() { lab_exec "$1" curl -s -m 5 "http://127.0.0.1:$2/metrics"; }
value() {   # NS PORT METRIC_WITH_LABELS
    scrape "$1" "$2" | awk -v m="$3" '$1 == m { print $2 }'
}
lint() {   # NS PORT NAME
    scrape "$1" "$2" >"$LAB_TMP/$3.prom" || t_fail "$3: no answer on :$2/metrics"
    promtool check metrics <"$LAB_TMP/$3.prom" >"$LAB_TMP/$3.lint" 2>&1 ||
        t_fail "$3: promtool check metrics: $(head -5 "$LAB_TMP/$3.lint")"
    t_log "$3: $(grep -vc '^#' "$LAB_TMP/$3.prom") samples, promtool clean"
}

# --- vipd: two nodes on a segment ------------------------------------------------------------
seg_build 2
lab_tmpdir
for n in n1 n2; do lab_exec "$n" ip link set lo up; done
vipd_conf "$LAB_TMP/n1.yaml" node=n1 priority=150 addrs="198.51.100.10 2001:db8:51::10"
vipd_conf "$LAB_TMP/n2.yaml" node=n2 priority=100 addrs="198.51.100.10 2001:db8:51::10"
echo 'metrics: "9733"' >>"$LAB_TMP/n1.yaml"
lab_bg n1 "$LAB_TMP/vipd-n1.log" "$VIPD" -f -c "$LAB_TMP/n1.yaml"
lab_bg n2 "$LAB_TMP/vipd-n2.log" "$VIPD" -f -c "$LAB_TMP/n2.yaml" --metrics 9733
t_assert_wait 5 "n1's metrics never said master" \
    '[ "$(value n1 9733 "l2f_vipd_vrrp_state{group=\"web\",family=\"ipv4\",state=\"master\"}")" = 1 ]'
t_assert_wait 5 "n2's metrics never said backup" \
    '[ "$(value n2 9733 "l2f_vipd_vrrp_state{group=\"web\",family=\"ipv4\",state=\"backup\"}")" = 1 ]'
t_assert_eq "$(value n1 9733 'l2f_vipd_vrrp_state{group="web",family="ipv4",state="backup"}')" 0 "n1 backup gauge"
sent=$(value n1 9733 'l2f_vipd_adverts_sent_total{group="web",family="ipv4"}')
[ "${sent:-0}" -gt 0 ] || t_fail "n1 sent no advert by its metrics: '$sent'"
t_assert_eq "$(value n1 9733 'l2f_build_info{daemon="vipd",version="'"$("$VIPD" -V | cut -d' ' -f2)"'"}')" 1 "vipd build info"
lint n1 9733 vipd
t_assert_eq "$(lab_exec n1 curl -s -o /dev/null -w '%{http_code}' -m 5 http://127.0.0.1:9733/)" 404 "GET / on vipd's endpoint"

# Idle clients: 20 connections that never send a byte, then a scrape.
lab_exec n1 "$T_PYTHON" -c '
import socket, time
s = [socket.create_connection(("127.0.0.1", 9733)) for _ in range(20)]
time.sleep(4)' &
idle=$!
sleep 1
t_assert_eq "$(value n1 9733 'l2f_vipd_vrrp_state{group="web",family="ipv4",state="master"}')" 1 \
    "a scrape while 20 idle clients hold connections"
wait $idle

# --- fabricd and vtepd: the overlay lab ------------------------------------------------------
ov_build 2
for ns in fm hv1 hv2; do lab_exec "$ns" ip link set lo up; done
OV_FABRICD_OPTS=(--metrics 9731)
ov_fabricd_start 1
for vm in $(ov_vms); do
    "${OV_CTL[@]}" port add --vni "$(ov_vm_vni "$vm")" --mac "$(ov_vm_mac "$vm")" --host "$(ov_vm_host "$vm")" \
        --ip "$(ov_vm_ip4 "$vm")" --name "$vm" >/dev/null || t_fail "port add $vm"
done
ov_pki
for hv in hv1 hv2; do
    # shellcheck disable=SC2046  # ov_tls prints options
    lab_bg "$hv" "$LAB_TMP/vtepd-$hv.log" "$T_BUILD/vtepd/vtepd" -f -i "$hv" -F "$OV_FABRICD_ADDR" \
        $(ov_tls vtepd "$hv") -l "$(ov_hv_ip4 "$hv")" -u eth0 -s 100:br100 -s 200:br200 \
        --control-socket "$LAB_TMP/vtepd-$hv.sock" --metrics 127.0.0.1:9732
done
t_assert_wait 10 "agents did not connect" ov_agents_connected
t_assert_eq "$(value fm 9731 l2f_fabricd_sessions_vtepd)" 2 "fabricd's vtepd sessions"
t_assert_eq "$(value fm 9731 l2f_fabricd_directory_bindings)" "$(ov_vms | wc -l)" "fabricd's bindings"
t_assert_eq "$(value fm 9731 'l2f_fabricd_limit{limit="max_unix_sessions"}')" 64 "fabricd's limit"
lint fm 9731 fabricd
t_assert_wait 5 "hv1's metrics: not connected" '[ "$(value hv1 9732 l2f_vtepd_fabricd_connected)" = 1 ]'
t_assert_eq "$(value hv1 9732 l2f_vtepd_bindings)" "$("$FABRICCTL" -s "$LAB_TMP/vtepd-hv1.sock" agent status --json | jq .counters.bindings)" \
    "vtepd's bindings, metrics vs its status"
t_assert_eq "$(value hv1 9732 l2f_vtepd_segments)" 2 "vtepd's segments"
lint hv1 9732 vtepd
t_pass "vipd, fabricd and vtepd metrics lint clean and match what the peers see"
