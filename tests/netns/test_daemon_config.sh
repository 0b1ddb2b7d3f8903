#!/usr/bin/env bash
# test_daemon_config.sh — the daemons as lib/daemon runs them, on the overlay lab:
#  * fabricd and hv1's vtepd start from their configuration files (-c), not from flags;
#  * least privilege, read from /proc/PID/status: fabricd holds no capability at all, vtepd
#    and vipd only CAP_NET_ADMIN and CAP_NET_RAW (0x3000) effective and permitted; every one
#    has an empty bounding set and NoNewPrivs;
#  * SIGHUP of vtepd with a segment added to its file: the new segment is set up and works
#    (vx200 exists, its FDB is programmed, vm1b pings vm2b), while the kernel entries of the
#    running segment are not touched (ip/bridge monitor on hv1 see no change on vx100/br100);
#  * SIGHUP of fabricd with new limits and log level: `fabricctl status` shows them, every
#    agent keeps its session and every port stays;
#  * a reload of a broken file is refused and changes nothing;
#  * read-only status sockets (mode 0666): they answer status and lists, and fabricd's refuses
#    a port add with a clear error, counted; 24 silent sessions there hold at most 16 and
#    do not keep a reader out; 16 busy sessions on vtepd's control socket do not keep
#    fabricctl out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd jq
[ -x "$T_BUILD/fabricd/fabricd" ] && [ -x "$T_BUILD/vtepd/vtepd" ] && [ -x "$VIPD" ] || t_skip "daemons not built"

ov_build 2
lab_tmpdir
ov_pki
SOCK=$LAB_TMP/fabricd.sock CTL=("$FABRICCTL" -s "$SOCK")
cat >"$LAB_TMP/fabricd.yaml" <<YAML
id: fm
listen: $OV_FABRICD_ADDR
tls:
  ca: $OV_PKI/ca.pem
  cert: $OV_PKI/fabricd-fm.pem
  key: $OV_PKI/fabricd-fm.key
control_socket: $SOCK
status_socket: $LAB_TMP/fabricd-status.sock
store: $LAB_TMP/fabricd.journal
limits:
  max_unix_sessions: 64
YAML
lab_bg fm "$LAB_TMP/fabricd.log" "$T_BUILD/fabricd/fabricd" -f -c "$LAB_TMP/fabricd.yaml"
fpid=$LAB_LAST_PID
t_assert_wait 5 "fabricd did not start" test -S "$SOCK"
for vm in $(ov_vms); do
    "${CTL[@]}" port add --vni "$(ov_vm_vni "$vm")" --mac "$(ov_vm_mac "$vm")" --host "$(ov_vm_host "$vm")" \
        --ip "$(ov_vm_ip4 "$vm")" --name "$vm" >/dev/null || t_fail "port add $vm"
done
vtepd_yaml() {   # SEGMENT... -> hv1's vtepd.yaml
    {
        printf 'id: hv1\nfabricd: %s\ntls:\n  ca: %s\n  cert: %s\n  key: %s\n' "$OV_FABRICD_ADDR" \
            "$OV_PKI/ca.pem" "$OV_PKI/vtepd-hv1.pem" "$OV_PKI/vtepd-hv1.key"
        printf 'vtep: %s\nunderlay: eth0\ncontrol_socket: %s\nstatus_socket: %s\nsegments:\n' \
            "$(ov_hv_ip4 hv1)" "$LAB_TMP/vtepd-hv1.sock" "$LAB_TMP/vtepd-hv1-status.sock"
        for s in "$@"; do printf '  - {vni: %s, bridge: br%s}\n' "$s" "$s"; done
    } >"$LAB_TMP/vtepd-hv1.yaml"
}
vtepd_yaml 100
"$T_BUILD/vtepd/vtepd" -n -c "$LAB_TMP/vtepd-hv1.yaml" >/dev/null || t_fail "vtepd -n refuses the file"
lab_bg hv1 "$LAB_TMP/vtepd-hv1.log" "$T_BUILD/vtepd/vtepd" -f -c "$LAB_TMP/vtepd-hv1.yaml"
vpid=$LAB_LAST_PID
ov_vtepd_start hv2 1
OV_CTL=("${CTL[@]}")
t_assert_wait 10 "agents did not connect" ov_agents_connected
t_assert_wait 5 "hv1: vx100 not programmed" '[ "$(ov_fdb hv1 100 | grep -c "$(ov_vm_mac vm2a)")" = 1 ]'
lab_exec hv1 ip link show vx200 >/dev/null 2>&1 && t_fail "hv1 has vx200 before its file names it"

