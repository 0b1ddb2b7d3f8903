#!/usr/bin/env bash
# test_fabricd_auth.sh — fabricd believes a peer's certificate, never its words: attacks on
# its TCP listener (mutual TLS) from the hypervisors' namespaces, with wirepeer
# (tests/tools/wirepeer.c, a well-behaved TLS client that says what it is told), a plain
# socket and openssl s_client. Three hypervisors with their real vtepd. Each attack is
# refused the way docs/protocol.md says (closed, or the entry refused and counted) and leaves
# hv1's real agent in place (its vtepd still on its first session, fabricd's session with it
# older than before) and the overlay forwarding (vm1a pings vm2a):
#  - hv2's certificate, Hello saying vtepd hv1: closed, refused.identity_mismatch;
#  - plain TCP, a well-formed plaintext Hello of vtepd hv1 and a Report: not one byte back,
#    refused.tls_failed;
#  - s_client without a client certificate, and a certificate "vtepd hv1" from another CA:
#    no session (the handshake fails), refused.tls_failed;
#  - the API over TCP: a vtepd certificate whose Hello says fabricctl is closed (identity);
#    fabricctl with the fabricctl certificate lists hv1..hv3; fabricctl with a vtepd
#    certificate refuses it before connecting (exit 2);
#  - hv2's certificate announcing hv1's VTEP: closed, refused.vtep_not_in_certificate, and
#    the other kernels still send hv1's VMs to 198.18.0.11; a certificate of the lab's CA
#    that does name 198.18.0.11 (hv9's, issued by mistake) while hv1 is connected: closed,
#    refused.vtep_of_another_host;
#  - hv2's certificate and VTEP while hv2's vtepd is connected (stopped meanwhile): the newest
#    authenticated session wins; its Report entries in VNI 999 (not in its Hello), for
#    01:00:5e:00:00:01 and ff:ff:ff:ff:ff:ff, with 224.0.0.5 are refused one by one and
#    counted, the session goes on, nothing of them is in the port list; hv2's vtepd then
#    reconnects (its second session) and hv2 is connected again;
#  - vipd's certificate for hv2 naming hv1 as an HA port's master: refused
#    (refused.master_not_own_host), the master stays; vipd hv1 naming hv1 moves it;
#  - hv3's certificate withdrawing vm1a's MAC: refused.withdraw_not_held, vm1a stays on hv1
#    in fabricd and in the kernels; hv3's vtepd reconnects.
# shellcheck disable=SC2046,SC2016  # ov_tls prints options; conditions are eval'd when polled
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd jq openssl
WIREPEER=$T_BUILD/tests/tools/wirepeer
[ -x "$WIREPEER" ] || t_skip "$WIREPEER not built"
ov_build 3
ov_fabric_up

FD=$OV_FABRICD_ADDR
HV1_VTEP=$(ov_hv_ip4 hv1) HV2_VTEP=$(ov_hv_ip4 hv2) HV3_VTEP=$(ov_hv_ip4 hv3)
VM1A_MAC=$(ov_vm_mac vm1a)

counter() { "${OV_CTL[@]}" status --json | jq -r --arg k "$1" '.counters[$k]'; }
# wait_counter NAME WANT MSG: the counter reaches WANT (a close may be counted a moment after
# the peer saw it).
wait_counter() {
    t_assert_wait 5 "$3: counter $1 never reached $2 (it is $(counter "$1"))" \
        '[ "$(counter '"$1"')" -ge '"$2"' ]'
    t_assert_eq "$(counter "$1")" "$2" "$3: counter $1"
}
agent_json() { "$FABRICCTL" -s "$LAB_TMP/vtepd-$1.sock" agent status --json; }
agent_sessions() { agent_json "$1" | jq -r '.fabricd.sessions'; }
host_field() {   # HV FIELD: that field of HV in fabricd's host list
    "${OV_CTL[@]}" host --json | jq -r --arg h "$1" ".[] | select(.id == \$h) | .$2"
}
port_field() { "${OV_CTL[@]}" port list --json | jq -c --arg m "$1" ".[] | select(.mac == \$m) | $2"; }
# peer NS OUT WIREPEER_ARGS...: wirepeer in NS, what it printed in OUT, its exit code in PEER_RC
peer() {
    local ns=$1 out=$2; shift 2
    PEER_RC=0
    lab_exec "$ns" timeout 20 "$WIREPEER" -f "$FD" "$@" >"$out" 2>"$out.err" || PEER_RC=$?
    local args="$*"
    t_log "wirepeer ${args//$LAB_TMP\//}: exit $PEER_RC: $(grep -v '^update' "$out" | tr '\n' '|')"
}

