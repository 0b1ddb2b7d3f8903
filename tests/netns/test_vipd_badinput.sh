#!/usr/bin/env bash
# test_vipd_badinput.sh — malformed, truncated and wrong ARP, NS and VRRP frames, crafted with
# scapy in the client's namespace and sent to the master. Each must be dropped and counted
# under its own reason (exactly: the counters must match frame for frame), the master must
# stay master with no transition although the adverts claim priority 255, no answer may go
# out for them, and the daemon must stay alive and keep answering.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_vipd
t_require_cmd jq arping
[ -x "$T_PYTHON" ] && "$T_PYTHON" -c 'import scapy' 2>/dev/null || t_skip "python3-scapy missing"

VIP4=198.51.100.10 VIP6=2001:db8:51::10
seg_build 1
lab_tmpdir
mac1=$(seg_node_mac n1)
vipd_conf "$LAB_TMP/n1.yaml" node=n1 priority=150 addrs="$VIP4 $VIP6"
vipd_start n1 "$LAB_TMP/n1.yaml"
s1=${VIPD_SOCKET[n1]}
for f in ipv4 ipv6; do
    t_assert_wait 5 "n1 never became master ($f)" '[ "$(vip_state '$s1' web '$f')" = master ]'
done
drops() { vip_status_json "$s1" | jq -S -c '.interfaces[0].drops'; }
answers() { echo "$(vip_counter $s1 web ipv4 arp_answered) $(vip_counter $s1 web ipv6 ns_answered)"; }
before=$(drops) answered=$(answers)

lab_exec cl "$T_PYTHON" "$T_DIR/badframes.py" eth0 "$mac1" 51 $VIP4 $VIP6 "$(seg_node_ip4 n1)" >"$LAB_TMP/sent" ||
    t_fail "scapy could not send"
want=$(jq -S -c -n --argjson b "$before" --rawfile s "$LAB_TMP/sent" '
    reduce ($s | split("\n")[] | select(. != "" and . != "unseen")) as $r ($b; .[$r] += 1)')
lab_wait_for 3 '[ "$(drops)" = "$want" ]' || t_fail "drop counters: got $(drops), want $want"
t_log "dropped and counted: $(sort "$LAB_TMP/sent" | uniq -c | awk '{printf "%s=%s ", $2, $1}')"

lab_alive "${VIPD_PID[n1]}" || t_fail "vipd died"
for f in ipv4 ipv6; do
    t_assert_eq "$(vip_state $s1 web $f)" master "state ($f) after bad input"
    t_assert_eq "$(vip_counter $s1 web $f transitions)" 2 "transitions ($f) after bad input"
    t_assert_eq "$(vip_counter $s1 web $f adverts_received)" 0 "adverts accepted ($f)"
done
t_assert_eq "$(answers)" "$answered" "ARP/NS answers to bad frames"
t_assert_eq "$(arp_mac cl eth0 $VIP4)" "$mac1" "ARP answer after bad input"
t_assert_eq "$(ndisc_mac cl $VIP6)" "$mac1" "NS answer after bad input"
t_pass
