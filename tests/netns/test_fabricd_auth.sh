#!/usr/bin/env bash
# test_fabricd_auth.sh — fabricd believes certificates, not Hellos, and lets an identity say
# only what it is entitled to (docs/protocol.md, "Identity", "Authorization"). The overlay lab
# with real vtepd agents (mutual TLS); the attacks come from the underlay (hypervisors'
# namespaces) with wirepeer (tests/tools: a well-behaved TLS client saying what it is told),
# openssl s_client and a plain TCP socket:
#  - hv2's certificate with a Hello saying hv1: closed (refused.identity_mismatch);
#  - a plain TCP client sending a Hello for hv1 and a Report: not one byte comes back
#    (refused.tls_failed); a TLS client without a certificate, and one with a certificate of
#    another CA: refused in the handshake;
#  - the API over TCP: a vtepd certificate speaking as fabricctl is closed; fabricctl with the
#    admin certificate lists the hosts; fabricctl with a vtepd certificate refuses locally;
#  - hv2's certificate announcing hv1's VTEP: closed (refused.vtep_not_in_certificate), and
#    every kernel keeps sending hv1's VMs to hv1;
#  - a second session with hv2's certificate displaces the real agent (the newest
#    authenticated one wins), and the real one comes back after;
#  - an authenticated agent (hv4) reporting in a segment it does not serve, a multicast or
#    broadcast MAC, a multicast address: each entry refused and counted, the session goes
#    on, nothing of it lands in the directory, while its lawful entry does;
#  - vipd's certificate for hv2 naming hv1 as an HA port's master: refused, master unchanged;
#  - through all of it hv1's agent keeps its one session and the VMs keep talking.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd jq openssl
WIREPEER=$T_BUILD/tests/tools/wirepeer
[ -x "$WIREPEER" ] || t_skip "wirepeer not built"
ov_build 3
ov_fabric_up

A=$OV_FABRICD_ADDR
counter() { "${OV_CTL[@]}" status --json | jq -r --arg k "$1" '.counters[$k]'; }
agent_sessions() { "$FABRICCTL" -s "$LAB_TMP/vtepd-$1.sock" agent status --json | jq -r '.fabricd.sessions'; }
connected() { "${OV_CTL[@]}" host --json | jq -r --arg h "$1" '.[] | select(.id == $h) | .connected'; }
# peer NS ROLE CERT_ID [ARGS...]: wirepeer from NS with ROLE's certificate CERT_ID; its output
# in PEER_OUT, its exit code returned
peer() {
    local ns=$1 role=$2 id=$3 rc
    shift 3
    # shellcheck disable=SC2046  # ov_tls prints options
    PEER_OUT=$(lab_exec "$ns" timeout 20 "$WIREPEER" -f "$A" $(ov_tls "$role" "$id") "$@" 2>&1)
    rc=$?
    t_log "wirepeer $role $id $*: rc $rc: $(tr '\n' '|' <<<"$PEER_OUT")"
    return $rc
}
# expect_counter NAME BEFORE: NAME went up by one
expect_up() { t_assert_eq "$(counter "$1")" $(($2 + 1)) "$1"; }
hv1_untouched() {
    t_assert_eq "$(agent_sessions hv1)" 1 "hv1's agent sessions (displaced by $1?)"
    t_assert_eq "$(connected hv1)" true "hv1 connected after $1"
}
vm1a_mac=$(ov_vm_mac vm1a)

# --- a certificate that does not back the Hello -------------------------------------------------
n=$(counter refused.identity_mismatch)
peer hv2 vtepd hv2 --role vtepd --id hv1 --vtep "$(ov_hv_ip4 hv1)" --vni 100 &&
    t_fail "a Hello saying hv1 on hv2's certificate was kept"
grep -q '^update' <<<"$PEER_OUT" && t_fail "the impostor was sent an Update"
expect_up refused.identity_mismatch "$n"
hv1_untouched "hv2's certificate saying hv1"