# vipd, from its file, with no group: it is its privileges that are checked here.
printf 'node: hv1\ncontrol_socket: %s\nstatus_socket: %s\ngroups: []\n' "$LAB_TMP/vipd.sock" \
    "$LAB_TMP/vipd-status.sock" >"$LAB_TMP/vipd.yaml"
lab_bg hv1 "$LAB_TMP/vipd.log" "$VIPD" -f -c "$LAB_TMP/vipd.yaml"
ipid=$LAB_LAST_PID
t_assert_wait 5 "vipd did not start" test -S "$LAB_TMP/vipd.sock"

# --- least privilege --------------------------------------------------------------------------
caps() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
check_caps() {   # PID NAME EFF
    local pid=$1 name=$2 want=$3
    t_assert_eq "$(caps "$pid" CapEff)" "$want" "$name CapEff"
    t_assert_eq "$(caps "$pid" CapPrm)" "$want" "$name CapPrm"
    t_assert_eq "$(caps "$pid" CapBnd)" 0000000000000000 "$name CapBnd (nothing can be regained)"
    t_assert_eq "$(caps "$pid" CapAmb)" 0000000000000000 "$name CapAmb"
    t_assert_eq "$(caps "$pid" NoNewPrivs)" 1 "$name NoNewPrivs"
    t_log "$name: CapEff $(caps "$pid" CapEff) CapBnd $(caps "$pid" CapBnd) NoNewPrivs 1"
}
check_caps "$fpid" fabricd 0000000000000000
check_caps "$vpid" vtepd 0000000000003000
check_caps "$ipid" vipd 0000000000003000

# --- read-only status sockets, mode 0666 beside the 0660 control sockets ----------------------
for s in fabricd-status vtepd-hv1-status vipd-status; do
    t_assert_eq "$(stat -c %a "$LAB_TMP/$s.sock")" 666 "mode of $s.sock"
done
t_assert_eq "$(stat -c %a "$SOCK")" 660 "mode of fabricd's control socket"
RO=("$FABRICCTL" -s "$LAB_TMP/fabricd-status.sock")
t_assert_eq "$("${RO[@]}" port list --json | jq length)" "$(ov_vms | wc -l)" "port list on fabricd's status socket"
"${RO[@]}" status --json | jq -e .counters >/dev/null || t_fail "status on fabricd's status socket"
if out=$("${RO[@]}" port add --vni 100 --mac 02:00:64:00:09:09 --host hv1 --ip 198.19.100.99 2>&1); then
    t_fail "port add went through the read-only status socket: $out"
fi
case $out in *read-only*) ;; *) t_fail "port add on the status socket: no clear error: $out" ;; esac
"${CTL[@]}" port list --json | jq -e 'map(select(.mac == "02:00:64:00:09:09")) | length == 0' >/dev/null ||
    t_fail "a port was added through the status socket"
t_assert_eq "$("${CTL[@]}" status --json | jq '.counters["refused.readonly_socket"]')" 1 "fabricd's read-only refusals"
# 24 sessions that say Hello and then nothing hold fabricd's status socket: at most 16 exist,
# and once they are 3 s old a reader gets in (the oldest makes room); the control socket is
# never affected.
"$T_PYTHON" - "$LAB_TMP/fabricd-status.sock" <<'PY' &
import socket, struct, sys, time
hello = bytes.fromhex("0a09080110021a0361746b")
s = []
for _ in range(24):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.connect(sys.argv[1])
        c.sendall(struct.pack("!I", len(hello)) + hello)
    except OSError:
        pass                      # beyond the cap: fabricd closed it, as it should
    s.append(c)
time.sleep(6)
PY
holders=$!
t_assert_wait 5 "the status socket never held 16 sessions" \
    '[ "$("${CTL[@]}" status --json | jq ".counters[\"sessions.status\"]")" = 16 ]'
sleep 0.5
t_assert_eq "$("${CTL[@]}" status --json | jq '.counters["sessions.status"]')" 16 "sessions held on the status socket (its cap)"
sleep 3
"${RO[@]}" status --json | jq -e .counters >/dev/null || t_fail "a reader kept off the full status socket"
"${CTL[@]}" status --json | jq -e .counters >/dev/null || t_fail "the control socket affected by the status socket"
wait $holders
"$FABRICCTL" -s "$LAB_TMP/vtepd-hv1-status.sock" agent status --json | jq -e '.fabricd.connected' >/dev/null ||
    t_fail "agent status on vtepd's status socket"
