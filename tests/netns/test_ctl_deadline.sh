#!/usr/bin/env bash
# test_ctl_deadline.sh — hostile clients of a daemon's control socket (proto/ctlsrv, here
# vipd's) must not keep fabricctl out:
#  * 40 clients (more than the 16 sessions the socket allows) each trickle one byte every
#    0.25 s and never finish: `fabricctl vip status` answers every time, all 40 are closed by
#    the daemon (CTLSRV_REQUEST_MS for a whole request) without a reply, vipd stays master;
#  * a client that pipelines requests and never reads: vipd's memory does not follow it
#    (the output's high-water mark) and it is closed;
#  * 16 sessions kept busy (a request every 50 ms): fabricctl still gets in.
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

# A client that pipelines requests and never reads: vipd stops reading it at the output's
# high-water mark (its memory does not follow the client), and closes it once it stays
# stuck there; fabricctl is served meanwhile.
vpid=${VIPD_PID[n1]}
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$vpid/status"; }
rss0=$(rss)
"$T_PYTHON" "$T_DIR/ctlpeer.py" "$s1" neverread 15 >"$LAB_TMP/neverread.out" &
npid=$!
sleep 3
rss1=$(rss)
t_assert_eq "$(vip_state "$s1" web ipv4)" master "fabricctl while a client never reads"
wait $npid
t_log "never-reader: $(cat "$LAB_TMP/neverread.out"); vipd RSS ${rss0} kB -> ${rss1} kB after 3 s"
[ $((rss1 - rss0)) -lt 4096 ] || t_fail "vipd's memory followed a client that never reads: ${rss0} -> ${rss1} kB"
case $(cat "$LAB_TMP/neverread.out") in "closed_by_daemon yes"*) ;; *) t_fail "a never-reading client was not closed: $(cat "$LAB_TMP/neverread.out")" ;; esac

# 16 clients that keep their sessions busy (a request every 50 ms): once they are a few
# seconds old, fabricctl still gets in (the oldest busy session makes room).
"$T_PYTHON" "$T_DIR/ctlpeer.py" "$s1" poll 8 >"$LAB_TMP/poll.out" 2>"$LAB_TMP/poll.err" &
ppid=$!
t_assert_wait 5 "ctlpeer.py did not connect its 16 sessions" 'grep -q connected "$LAB_TMP/poll.err"'
sleep 3.5
ok=0
for i in 1 2 3 4 5; do
    [ "$(vip_state "$s1" web ipv4)" = master ] && ok=$((ok + 1))
    sleep 0.2
done
wait $ppid
t_log "busy sessions: $(cat "$LAB_TMP/poll.out"); fabricctl answered $ok of 5"
t_assert_eq "$ok" 5 "fabricctl vip status while 16 sessions keep busy"
t_pass "40 trickling clients closed, fabricctl answered 20 of 20"