# hv1's agent is the one every attack below would like to displace.
HV1_FOR=$(host_field hv1 connected_for_ms)
hv1_untouched() {   # WHAT
    local now
    t_assert_eq "$(agent_json hv1 | jq -c '[.fabricd.connected, .fabricd.sessions]')" '[true,1]' \
        "$1: hv1's vtepd (connected, sessions)"
    t_assert_eq "$(host_field hv1 connected)" true "$1: fabricd shows hv1 connected"
    now=$(host_field hv1 connected_for_ms)
    [ "$now" -gt "$HV1_FOR" ] || t_fail "$1: fabricd's session with hv1 is newer than before ($now ms, was $HV1_FOR ms)"
    HV1_FOR=$now
    ov_ping vm1a "$(ov_vm_ip4 vm2a)" 3 || t_fail "$1: vm1a cannot reach vm2a"
}
hv1_untouched "before any attack"

# --- an identity its certificate does not back --------------------------------------------
n=$(counter refused.identity_mismatch)
peer hv2 "$LAB_TMP/p-mismatch" $(ov_tls vtepd hv2) --role vtepd --id hv1 --vtep "$HV1_VTEP" \
    --vni 100 --vni 200 --report-full --report "100,$VM1A_MAC,$(ov_vm_ip4 vm1a)"
t_assert_eq "$PEER_RC" 1 "hv2's certificate saying hv1: wirepeer's exit (closed by fabricd)"
grep -q '^closed ' "$LAB_TMP/p-mismatch" || t_fail "hv2's certificate saying hv1: no close seen"
grep -q '^update' "$LAB_TMP/p-mismatch" && t_fail "hv2's certificate saying hv1 got an Update"
wait_counter refused.identity_mismatch $((n + 1)) "hv2's certificate saying hv1"
hv1_untouched "hv2's certificate saying hv1"

# --- no TLS at all: a plaintext Hello of vtepd hv1 and a Report ---------------------------
n=$(counter refused.tls_failed)
got=$(lab_exec hv3 "$T_PYTHON" - "$HV1_VTEP" "$VM1A_MAC" <<'PY'
import socket, sys
vtep = socket.inet_aton(sys.argv[1])
mac = bytes.fromhex(sys.argv[2].replace(":", ""))
def field(num, payload):            # a length-delimited protobuf field
    return bytes([num << 3 | 2, len(payload)]) + payload
hello = field(1, b"\x08\x01" + b"\x10\x01" + field(3, b"hv1") + field(4, vtep) + b"\x28\x64")
report = field(3, b"\x08\x01" + field(2, b"\x08\x64" + field(2, mac)))
s = socket.create_connection(("198.18.0.2", 7301), timeout=3)
got = b""
try:
    for env in (hello, report):     # fabricd may have reset the connection after the first
        s.sendall(len(env).to_bytes(4, "big") + env)
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
except (socket.timeout, ConnectionResetError, BrokenPipeError):
    pass
print(len(got))
PY
) || t_fail "the plaintext client could not run"
t_assert_eq "$got" 0 "bytes fabricd sent a plaintext client"
wait_counter refused.tls_failed $((n + 1)) "a plaintext Hello"
hv1_untouched "a plaintext Hello of hv1"

# --- TLS without a client certificate ------------------------------------------------------
n=$(counter refused.tls_failed)
accepted=$(counter listener.tcp.accepted)
out=$( (sleep 1) | lab_exec hv3 timeout 10 openssl s_client -connect "$FD" -tls1_3 \
    -CAfile "$OV_PKI/ca.pem" 2>&1)
t_log "s_client without a certificate: $(grep -iE 'alert|Verification:' <<<"$out" | tr '\n' '|')"
grep -qi 'alert certificate required' <<<"$out" || t_fail "s_client without a certificate: no 'certificate required' alert from fabricd"
wait_counter refused.tls_failed $((n + 1)) "s_client without a certificate"
t_assert_eq "$(counter listener.tcp.accepted)" $((accepted + 1)) "connections s_client made"
t_assert_eq "$(counter sessions.pre_hello)" 0 "sessions without a Hello once s_client is gone"
hv1_untouched "s_client without a certificate"

# --- a certificate "vtepd hv1" from another CA ------------------------------------------------
EVIL=$LAB_TMP/evil-pki
bash "$T_ROOT/scripts/certs.sh" "$EVIL" ca >/dev/null || t_fail "cannot make the second CA"
bash "$T_ROOT/scripts/certs.sh" "$EVIL" issue vtepd hv1 "$HV1_VTEP" >/dev/null || t_fail "cannot issue the forged hv1"
n=$(counter refused.tls_failed)
peer hv2 "$LAB_TMP/p-evil" --ca "$OV_PKI/ca.pem" --cert "$EVIL/vtepd-hv1.pem" --key "$EVIL/vtepd-hv1.key" \
    --role vtepd --vtep "$HV1_VTEP" --vni 100 --vni 200 --report-full
