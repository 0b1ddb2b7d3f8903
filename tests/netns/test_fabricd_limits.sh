#!/usr/bin/env bash
# test_fabricd_limits.sh — what a peer can make fabricd hold stays bounded, and its real
# agents and the API keep being served meanwhile. fabricd runs with `ulimit -n 1024` (so
# --max-sessions defaults to 928: 1024 less 64 Unix sessions and 32 spare), three
# hypervisors with their real vtepd:
#  - from an attacker namespace on the underlay (connflood.py): 2,000 idle TCP connections to
#    fabricd's TLS port, then 20 slow-loris ones (one byte every 1.5 s: 10 a TLS ClientHello,
#    10 a plaintext Hello of vtepd hv1), then 200 more idle ones. Meanwhile fabricd never
#    holds more than --max-pre-hello (128) sessions without a Hello, evicts
#    (bound.pre_hello_evicted), keeps its descriptors below 1024 and does not spin on accept
#    (accept errors < 200); hv2's and hv3's agents stay on their first session, hv1's vtepd
#    killed and restarted gets back, fabricctl answers on the Unix socket throughout. The 200
#    later silent connections evict silent ones, never a slow-loris one that has spoken
#    (docs/protocol.md); every slow-loris connection is ended by fabricd (EOF), by the Hello
#    deadline (bound.hello_timeouts); none of the 2,220 ever gets a byte;
#  - an API client that pipelines 40,000 `status` requests and never reads: fabricd stops
#    reading it at its high-water mark and its RSS grows by less than 32 MB, the client is
#    closed (bound.output_stuck_closed; it sees the hang-up) and fabricctl still answers; one
#    that pipelines 6,000 (~9 MB of replies: over the 4 MiB mark for a while) and reads slowly
#    but steadily gets every reply, in order, and is not closed;
#  - frames over a role's limit: an API client declaring a 1 MiB frame, and a peer declaring
#    a 100 KiB frame before its Hello, are closed (bound.frames_over_limit); an agent's Report
#    of 10,000 learned entries (about 300 KB) is taken whole.
# shellcheck disable=SC2016  # conditions are eval'd when polled
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd jq
WIREPEER=$T_BUILD/tests/tools/wirepeer
[ -x "$WIREPEER" ] || t_skip "$WIREPEER not built"
# The soft limit only: the helpers raise theirs again (they hold thousands of sockets).
ulimit -Sn 1024 || t_skip "cannot set ulimit -n 1024"
ov_build 3
ov_attach_underlay atk 02:00:00:00:00:66 198.18.0.66/24 2001:db8:18::66/64
OV_FABRICD_OPTS=(--max-learned-per-host 12000)
ov_fabric_up
FDPID=$OV_FABRICD_PID

