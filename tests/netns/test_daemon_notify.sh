#!/usr/bin/env bash
# test_daemon_notify.sh — lib/daemon as a service manager and a shell see it, with fabricd:
#  * under systemd (NOTIFY_SOCKET, here a datagram socket of our own speaking sd_notify's
#    protocol, with WATCHDOG_USEC): it stays in the foreground, says READY=1 with its MAINPID
#    once its socket is open, WATCHDOG=1 while it runs, RELOADING=1 then READY=1 on SIGHUP,
#    STOPPING=1 on SIGTERM;
#  * without -f and without systemd: the command returns only once the daemon is ready (its
#    socket exists when it returns 0), the daemon goes on detached and logs to --log-file;
#    SIGUSR1 reopens the log file after it was moved away;
#  * a start that fails after detaching fails the command with the daemon's exit status.
. "$(dirname "$0")/lib.sh"
t_require_root
[ -x "$T_BUILD/fabricd/fabricd" ] || t_skip "fabricd not built"
[ -x "$T_PYTHON" ] || t_skip "python3 missing"
FABRICD=$T_BUILD/fabricd/fabricd

lab_ns_add d
lab_tmpdir

# --- under systemd ----------------------------------------------------------------------------
N=$LAB_TMP/notify.sock
"$T_PYTHON" "$T_DIR/notify_listen.py" "$N" 8 >"$LAB_TMP/notify.out" 2>"$LAB_TMP/notify.err" &
lpid=$!
lab_wait_for 5 grep -q listening "$LAB_TMP/notify.err" || t_fail "notify listener did not start"
lab_bg d "$LAB_TMP/fabricd-sd.log" env NOTIFY_SOCKET="$N" WATCHDOG_USEC=200000 \
    "$FABRICD" -s "$LAB_TMP/sd.sock" -S none -i fm
spid=$LAB_LAST_PID
lab_wait_for 5 grep -q '^READY=1' "$LAB_TMP/notify.out" || t_fail "no READY=1: $(cat "$LAB_TMP/notify.out")"
test -S "$LAB_TMP/sd.sock" || t_fail "READY=1 before the control socket exists"
lab_alive "$spid" || t_fail "fabricd under NOTIFY_SOCKET detached or died"
grep -q "MAINPID=$spid" "$LAB_TMP/notify.out" || t_fail "READY=1 without MAINPID=$spid: $(cat "$LAB_TMP/notify.out")"
sleep 0.6
[ "$(grep -c '^WATCHDOG=1$' "$LAB_TMP/notify.out")" -ge 2 ] || t_fail "no watchdog pings in 0.6 s at 200 ms"
kill -HUP "$spid"
lab_wait_for 5 '[ "$(grep -c "^READY=1" "$LAB_TMP/notify.out")" -ge 2 ]' || t_fail "no READY=1 after SIGHUP"
grep -q '^RELOADING=1|MONOTONIC_USEC=' "$LAB_TMP/notify.out" || t_fail "no RELOADING=1 on SIGHUP: $(cat "$LAB_TMP/notify.out")"
kill -TERM "$spid"
lab_wait_for 5 "! lab_alive $spid" || t_fail "fabricd did not stop on SIGTERM"
lab_wait_for 5 grep -q '^STOPPING=1' "$LAB_TMP/notify.out" || t_fail "no STOPPING=1"
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
t_log "notify: $(tr '\n' ' ' <"$LAB_TMP/notify.out" | sed 's/WATCHDOG=1 //g')"

# --- detached ---------------------------------------------------------------------------------
rc=0
lab_exec d "$FABRICD" -s "$LAB_TMP/bg.sock" -S none -i fm --log-file "$LAB_TMP/bg.log" || rc=$?
t_assert_eq "$rc" 0 "exit status of a detaching fabricd"
test -S "$LAB_TMP/bg.sock" || t_fail "the command returned before the daemon was ready"
bpid=$(ip netns pids "$(lab_ns d)" | head -n 1)
[ -n "$bpid" ] && grep -q fabricd "/proc/$bpid/cmdline" || t_fail "no detached fabricd in the namespace"
lab_track_pid "$bpid"
t_assert_eq "$(awk '{ print $5 }' "/proc/$bpid/stat")" "$(awk '{ print $6 }' "/proc/$bpid/stat")" \
    "the detached daemon leads its own session (setsid)"
grep -q 'agents on the Unix socket only' "$LAB_TMP/bg.log" || t_fail "the detached daemon did not log to --log-file"
"$FABRICCTL" -s "$LAB_TMP/bg.sock" status >/dev/null || t_fail "the detached fabricd does not answer"
mv "$LAB_TMP/bg.log" "$LAB_TMP/bg.log.1"
kill -USR1 "$bpid"
lab_wait_for 5 test -s "$LAB_TMP/bg.log" || t_fail "SIGUSR1 did not reopen the log file"
grep -q 'reopened' "$LAB_TMP/bg.log" || t_fail "the reopened log file does not say so"
kill -TERM "$bpid"
lab_wait_for 5 "! lab_alive $bpid" || t_fail "the detached fabricd did not stop"

# --- a start that fails after detaching -------------------------------------------------------
mkdir -p "$LAB_TMP/ro"
printf 'garbage that is not a journal' >"$LAB_TMP/ro/fabricd.journal"
rc=0
lab_exec d "$FABRICD" -s "$LAB_TMP/bad.sock" -S "$LAB_TMP/ro/fabricd.journal" -i fm --log-file "$LAB_TMP/bad.log" || rc=$?
[ "$rc" -ne 0 ] || t_fail "a fabricd that cannot open its store exited 0"
grep -qi 'journal\|store' "$LAB_TMP/bad.log" || t_fail "the failed start logged nothing about its store"
[ -z "$(ip netns pids "$(lab_ns d)")" ] || t_fail "a failed start left a process behind"
t_pass "READY/WATCHDOG/RELOADING/STOPPING as sd_notify; detaching after readiness; USR1 reopens; a failed start fails (exit $rc)"