# 16 sessions kept busy on vtepd's control socket (a request every 50 ms): once they are a
# few seconds old, fabricctl still gets in (the oldest busy session makes room).
"$T_PYTHON" "$T_DIR/ctlpeer.py" "$LAB_TMP/vtepd-hv1.sock" poll-agent 7 >"$LAB_TMP/poll.out" 2>"$LAB_TMP/poll.err" &
ppid=$!
t_assert_wait 5 "ctlpeer.py did not connect" 'grep -q connected "$LAB_TMP/poll.err"'
sleep 3.5
"$FABRICCTL" -s "$LAB_TMP/vtepd-hv1.sock" agent status --json | jq -e '.fabricd.connected' >/dev/null ||
    t_fail "fabricctl kept out of vtepd's control socket by 16 busy sessions"
wait $ppid
t_log "vtepd's socket, busy sessions: $(cat "$LAB_TMP/poll.out")"
"$FABRICCTL" -s "$LAB_TMP/vipd-status.sock" vip status --json | jq -e '.node == "hv1"' >/dev/null ||
    t_fail "vip status on vipd's status socket"

# --- vtepd: SIGHUP adds a segment, the running one is left alone ------------------------------
before=$(ov_fdb hv1 100; ov_neigh hv1 100)
lab_exec hv1 timeout 20 ip monitor neigh >"$LAB_TMP/mon-neigh" 2>&1 &
m1=$!
lab_exec hv1 timeout 20 bridge monitor fdb >"$LAB_TMP/mon-fdb" 2>&1 &
m2=$!
sleep 0.3
vtepd_yaml 100 200
kill -HUP "$vpid"
t_assert_wait 5 "hv1: no vx200 after SIGHUP" 'lab_exec hv1 ip link show vx200 >/dev/null 2>&1'
t_assert_wait 10 "hv1: vx200 not programmed" '[ "$(ov_fdb hv1 200 | grep -c "$(ov_vm_mac vm2b)")" = 1 ]'
t_assert_wait 5 "vm1b cannot reach vm2b after the reload" 'ov_ping vm1b "$(ov_vm_ip4 vm2b)"'
sleep 0.3
kill "$m1" "$m2" 2>/dev/null; wait "$m1" "$m2" 2>/dev/null
# The monitors saw the reload's own work (segment 200 programmed), so their silence on
# segment 100 means something.
grep -q 'vx200' "$LAB_TMP/mon-fdb" || t_fail "bridge monitor saw no entry of the new segment: $(head -3 "$LAB_TMP/mon-fdb")"
grep -q 'br200' "$LAB_TMP/mon-neigh" || t_fail "ip monitor saw no neighbour of the new segment: $(head -3 "$LAB_TMP/mon-neigh")"
touched=$(grep -hE 'vx100|br100' "$LAB_TMP/mon-neigh" "$LAB_TMP/mon-fdb" | grep -v 'vm1a' || true)
[ -z "$touched" ] || t_fail "the reload touched segment 100's entries: $touched"
t_assert_eq "$(ov_fdb hv1 100; ov_neigh hv1 100)" "$before" "segment 100's entries after the reload"
lab_alive "$vpid" || t_fail "vtepd died on SIGHUP"

# A broken file: refused, nothing changes.
echo 'segments: 3' >>"$LAB_TMP/vtepd-hv1.yaml"
kill -HUP "$vpid"
t_assert_wait 5 "vtepd did not refuse the broken file" 'grep -q "reload refused" "$LAB_TMP/vtepd-hv1.log"'
t_assert_eq "$(ov_fdb hv1 100; ov_neigh hv1 100)" "$before" "segment 100's entries after a refused reload"

# --- fabricd: SIGHUP takes new limits ---------------------------------------------------------
ports=$("${CTL[@]}" port list --json | jq -c 'sort_by(.name)')
sed -i 's/max_unix_sessions: 64/max_unix_sessions: 50/' "$LAB_TMP/fabricd.yaml"
printf 'log_level: debug\n' >>"$LAB_TMP/fabricd.yaml"
kill -HUP "$fpid"
t_assert_wait 5 "fabricd did not take max_unix_sessions 50" \
    '[ "$("${CTL[@]}" status --json | jq .limits.max_unix_sessions)" = 50 ]'
t_assert_eq "$("${CTL[@]}" port list --json | jq -c 'sort_by(.name)')" "$ports" "ports after fabricd's reload"
ov_agents_connected || t_fail "an agent lost its session on fabricd's reload"
lab_alive "$fpid" || t_fail "fabricd died on SIGHUP"
t_pass "started from files; fabricd no capability, vtepd and vipd 0x3000; SIGHUP added a segment untouched"
