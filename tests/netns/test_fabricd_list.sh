#!/usr/bin/env bash
# test_fabricd_list.sh — `fabricctl port list` at a million bindings: the reply is far over one
# frame (16 MiB), so fabricd streams it in pages, each made once the previous one drained.
#  - 1,000,000 learned bindings (tests/tools/agentload: fake agents on fabricd's Unix socket)
#  - the table lists every one of them, each MAC once; the JSON is one valid array of 1,000,000
#  - fabricd's peak memory grows by far less than a whole reply would take (a page at a time,
#    from a snapshot of the keys: about 12 bytes a binding)
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd jq
N=1000000
[ -x "$T_BUILD/tests/tools/agentload" ] || t_skip "agentload not built"

lab_tmpdir
lab_ns_add m
lab_exec m ip link set lo up
SOCK=$LAB_TMP/fabricd.sock
lab_bg m "$LAB_TMP/fabricd.log" "$T_BUILD/fabricd/fabricd" -f -s "$SOCK" -S none -i fm
FPID=$LAB_LAST_PID
t_assert_wait 5 "fabricd did not start" test -S "$SOCK"
lab_exec m "$T_BUILD/tests/tools/agentload" -f "$SOCK" -P "$FPID" -n $N -a 4 -t 120 \
    >"$LAB_TMP/agentload.out" 2>"$LAB_TMP/agentload.log" || t_fail "agentload failed"
t_assert_eq "$(awk '$1 == "bindings" { print $2 }' "$LAB_TMP/agentload.out")" $N "bindings loaded"

hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$FPID/status"; }
before=$(hwm)
lab_exec m "$FABRICCTL" -s "$SOCK" port list >"$LAB_TMP/list.txt" || t_fail "port list failed"
t_assert_eq "$(awk 'NR > 1' "$LAB_TMP/list.txt" | wc -l)" $N "ports in the table"
t_assert_eq "$(awk 'NR > 1 { print $1, $2 }' "$LAB_TMP/list.txt" | sort -u | wc -l)" $N \
    "distinct (VNI, MAC) in the table"
t_assert_eq "$(lab_exec m "$FABRICCTL" -s "$SOCK" port list --json | jq length)" $N "ports in the JSON"
grown=$(( $(hwm) - before ))
t_log "fabricd's peak memory grew by $grown kB over two listings of $N bindings"
# a whole reply would be a few hundred MB of protobuf structures; pages from a 12 MB snapshot
[ "$grown" -lt 65536 ] || t_fail "fabricd's peak memory grew by $grown kB listing the ports"
t_pass
