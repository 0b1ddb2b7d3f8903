#!/usr/bin/env bash
# test_fabricd_limits.sh — every resource a peer can make fabricd hold is bounded
# (docs/protocol.md, "Limits and liveness"); fabricd runs under a 1,024-descriptor limit, as
# systemd's default, in the overlay lab with real agents:
#  - 2,000 idle TCP connections and 20 slow-loris clients (one byte a second) against the
#    agents' port (tests/netns/connflood.py): the real agents stay connected, a restarted
#    vtepd gets back in, fabricctl answers on the Unix socket; fabricd holds at most 128
#    sessions without a Hello (the silent ones evicted), closes every slow-loris client at the
#    Hello deadline, never sends any of them a byte, stays below its descriptor limit, and
#    does not spin on accept (its error counter stays small: a counter, not a time);
#  - an API client that sends 3,000 requests and never reads: fabricd stops reading it at
#    the output high-water mark and closes it when it stays there; its memory grows by a few
#    MB, not by the 9 MB of replies; one that reads slowly but steadily gets all its replies;
#  - a frame over its role's limit closes that session only; an agent's large Report is
#    taken.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd jq prlimit
WIREPEER=$T_BUILD/tests/tools/wirepeer
[ -x "$WIREPEER" ] || t_skip "wirepeer not built"
OV_FABRICD_WRAP=(prlimit --nofile=1024:1024)
ov_build 3
ov_fabric_up

counter() { "${OV_CTL[@]}" status --json | jq -r --arg k "$1" '.counters[$k]'; }
agent_sessions() { "$FABRICCTL" -s "$LAB_TMP/vtepd-$1.sock" agent status --json | jq -r '.fabricd.sessions'; }
nfds() { find "/proc/$OV_FABRICD_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$OV_FABRICD_PID/status"; }
t_assert_eq "$(awk '/^Max open files/ { print $4 }' "/proc/$OV_FABRICD_PID/limits")" 1024 "fabricd's descriptor limit"

# --- a flood of connections that never say Hello ---------------------------------------------
s1=$(agent_sessions hv1)
lab_bg hv3 "$LAB_TMP/flood.out" "$T_PYTHON" "$T_DIR/connflood.py" --addr "$OV_FABRICD_ADDR" \
    --idle 2000 --loris 20 --loris-every 1 --hold 15
FLOOD_PID=$LAB_LAST_PID
# while it holds: fabricd keeps within its bounds and serves the real ones
max_pre=0 max_fds=0
for _ in $(seq 1 20); do
    sleep 0.25
    p=$(counter sessions.pre_hello) f=$(nfds)
    [ "$p" -gt "$max_pre" ] && max_pre=$p
    [ "$f" -gt "$max_fds" ] && max_fds=$f