# --- no TLS, no certificate, another CA ----------------------------------------------------------
n=$(counter refused.tls_failed)
got=$(lab_exec hv3 timeout 10 "$T_PYTHON" - "$OV_FM4" "$OV_FM_PORT" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
def ld(field, b):   # a length-delimited protobuf field (short lengths only)
    return bytes([field << 3 | 2, len(b)]) + b
# Envelope{hello: Hello{version 1, role VTEPD, id "hv1", vtep 198.18.0.11}}
hello = ld(1, bytes([0x08, 1, 0x10, 1]) + ld(3, b"hv1") + ld(4, bytes([198, 18, 0, 11])))
# Envelope{report: Report{entries: [Learned{vni 100, mac vm1a's, seq 1000}]}}
learned = bytes([0x08, 100]) + ld(2, bytes.fromhex("02006400010a")) + bytes([0x20, 0xe8, 0x07])
report = ld(3, ld(2, learned))
for m in (hello, report):
    s.sendall(len(m).to_bytes(4, "big") + m)
got = b""
try:
    while len(got) < 65536:
        b = s.recv(65536)
        if not b:
            break
        got += b
except (socket.timeout, ConnectionResetError):
    pass
print(len(got))
PY
) || t_fail "the plain TCP client could not run"
t_assert_eq "$got" 0 "bytes fabricd sent a plain TCP client"
t_assert_wait 5 "the plain TCP client was not counted" '[ "$(counter refused.tls_failed)" -gt '"$n"' ]'
n=$(counter refused.tls_failed)
# TLS 1.3: the client is done with its side before the server's alert comes: keep it reading
out=$(lab_exec hv3 timeout 10 openssl s_client -connect "$A" -CAfile "$OV_PKI/ca.pem" -brief \
    < <(sleep 1) 2>&1)
grep -q 'alert number 116' <<<"$out" || t_fail "no certificate-required alert without a certificate: $out"
t_assert_wait 5 "the client without a certificate was not counted" '[ "$(counter refused.tls_failed)" -gt '"$n"' ]'
bash "$T_ROOT/scripts/certs.sh" "$LAB_TMP/rogue" ca >/dev/null
bash "$T_ROOT/scripts/certs.sh" "$LAB_TMP/rogue" issue vtepd hv1 "$(ov_hv_ip4 hv1)" >/dev/null
n=$(counter refused.tls_failed)
PEER_OUT=$(lab_exec hv3 timeout 20 "$WIREPEER" -f "$A" --ca "$OV_PKI/ca.pem" \
    --cert "$LAB_TMP/rogue/vtepd-hv1.pem" --key "$LAB_TMP/rogue/vtepd-hv1.key" --role vtepd \
    --vtep "$(ov_hv_ip4 hv1)" --vni 100 2>&1) && t_fail "a certificate of another CA got a session"
grep -q '^hello' <<<"$PEER_OUT" && t_fail "fabricd said Hello to a certificate of another CA"
t_assert_wait 5 "the other CA's certificate was not counted" '[ "$(counter refused.tls_failed)" -gt '"$n"' ]'
hv1_untouched "strangers without a usable certificate"

# --- the API over TCP -----------------------------------------------------------------------------
n=$(counter refused.identity_mismatch)
peer hv2 vtepd hv2 --role fabricctl --id hv2 --request host_list &&
    t_fail "a vtepd certificate speaking as fabricctl was kept"
grep -q '^reply' <<<"$PEER_OUT" && t_fail "a vtepd certificate got an API reply"
expect_up refused.identity_mismatch "$n"
# shellcheck disable=SC2046
hosts=$(lab_exec hv2 "$FABRICCTL" -s "$A" $(ov_tls fabricctl admin) host --json | jq -r '.[].id' | sort | tr '\n' ' ')
t_assert_eq "$hosts" "hv1 hv2 hv3 " "hosts listed by fabricctl over TCP with the admin certificate"
# shellcheck disable=SC2046
lab_exec hv2 "$FABRICCTL" -s "$A" $(ov_tls vtepd hv2) host >/dev/null 2>&1
t_assert_eq $? 2 "fabricctl's exit with a vtepd certificate"

# --- announcing another host's VTEP ---------------------------------------------------------------
n=$(counter refused.vtep_not_in_certificate)
peer hv3 vtepd hv2 --role vtepd --vtep "$(ov_hv_ip4 hv1)" --vni 100 &&
    t_fail "hv2 announcing hv1's VTEP was kept"
expect_up refused.vtep_not_in_certificate "$n"
for hv in hv2 hv3; do
    t_assert_eq "$(ov_fdb "$hv" 100 | awk -v m="$vm1a_mac" '$1 == m { print $2 }')" "$(ov_hv_ip4 hv1)" \
        "where $hv sends vm1a"