status_json() { "${OV_CTL[@]}" status --json; }
counter() { status_json | jq -r --arg k "$1" '.counters[$k]'; }
agent_sessions() { "$FABRICCTL" -s "$LAB_TMP/vtepd-$1.sock" agent status --json | jq -r '.fabricd.sessions'; }
fds() { find "/proc/$FDPID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
kv() { tr ' ' '\n' <<<"$1" | awk -v k="$2" 'prev == k { print; exit } { prev = $0 }'; }

t_assert_eq "$(status_json | jq -r '.limits.max_sessions')" 928 "max_sessions under ulimit -n 1024"
for hv in hv1 hv2 hv3; do t_assert_eq "$(agent_sessions $hv)" 1 "$hv's vtepd sessions before the flood"; done

# --- 2,000 idle connections and 20 slow-loris ones -------------------------------------------
evicted0=$(counter bound.pre_hello_evicted) timeouts0=$(counter bound.hello_timeouts)
errors0=$(counter listener.tcp.accept_errors)
lab_bg atk "$LAB_TMP/flood.out" "$T_PYTHON" "$T_DIR/connflood.py" --addr "$OV_FABRICD_ADDR" \
    --idle 2000 --loris-tls 10 --loris-plain 10 --loris-every 1.5 --burst 200 --settle 72 --pending 64 \
    --connect-timeout 60 --hold 20 --wait-eof
FLOOD=$LAB_LAST_PID
max_pre=0 max_fds=0 restarted=0 samples=0
# Sampled while the flood lasts (at most 300 turns, ~2 min: its own bounds end it sooner).
for ((i = 0; i < 300; i++)); do
    lab_alive "$FLOOD" || break
    st=$(status_json) || t_fail "fabricctl status over the Unix socket failed during the flood"
    samples=$((samples + 1))
    pre=$(jq -r '.counters["sessions.pre_hello"]' <<<"$st")
    [ "$pre" -gt "$max_pre" ] && max_pre=$pre
    n=$(fds); [ "$n" -gt "$max_fds" ] && max_fds=$n
    # once the flood is evicting, hv1's vtepd dies and comes back through it
    if [ $restarted -eq 0 ] && [ "$(jq -r '.counters["bound.pre_hello_evicted"]' <<<"$st")" -gt $((evicted0 + 200)) ]; then
        restarted=1
        for hv in hv2 hv3; do t_assert_eq "$(agent_sessions $hv)" 1 "$hv's vtepd sessions during the flood"; done
        kill -KILL "${OV_VTEPD_PID[hv1]}"
        wait "${OV_VTEPD_PID[hv1]}" 2>/dev/null
        ov_vtepd_start hv1 2
        t_assert_wait 15 "hv1's restarted vtepd did not get back during the flood" ov_agents_connected
        t_assert_eq "$(agent_sessions hv1)" 1 "the restarted hv1 vtepd's sessions"
        "${OV_CTL[@]}" host >/dev/null || t_fail "fabricctl host over the Unix socket failed during the flood"
    fi
    sleep 0.3
done
lab_alive "$FLOOD" && t_fail "the flood did not end by itself"
wait "$FLOOD" || t_fail "connflood.py failed: $(cat "$LAB_TMP/flood.out")"
flood=$(cat "$LAB_TMP/flood.out")
t_log "flood: $flood; $samples samples: pre-Hello sessions at most $max_pre, descriptors at most $max_fds"
t_assert_eq "$restarted" 1 "hv1's vtepd restarted while the flood was evicting"
t_assert_eq "$(kv "$flood" idle_opened)" 2000 "idle connections opened"
t_assert_eq "$(kv "$flood" loris_opened)" 20 "slow-loris connections opened"
t_assert_eq "$(kv "$flood" loris_closed_by_peer)" 20 "slow-loris connections ended by fabricd"
t_assert_eq "$(kv "$flood" burst_opened)" 200 "idle connections opened after the slow-loris ones spoke"
[ "$(kv "$flood" burst_closed_at_settle)" -ge 72 ] || t_fail "fabricd did not evict 72 of the 200 later idle connections: $flood"
t_assert_eq "$(kv "$flood" loris_closed_at_settle)" 0 \
    "slow-loris connections evicted by silent newcomers (docs/protocol.md: the oldest that has sent nothing goes first)"
t_assert_eq "$(kv "$flood" received_bytes)" 0 "bytes fabricd sent to connections that never finished a handshake"
[ "$max_pre" -le 128 ] || t_fail "fabricd held $max_pre sessions without a Hello (at most 128)"
[ "$max_fds" -lt 1024 ] || t_fail "fabricd had $max_fds descriptors open (limit 1024)"
[ "$(counter bound.pre_hello_evicted)" -gt "$evicted0" ] || t_fail "no session without a Hello was evicted"
[ "$(counter bound.hello_timeouts)" -ge $((timeouts0 + 20)) ] ||
    t_fail "fewer Hello timeouts than slow-loris connections: $(counter bound.hello_timeouts) (was $timeouts0)"
[ "$(counter listener.tcp.accept_errors)" -lt $((errors0 + 200)) ] ||
    t_fail "accept failed $(counter listener.tcp.accept_errors) times (spinning?)"
t_assert_wait 10 "sessions without a Hello remain after the flood" '[ "$(counter sessions.pre_hello)" = 0 ]'
for hv in hv2 hv3; do t_assert_eq "$(agent_sessions $hv)" 1 "$hv's vtepd sessions after the flood"; done
ov_agents_connected || t_fail "not every agent connected after the flood"
ov_ping vm1a "$(ov_vm_ip4 vm2a)" 3 || t_fail "vm1a cannot reach vm2a after the flood"

# --- an API client that never reads -----------------------------------------------------------
stuck0=$(counter bound.output_stuck_closed) hwm0=$(counter bound.output_over_hwm)
out=$(lab_exec fm "$T_PYTHON" "$T_DIR/apipeer.py" "$OV_FABRICD_SOCK" noreader 40000 --pid "$FDPID" --wait 30) ||
    t_fail "apipeer.py noreader failed"
t_log "API client that never reads: $out"
[ "$(kv "$out" sent)" -ge 3000 ] || t_fail "the non-reader sent only $(kv "$out" sent) requests"
growth=$(( $(kv "$out" rss_max_kb) - $(kv "$out" rss_before_kb) ))
[ "$growth" -lt 32768 ] || t_fail "fabricd's RSS grew by $growth kB for a client that never reads"
t_assert_eq "$(kv "$out" closed)" 1 "the non-reader saw fabricd hang up"
t_assert_wait 5 "bound.output_stuck_closed did not count the non-reader" \
    '[ "$(counter bound.output_stuck_closed)" -ge '$((stuck0 + 1))' ]'
[ "$(counter bound.output_over_hwm)" -gt "$hwm0" ] || t_fail "the non-reader never went over the high-water mark"
"${OV_CTL[@]}" host >/dev/null || t_fail "fabricctl host failed after the non-reader"

# --- one that reads slowly but steadily --------------------------------------------------------
stuck0=$(counter bound.output_stuck_closed) hwm0=$(counter bound.output_over_hwm)
out=$(lab_exec fm "$T_PYTHON" "$T_DIR/apipeer.py" "$OV_FABRICD_SOCK" slowreader 6000 --chunk 32768 \
    --every 0.02 --wait 60) || t_fail "apipeer.py slowreader failed"
t_log "API client that reads slowly: $out"
t_assert_eq "$out" "sent 6000 replies 6000 in_order 1 errors 0 eof_early 0 first_bad -" "the slow reader's replies"
[ "$(counter bound.output_over_hwm)" -gt "$hwm0" ] || t_fail "the slow reader never went over the high-water mark (nothing tested)"
t_assert_eq "$(counter bound.output_stuck_closed)" "$stuck0" "bound.output_stuck_closed after the slow reader"

# --- frames over the limit ---------------------------------------------------------------------
frames0=$(counter bound.frames_over_limit)
out=$(lab_exec fm "$T_PYTHON" "$T_DIR/apipeer.py" "$OV_FABRICD_SOCK" bigframe $((1 << 20))) ||
    t_fail "apipeer.py bigframe failed"
t_assert_eq "$(kv "$out" closed)" 1 "an API client declaring a 1 MiB frame: closed"
t_assert_wait 5 "bound.frames_over_limit did not count the 1 MiB API frame" \
    '[ "$(counter bound.frames_over_limit)" = '$((frames0 + 1))' ]'
out=$(lab_exec fm "$T_PYTHON" "$T_DIR/apipeer.py" "$OV_FABRICD_SOCK" bigframe $((100 << 10)) --prehello) ||
    t_fail "apipeer.py bigframe --prehello failed"
t_assert_eq "$(kv "$out" closed)" 1 "a 100 KiB frame before the Hello: closed"
t_assert_wait 5 "bound.frames_over_limit did not count the 100 KiB frame before a Hello" \
    '[ "$(counter bound.frames_over_limit)" = '$((frames0 + 2))' ]'
PEER_RC=0
lab_exec fm timeout 30 "$WIREPEER" -f "unix:$OV_FABRICD_SOCK" --role vtepd --id bulk1 --vtep 198.18.0.99 \
    --vni 4000 --report-full --bulk 4000,10000 --hold 3 >"$LAB_TMP/bulk.out" 2>&1 || PEER_RC=$?
t_log "an agent's Report of 10,000 entries: exit $PEER_RC: $(grep -v '^update' "$LAB_TMP/bulk.out" | tr '\n' '|')"
t_assert_eq "$PEER_RC" 0 "an agent reporting 10,000 entries: wirepeer's exit (held to the end)"
t_assert_eq "$(awk '/^update/ { n += $3 } END { print n + 0 }' "$LAB_TMP/bulk.out")" 10000 \
    "entries fabricd sent back to the agent that reported 10,000"
t_assert_eq "$(counter bound.frames_over_limit)" $((frames0 + 2)) "bound.frames_over_limit after the agent's large Report"
t_assert_eq "$("${OV_CTL[@]}" port list --json | jq '[.[] | select(.vni == 4000)] | length')" 10000 \
    "bindings in VNI 4000 after the agent's large Report"
# the same agent back with a full Report of the first half: exactly that half stays (each
# sweep pass once started over and forgot MACs the report named)
lab_exec fm timeout 30 "$WIREPEER" -f "unix:$OV_FABRICD_SOCK" --role vtepd --id bulk1 --vtep 198.18.0.99 \
    --vni 4000 --full --bulk 4000,5000 --hold 1 >"$LAB_TMP/bulk2.out" 2>&1 ||
    t_fail "the agent's full Report of 5,000: $(tail -n 2 "$LAB_TMP/bulk2.out")"
t_assert_eq "$("${OV_CTL[@]}" port list --json | jq '[.[] | select(.vni == 4000)] | length')" 5000 \
    "bindings in VNI 4000 after a full Report of the first 5,000"
# more than an agent may hold: refused and counted
lab_exec fm timeout 30 "$WIREPEER" -f "unix:$OV_FABRICD_SOCK" --role vtepd --id bulk1 --vtep 198.18.0.99 \
    --vni 4000 --bulk 4000,8000,5000 --hold 1 >"$LAB_TMP/bulk3.out" 2>&1 ||
    t_fail "the agent's Report past its cap: $(tail -n 2 "$LAB_TMP/bulk3.out")"
t_assert_eq "$(counter refused.learned_over_cap)" 1000 "entries refused past --max-learned-per-host 12000"
t_assert_eq "$("${OV_CTL[@]}" port list --json | jq '[.[] | select(.vni == 4000)] | length')" 12000 \
    "bindings in VNI 4000 at the cap"
# listings in progress are bounded over all sessions (each holds a snapshot of the keys): a
# client asking for 40 port lists and reading none gets the ones past 16 refused
lab_exec fm timeout 20 "$T_PYTHON" - "$OV_FABRICD_SOCK" <<'PY' || t_fail "the listing client failed"
import socket, sys, time
def ld(field, b):
    return bytes([field << 3 | 2, len(b)]) + b
def frame(m):
    return len(m).to_bytes(4, "big") + m
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(frame(ld(1, bytes([0x08, 1, 0x10, 2]) + ld(3, b"lister"))) +
          frame(ld(5, bytes([0x18, 1]))) * 40)        # Request{port_list: true}
time.sleep(2)
PY
[ "$(counter bound.listings_refused)" -gt 0 ] || t_fail "40 unread listings were all taken"
t_assert_eq "$("${OV_CTL[@]}" port list --json | jq '[.[] | select(.vni == 4000)] | length')" 12000 \
    "a listing after the lister left"
ov_agents_connected || t_fail "not every agent connected at the end"
t_pass