done
lab_kill_pids "${OV_VTEPD_PID[hv2]}"
ov_vtepd_start hv2 2
t_assert_wait 20 "the restarted vtepd of hv2 did not get back in during the flood" ov_agents_connected
"${OV_CTL[@]}" host >/dev/null || t_fail "fabricctl host got no answer during the flood"
t_assert_wait 25 "connflood did not finish" "! lab_alive $FLOOD_PID"
read -r -a F < "$LAB_TMP/flood.out"
declare -A FL=()
for ((i = 0; i + 1 < ${#F[@]}; i += 2)); do FL[${F[i]}]=${F[i + 1]}; done
t_log "flood: ${F[*]}; max pre-Hello $max_pre, max descriptors $max_fds"
[ "${FL[idle_opened]:-0}" -ge 1000 ] || t_fail "the flood opened only ${FL[idle_opened]:-0} idle connections"
t_assert_eq "${FL[received_bytes]}" 0 "bytes fabricd sent to connections that never finished a handshake"
t_assert_eq "${FL[loris_closed_by_peer]}" 20 "slow-loris clients closed by fabricd"
[ "$max_pre" -le 128 ] || t_fail "fabricd held $max_pre sessions without a Hello (bound 128)"
[ "$max_fds" -lt 1024 ] || t_fail "fabricd held $max_fds descriptors (limit 1024)"
[ "$(counter bound.pre_hello_evicted)" -gt 0 ] || t_fail "no silent session was evicted"
[ "$(counter bound.hello_timeouts)" -ge 20 ] || t_fail "the Hello deadline closed $(counter bound.hello_timeouts) sessions, not the 20 slow ones"
errs=$(counter listener.tcp.accept_errors)
[ "$errs" -lt 200 ] || t_fail "the listener failed $errs accepts (spinning?)"
t_assert_eq "$(agent_sessions hv1)" "$s1" "hv1's agent sessions across the flood"
t_assert_eq "$("${OV_CTL[@]}" host --json | jq '[.[] | select(.connected)] | length')" 3 "agents connected after the flood"

# --- an API client that never reads --------------------------------------------------------------
rss0=$(rss_kb)
out=$(lab_exec fm timeout 40 "$T_PYTHON" - "$OV_FABRICD_SOCK" <<'PY'
import select, socket, sys, time
def ld(field, b):
    return bytes([field << 3 | 2, len(b)]) + b
def frame(m):
    return len(m).to_bytes(4, "big") + m
hello = ld(1, bytes([0x08, 1, 0x10, 2]) + ld(3, b"noreader"))     # Hello fabricctl noreader
status = ld(5, bytes([0x38, 1]))                                   # Request{status: true}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(0.5)
data = frame(hello) + frame(status) * 3000
sent = 0
t_end = time.monotonic() + 30
while sent < len(data) and time.monotonic() < t_end:
    try:
        sent += s.send(data[sent:sent + 4096])
    except socket.timeout:
        pass            # fabricd stopped reading us: backpressure
    except OSError:
        break
# then hold on, still not reading, until fabricd hangs up (POLLRDHUP, unread data or not)
p = select.poll()
p.register(s, select.POLLRDHUP)
closed = False
while time.monotonic() < t_end and not closed:
    closed = any(ev & (select.POLLRDHUP | select.POLLHUP | select.POLLERR) for _, ev in p.poll(200))
print("sent_requests %d closed %d" % (sent // 9 - 1, 1 if closed else 0))
PY
)
t_log "never-reading client: $out"
grep -q "closed 1" <<<"$out" || t_fail "the client that never reads was not hung up on: $out"
t_assert_wait 20 "fabricd did not close the client that never reads" '[ "$(counter bound.output_stuck_closed)" -ge 1 ]'
[ "$(counter bound.output_over_hwm)" -ge 1 ] || t_fail "the output high-water mark was never reached"
grown=$(( $(rss_kb) - rss0 ))
t_log "fabricd's RSS grew by $grown kB for a client of 3,000 unread requests"
[ "$grown" -lt 32768 ] || t_fail "fabricd's RSS grew by $grown kB for a client that never reads"
"${OV_CTL[@]}" status >/dev/null || t_fail "fabricctl got no answer after the never-reading client"

# one that reads slowly but steadily gets every reply, in order
got=$(lab_exec fm timeout 60 "$T_PYTHON" - "$OV_FABRICD_SOCK" <<'PY'
import socket, sys, time
def ld(field, b):
    return bytes([field << 3 | 2, len(b)]) + b
def frame(m):
    return len(m).to_bytes(4, "big") + m
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(frame(ld(1, bytes([0x08, 1, 0x10, 2]) + ld(3, b"slowreader"))) +
          frame(ld(5, bytes([0x38, 1]))) * 200)
buf, frames, t_end = b"", 0, time.monotonic() + 50
s.settimeout(5)
while frames < 201 and time.monotonic() < t_end:
    chunk = s.recv(2048)
    if not chunk:
        break
    buf += chunk
    while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[:4], "big"):
        n = int.from_bytes(buf[:4], "big")
        kind = buf[4] >> 3       # the Envelope's field: 1 Hello, 6 Reply
        frames += 1 if (frames == 0 and kind == 1) or (frames > 0 and kind == 6) else 1000
        buf = buf[4 + n:]
    time.sleep(0.002)
print(frames - 1)
PY
)
t_assert_eq "$got" 200 "replies a slow but steady reader got (all, each a Reply)"

# --- frames over the role's limit -------------------------------------------------------------------
n=$(counter bound.frames_over_limit)
lab_exec fm timeout 10 "$T_PYTHON" - "$OV_FABRICD_SOCK" <<'PY'
import socket, sys
def ld(field, b):
    return bytes([field << 3 | 2, len(b)]) + b
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
m = ld(1, bytes([0x08, 1, 0x10, 2]) + ld(3, b"bigframe"))
s.sendall(len(m).to_bytes(4, "big") + m + (1 << 20).to_bytes(4, "big"))
s.settimeout(5)
try:
    while s.recv(65536):
        pass
except OSError:
    pass
PY
t_assert_eq "$(counter bound.frames_over_limit)" $((n + 1)) "bound.frames_over_limit after a 1 MiB API frame"
bash "$T_ROOT/scripts/certs.sh" "$OV_PKI" issue vtepd hv4 198.18.0.14 >/dev/null
# shellcheck disable=SC2046  # ov_tls prints options
lab_exec hv3 timeout 30 "$WIREPEER" -f "$OV_FABRICD_ADDR" $(ov_tls vtepd hv4) --role vtepd \
    --vtep 198.18.0.14 --vni 100 --report-full --bulk 100,10000 --hold 1 >"$LAB_TMP/bulk.out" 2>&1 ||
    t_fail "an agent's Report of 10,000 entries closed its session: $(tail -n 2 "$LAB_TMP/bulk.out")"
t_assert_eq "$(counter bound.frames_over_limit)" $((n + 1)) "bound.frames_over_limit after an agent's large Report"
t_assert_eq "$(counter agents.learned_new)" 10000 "bindings learned from the large Report"
t_assert_eq "$("${OV_CTL[@]}" host --json | jq '[.[] | select(.connected)] | length')" 3 "agents connected at the end"
t_pass