t_assert_eq "$PEER_RC" 1 "a certificate from another CA: wirepeer's exit (closed by fabricd)"
grep -q '^hello' "$LAB_TMP/p-evil" && t_fail "a certificate from another CA got fabricd's Hello"
wait_counter refused.tls_failed $((n + 1)) "a certificate from another CA"
hv1_untouched "a certificate vtepd hv1 from another CA"

# --- the API over TCP ------------------------------------------------------------------------
n=$(counter refused.identity_mismatch)
peer hv2 "$LAB_TMP/p-api" $(ov_tls vtepd hv2) --role fabricctl --request host_list --request status
t_assert_eq "$PEER_RC" 1 "a vtepd certificate saying fabricctl: wirepeer's exit (closed by fabricd)"
grep -q '^reply' "$LAB_TMP/p-api" && t_fail "a vtepd certificate saying fabricctl got a Reply"
wait_counter refused.identity_mismatch $((n + 1)) "a vtepd certificate saying fabricctl"
hosts=$(lab_exec hv2 "$FABRICCTL" -s "$FD" $(ov_tls fabricctl admin) host --json | jq -r '.[].id' | sort | tr '\n' ' ')
t_assert_eq "$hosts" "hv1 hv2 hv3 " "fabricctl over TCP with the fabricctl certificate: host list"
accepted=$(counter listener.tcp.accepted)
rc=0
lab_exec hv2 "$FABRICCTL" -s "$FD" $(ov_tls vtepd hv2) host --json >/dev/null 2>&1 || rc=$?
t_assert_eq "$rc" 2 "fabricctl with a vtepd certificate: its exit"
t_assert_eq "$(counter listener.tcp.accepted)" "$accepted" "connections made by fabricctl with a vtepd certificate"
hv1_untouched "the API over TCP"

# --- VTEPs ------------------------------------------------------------------------------------
n=$(counter refused.vtep_not_in_certificate)
peer hv2 "$LAB_TMP/p-vtep" $(ov_tls vtepd hv2) --role vtepd --vtep "$HV1_VTEP" --vni 100 --vni 200 \
    --report-full
t_assert_eq "$PEER_RC" 1 "hv2 announcing hv1's VTEP: wirepeer's exit (closed by fabricd)"
grep -q '^update' "$LAB_TMP/p-vtep" && t_fail "hv2 announcing hv1's VTEP got an Update"
wait_counter refused.vtep_not_in_certificate $((n + 1)) "hv2 announcing hv1's VTEP"
for hv in hv2 hv3; do
    t_assert_eq "$(ov_fdb $hv 100 | awk -v m="$VM1A_MAC" '$1 == m { print $2 }')" "$HV1_VTEP" \
        "$hv's kernel: vm1a's VTEP after hv2 announced hv1's"
done
t_assert_eq "$(agent_sessions hv2)" 1 "hv2's vtepd sessions after a refused Hello of hv2"
hv1_untouched "hv2 announcing hv1's VTEP"

bash "$T_ROOT/scripts/certs.sh" "$OV_PKI" issue vtepd hv9 "$HV1_VTEP" >/dev/null || t_fail "cannot issue hv9"
n=$(counter refused.vtep_of_another_host)
peer hv2 "$LAB_TMP/p-taken" $(ov_tls vtepd hv9) --role vtepd --vtep "$HV1_VTEP" --vni 100 --report-full
t_assert_eq "$PEER_RC" 1 "hv9 announcing connected hv1's VTEP: wirepeer's exit (closed by fabricd)"
wait_counter refused.vtep_of_another_host $((n + 1)) "hv9 announcing connected hv1's VTEP"
hv1_untouched "hv9 announcing connected hv1's VTEP"

# --- an authenticated agent's Report entries it may not make ---------------------------------
# hv2's vtepd is stopped so that it cannot come back while wirepeer holds hv2's session.
kill -STOP "${OV_VTEPD_PID[hv2]}"
declare -A before=()
for c in segment_not_served mac_not_a_port address_not_a_host; do before[$c]=$(counter "refused.$c"); done
peer hv2 "$LAB_TMP/p-entries" $(ov_tls vtepd hv2) --role vtepd --vtep "$HV2_VTEP" --vni 100 --vni 200 \
    --report-full --report "999,02:00:64:00:99:01" --report "100,01:00:5e:00:00:01" \
    --report "100,ff:ff:ff:ff:ff:ff" --report "100,02:00:64:00:99:02,224.0.0.5" --hold 1.5
