#!/usr/bin/env bash
# test_ctl_deadline.sh — clients that trickle requests into a daemon's control socket
# (proto/ctlsrv, here vipd's) must not keep fabricctl out: 40 of them (more than the 16 sessions the socket
# allows) each send one byte every 0.25 s and never finish; meanwhile `fabricctl vip status`
# must answer every time, the trickling clients must all be closed by the daemon (each has
# CTL_REQUEST_MS for a whole request) without a reply, and vipd must stay master.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_vipd
t_require_cmd jq
[ -x "$T_PYTHON" ] || t_skip "python3 missing"

VIP4=198.51.100.10
seg_build 1
lab_tmpdir
vipd_conf "$LAB_TMP/n1.yaml" node=n1 priority=150 addrs="$VIP4"
vipd_start n1 "$LAB_TMP/n1.yaml"
s1=${VIPD_SOCKET[n1]}
t_assert_wait 5 "n1 never became master" '[ "$(vip_state '$s1' web ipv4)" = master ]'

# 12 s of trickling: several deadlines long, so every client is closed well before the end.
"$T_PYTHON" "$T_DIR/trickle.py" "$s1" 40 12 >"$LAB_TMP/trickle.out" 2>"$LAB_TMP/trickle.err" &
tpid=$!
t_assert_wait 5 "trickle.py did not connect its clients" 'grep -q connected "$LAB_TMP/trickle.err"'
sleep 0.5
ok=0
for i in $(seq 1 20); do
    if state=$(timeout 5 "$FABRICCTL" -s "$s1" vip status --json | jq -r '.groups[0].instances[] | select(.family == "ipv4") | .state' 2>/dev/null) &&
       [ "$state" = master ]; then
        ok=$((ok + 1))
    fi
    sleep 0.25
done
wait $tpid || t_fail "trickle.py failed: $(cat "$LAB_TMP/trickle.out")"
t_log "trickle: $(cat "$LAB_TMP/trickle.out"); fabricctl answered $ok of 20"
t_assert_eq "$ok" 20 "fabricctl vip status answers while clients trickle"
t_assert_eq "$(cat "$LAB_TMP/trickle.out")" "closed 40 of 40, replies 0" "trickling clients closed by vipd"
t_assert_eq "$(vip_state "$s1" web ipv4)" master "n1 state after the trickle"
t_pass "40 trickling clients closed, fabricctl answered 20 of 20"