done
t_assert_wait 10 "hv2's real agent is not back" '[ "$(connected hv2)" = true ]'
hv1_untouched "hv2 announcing hv1's VTEP"

# --- the newest authenticated session for an identity wins -----------------------------------------
s2=$(agent_sessions hv2)
peer hv3 vtepd hv2 --role vtepd --vtep "$(ov_hv_ip4 hv2)" --vni 100 --vni 200 --report-full --hold 0.5
grep -q '^update adds .* full 1' <<<"$PEER_OUT" || t_fail "hv2's certificate on a new session got no full table"
# the real hv2 agent was replaced; it reconnects, and is the newest again
t_assert_wait 10 "hv2's real agent did not come back" '[ "$(agent_sessions hv2)" -gt '"$s2"' ] && [ "$(connected hv2)" = true ]'

# --- an authenticated agent saying what it may not -----------------------------------------------
# hv4: a host of the fabric with a certificate of its own (so that no real agent displaces it)
bash "$T_ROOT/scripts/certs.sh" "$OV_PKI" issue vtepd hv4 198.18.0.14 >/dev/null
nv=$(counter refused.segment_not_served) nm=$(counter refused.mac_not_a_port)
ni=$(counter refused.address_not_a_host)
peer hv3 vtepd hv4 --role vtepd --vtep 198.18.0.14 --vni 100 --vni 200 --report-full \
    --report "999,02:00:99:00:00:01,198.19.99.1" --report "100,01:00:5e:00:00:01" \
    --report "100,ff:ff:ff:ff:ff:ff" --report "100,02:00:64:00:77:01,224.0.0.5" \
    --report "100,02:00:64:00:77:02,198.19.100.77" --hold 1 ||
    t_fail "the authenticated agent's session did not survive refused entries"
expect_up refused.segment_not_served "$nv"
t_assert_eq "$(counter refused.mac_not_a_port)" $((nm + 2)) "refused.mac_not_a_port"
expect_up refused.address_not_a_host "$ni"
t_assert_eq "$("${OV_CTL[@]}" port list --json | jq '[.[] | select(.vni == 999 or .mac == "01:00:5e:00:00:01" or .mac == "ff:ff:ff:ff:ff:ff" or .mac == "02:00:64:00:77:01")] | length')" 0 \
    "refused entries in the directory"
# what it may say went in: a MAC at its own VTEP, which the other agents now send there
t_assert_eq "$("${OV_CTL[@]}" port list --json | jq -r '.[] | select(.mac == "02:00:64:00:77:02") | .hosts[0]')" hv4 \
    "the entry hv4 was entitled to"
t_assert_wait 5 "hv1 does not send hv4's MAC to hv4" \
    '[ "$(ov_fdb hv1 100 | awk '"'"'$1 == "02:00:64:00:77:02" { print $2 }'"'"')" = 198.18.0.14 ]'
hv1_untouched "refused entries from hv4"

# --- a vipd naming another host as master ------------------------------------------------------------
HA_MAC=02:00:64:00:00:fe
"${OV_CTL[@]}" port add --vni 100 --mac $HA_MAC --host hv1 --host hv2 --name ha >/dev/null || t_fail "port add ha"
"${OV_CTL[@]}" port master --vni 100 --mac $HA_MAC --host hv2 >/dev/null || t_fail "port master ha"
n=$(counter refused.master_not_own_host)
peer hv2 vipd hv2 --role vipd --master "100,$HA_MAC,hv1" || t_fail "the vipd session was closed"
expect_up refused.master_not_own_host "$n"
t_assert_eq "$("${OV_CTL[@]}" port list --json | jq -r --arg m $HA_MAC '.[] | select(.mac == $m) | .master')" hv2 \
    "the HA port's master after vipd hv2 named hv1"
peer hv2 vipd hv2 --role vipd --master "100,$HA_MAC,hv2" || t_fail "vipd hv2 naming itself was closed"

# --- the fabric went on -------------------------------------------------------------------------------
hv1_untouched "everything"
t_assert_eq "$(counter refused.protocol_violation)" 0 "protocol violations (the attacks were well-formed)"
ov_ping vm1a "$(ov_vm_ip4 vm2a)" 3 || t_fail "vm1a cannot reach vm2a after the attacks"
ov_ping vm3a "$(ov_vm_ip6 vm1a)" 3 || t_fail "vm3a cannot reach vm1a over IPv6 after the attacks"
t_pass