kill -CONT "${OV_VTEPD_PID[hv2]}"
t_assert_eq "$PEER_RC" 0 "hv2's second session with refused entries: wirepeer's exit (held to the end)"
grep -q '^update adds [0-9]* dels 0 floods 2 full 1' "$LAB_TMP/p-entries" || t_fail "hv2's second session got no full table"
t_assert_eq "$(counter refused.segment_not_served)" $((before[segment_not_served] + 1)) "refused.segment_not_served"
t_assert_eq "$(counter refused.mac_not_a_port)" $((before[mac_not_a_port] + 2)) "refused.mac_not_a_port"
t_assert_eq "$(counter refused.address_not_a_host)" $((before[address_not_a_host] + 1)) "refused.address_not_a_host"
t_assert_eq "$("${OV_CTL[@]}" port list --json | jq -c '[.[] | select(.vni == 999 or
    (.mac | IN("01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "02:00:64:00:99:01", "02:00:64:00:99:02")))]')" \
    '[]' "bindings from refused entries"
t_assert_wait 10 "hv2's vtepd did not come back after its session was taken" \
    '[ "$(agent_json hv2 | jq -c "[.fabricd.connected, .fabricd.sessions]")" = "[true,2]" ]'
t_assert_wait 5 "fabricd does not show hv2 connected again" ov_agents_connected
hv1_untouched "refused Report entries"

# --- HA masters from vipd -------------------------------------------------------------------
HA_MAC=02:00:64:00:0e:01
"${OV_CTL[@]}" port add --vni 100 --mac $HA_MAC --host hv1 --host hv2 --ip 198.19.100.201 --name ha1 \
    >/dev/null || t_fail "port add ha1"
"${OV_CTL[@]}" port master --vni 100 --mac $HA_MAC --host hv2 >/dev/null || t_fail "port master hv2"
t_assert_eq "$(port_field $HA_MAC .master)" '"hv2"' "ha1's master as the API set it"
n=$(counter refused.master_not_own_host)
peer hv2 "$LAB_TMP/p-master" $(ov_tls vipd hv2) --role vipd --master "100,$HA_MAC,hv1" --hold 0.5
t_assert_eq "$PEER_RC" 0 "vipd hv2 naming hv1: wirepeer's exit (the session goes on)"
wait_counter refused.master_not_own_host $((n + 1)) "vipd hv2 naming hv1 as the master"
t_assert_eq "$(port_field $HA_MAC .master)" '"hv2"' "ha1's master after vipd hv2 named hv1"
peer hv1 "$LAB_TMP/p-master1" $(ov_tls vipd hv1) --role vipd --master "100,$HA_MAC,hv1" --hold 0.5
t_assert_wait 5 "vipd hv1 naming itself did not move ha1's master" \
    '[ "$(port_field '"$HA_MAC"' .master)" = "\"hv1\"" ]'
t_assert_eq "$(counter refused.master_not_own_host)" $((n + 1)) "refused.master_not_own_host after vipd hv1 named itself"
hv1_untouched "vipd masters"

# --- a withdrawal of a MAC another host holds -----------------------------------------------
kill -STOP "${OV_VTEPD_PID[hv3]}"
n=$(counter refused.withdraw_not_held)
peer hv3 "$LAB_TMP/p-withdraw" $(ov_tls vtepd hv3) --role vtepd --vtep "$HV3_VTEP" --vni 100 --vni 200 \
    --report-full --withdraw "100,$VM1A_MAC" --hold 1
kill -CONT "${OV_VTEPD_PID[hv3]}"
t_assert_eq "$PEER_RC" 0 "hv3 withdrawing vm1a: wirepeer's exit (the session goes on)"
t_assert_eq "$(counter refused.withdraw_not_held)" $((n + 1)) "refused.withdraw_not_held"
t_assert_eq "$(port_field "$VM1A_MAC" .hosts)" '["hv1"]' "vm1a's host after hv3 withdrew it"
t_assert_eq "$(ov_fdb hv2 100 | awk -v m="$VM1A_MAC" '$1 == m { print $2 }')" "$HV1_VTEP" \
    "hv2's kernel: vm1a's VTEP after hv3 withdrew it"
t_assert_wait 10 "hv3's vtepd did not come back after its session was taken" \
    '[ "$(agent_json hv3 | jq -c "[.fabricd.connected, .fabricd.sessions]")" = "[true,2]" ]'
t_assert_wait 5 "fabricd does not show hv3 connected again" ov_agents_connected
ov_ping vm3a "$(ov_vm_ip4 vm1a)" 3 || t_fail "vm3a cannot reach vm1a after hv3's vtepd came back"
hv1_untouched "hv3 withdrawing vm1a"
t_pass
