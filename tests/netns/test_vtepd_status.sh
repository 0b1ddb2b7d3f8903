#!/usr/bin/env bash
# test_vtepd_status.sh — vtepd's control socket, as `fabricctl agent` shows it, on the overlay
# lab (3 hypervisors, VNIs 100 and 200):
#  - `agent fdb --json` on hv1 holds exactly what hv1's kernel holds (bridge fdb show dev vx*,
#    ip neigh show nud all dev br*), and what fabricd wants hv1 to hold (`fabricctl fdb hv1`);
#    nothing is drift;
#  - entries of vtepd's replaced by hand with foreign ones (a remote on vx100 without
#    extern_learn, a permanent neighbour on br100 without proto 245: vtepd puts back what is
#    deleted, but never over someone else's entry) show as drift (wanted, not in the kernel),
#    and so do entries added by hand that look like vtepd's (in the kernel, not wanted);
#  - `agent status` shows the session up and counters that moved; its segments' devices;
#  - a request vtepd does not serve gets an error and the session goes on; an oversized frame,
#    a Hello of another role and a frame that is not protobuf close only their session;
#  - with fabricd gone, status says not connected and why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd jq bridge
[ -x "$T_PYTHON" ] || t_skip "no $T_PYTHON"
ov_build 3
ov_fabric_up

SOCK=$LAB_TMP/vtepd-hv1.sock
agent() { "$FABRICCTL" -s "$SOCK" agent "$@"; }
t_assert_wait 5 "hv1's vtepd control socket did not appear" test -S "$SOCK"

# hv1's VMs say something, so that its learner has local MACs to show.
ov_ping vm1a "$(ov_vm_ip4 vm2a)" 2 || t_fail "vm1a cannot reach vm2a"
ov_ping vm1b "$(ov_vm_ip4 vm2b)" 2 || t_fail "vm1b cannot reach vm2b"

no_drift() { [ "$(agent fdb --json | jq .drift)" = 0 ]; }
t_assert_wait 5 "hv1's agent reports drift after start: $(agent fdb 2>&1)" no_drift
FDB=$(agent fdb --json) || t_fail "fabricctl agent fdb --json"
WANT=$("${OV_CTL[@]}" fdb hv1 --json) || t_fail "fabricctl fdb hv1 --json"
q() { jq -r "$1" <<<"$FDB" | sort; }
w() { jq -r "$1" <<<"$WANT" | sort; }

for vni in 100 200; do
    # The agent's kernel view is the kernel: remotes and flood list of vx<vni>, neighbours.
    agent_fdb=$(q "(.fdb[] | select(.kernel and .vni == $vni) | \"\(.mac) \(.dst)\"),
                   (.flood[] | select(.kernel and .vni == $vni) | \"00:00:00:00:00:00 \(.dst)\")")
    [ -n "$agent_fdb" ] || t_fail "agent fdb shows nothing for vx$vni"
    t_assert_eq "$agent_fdb" "$(ov_fdb hv1 $vni)" "agent fdb vs hv1's bridge fdb show dev vx$vni"
    agent_neigh=$(q ".neigh[] | select(.kernel and .vni == $vni) | \"\(.ip) \(.mac)\"")
    [ -n "$agent_neigh" ] || t_fail "agent fdb shows no neighbour for br$vni"
    t_assert_eq "$agent_neigh" "$(ov_neigh hv1 $vni)" "agent neighbours vs hv1's ip neigh show dev br$vni"
    # The agent's mirror is fabricd's view of hv1.
    t_assert_eq "$(q ".fdb[] | select(.want and .vni == $vni) | \"\(.mac) \(.dst)\"")" \
        "$(w ".fdb[] | select(.vni == $vni and (.vteps | length) == 1 and (.ha_flood | not)) | \"\(.mac) \(.vteps[0])\"")" \
        "agent's wanted unicast entries vs fabricctl fdb hv1 (vni $vni)"
    t_assert_eq "$(q ".flood[] | select(.want and .vni == $vni) | .dst")" \
        "$(w ".flood[] | select(.vni == $vni) | .vteps[]")" "agent's wanted flood list vs fabricctl fdb hv1 (vni $vni)"
    t_assert_eq "$(q ".neigh[] | select(.want and .vni == $vni) | \"\(.ip) \(.mac)\"")" \
        "$(w ".fdb[] | select(.vni == $vni) | .mac as \$m | .ips[] | \"\(.) \(\$m)\"")" \
        "agent's wanted neighbours vs fabricctl fdb hv1 (vni $vni)"
done
t_assert_eq "$(q '[.fdb[], .flood[], .neigh[] | select(.kernel != .want)] | length')" 0 "entries in drift"
t_assert_eq "$(q '.local[] | select(.vni == 100) | .mac')" "$(ov_vm_mac vm1a)" "local MACs of VNI 100 on hv1"
agent fdb | grep -q "in sync: 0 entries" || t_fail "agent fdb (table) does not say in sync: $(agent fdb)"

# --- status ---
ST=$(agent status --json) || t_fail "fabricctl agent status --json"
s() { jq -r "$1" <<<"$ST"; }
t_assert_eq "$(s .id)" hv1 "status id"
t_assert_eq "$(s .vtep)" "$(ov_hv_ip4 hv1)" "status vtep"
t_assert_eq "$(s .fabricd.connected)" true "status: connected to fabricd"
t_assert_eq "$(s .fabricd.address)" "$OV_FABRICD_ADDR" "status: fabricd address"
[ "$(s .fabricd.sessions)" -ge 1 ] || t_fail "status: sessions $(s .fabricd.sessions)"
t_assert_ne "$(s .fabricd.since)" null "status: connected since"
t_assert_eq "$(s '[.segments[].vni] | sort | join(",")')" "100,200" "status: segments"
vx=$(lab_exec hv1 ip -j link show vx100 | jq '.[0].ifindex')
t_assert_eq "$(s '.segments[] | select(.vni == 100) | .vx_ifindex')" "$vx" "status: vx100's ifindex"
t_assert_eq "$(s '.segments[] | select(.vni == 100) | .flood | sort | join(",")')" \
    "$(ov_hv_ip4 hv2),$(ov_hv_ip4 hv3)" "status: flood list of VNI 100"
for c in updates_received full_tables kernel_requests kernel_done reports_sent learner.fdb_events learner.frames learner.macs reconcile.count; do
    [ "$(s ".counters.$c")" -gt 0 ] || t_fail "status: counter $c is $(s ".counters.$c"), want > 0"
done
t_assert_eq "$(s .counters.reconcile.result)" ok "status: last reconcile"
t_assert_eq "$(s .counters.kernel_refused)" 0 "status: kernel requests refused"
agent status | grep -q "connected since" || t_fail "agent status (table): $(agent status)"

# --- drift made by hand ---
# Each of vtepd's entries deleted and, in the same batch (long before vtepd's repair, 20 ms
# later), replaced by a foreign one that vtepd leaves alone.
mac=$(ov_vm_mac vm2a) dst=$(ov_hv_ip4 hv2) ip=$(ov_vm_ip4 vm3a) ipmac=$(ov_vm_mac vm3a)
printf 'fdb del %s dev vx100 dst %s self\nfdb add %s dev vx100 dst %s self\n' "$mac" "$dst" "$mac" "$dst" |
    lab_exec hv1 bridge -batch - || t_fail "bridge fdb del/add $mac"
printf 'neigh del %s dev br100\nneigh add %s lladdr 02:00:64:00:99:98 dev br100 nud permanent\n' "$ip" "$ip" |
    lab_exec hv1 ip -batch - || t_fail "ip neigh del/add $ip"
# ... and two that look like vtepd's (extern_learn, proto 245) that fabricd never asked for.
xmac=02:00:64:00:99:99 xdst=$(ov_hv_ip4 hv3) xip=198.19.100.99
lab_exec hv1 bridge fdb add "$xmac" dev vx100 dst "$xdst" self extern_learn || t_fail "bridge fdb add $xmac"
lab_exec hv1 ip neigh add "$xip" lladdr "$xmac" dev br100 nud noarp protocol 245 || t_fail "ip neigh add $xip"
# vtepd's repair has run (and found foreign entries in the way).
t_assert_wait 5 "vtepd's repairs did not run" \
    '[ "$(agent status --json | jq .counters.drift.conflicts)" -ge 2 ]'
FDB=$(agent fdb --json) || t_fail "fabricctl agent fdb --json after drift"
t_assert_eq "$(jq .drift <<<"$FDB")" 4 "drift count after replacing two of vtepd's entries and adding two"
t_assert_eq "$(q ".fdb[] | select(.kernel != .want) | \"\(.vni) \(.mac) \(.dst) kernel=\(.kernel) want=\(.want)\"")" \
    "$(printf '100 %s %s kernel=false want=true\n100 %s %s kernel=true want=false' "$mac" "$dst" "$xmac" "$xdst" | sort)" \
    "the deleted and the added FDB entries, as drift"
t_assert_eq "$(q ".neigh[] | select(.kernel != .want) | \"\(.vni) \(.ip) \(.mac) kernel=\(.kernel) want=\(.want)\"")" \
    "$(printf '100 %s %s kernel=false want=true\n100 %s %s kernel=true want=false' "$ip" "$ipmac" "$xip" "$xmac" | sort)" \
    "the deleted and the added neighbours, as drift"
t_assert_eq "$(q ".fdb[] | select(.kernel and .vni == 100) | \"\(.mac) \(.dst)\"")" \
    "$(lab_exec hv1 bridge fdb show dev vx100 | awk '/ self extern_learn/ && $1 != "00:00:00:00:00:00" { print $1, $3 }' | sort)" \
    "agent fdb vs hv1's vx100 (extern_learn) after the replace"
out=$(agent fdb)
grep -q "^100 .*$mac .*$dst .*MISSING$" <<<"$out" || t_fail "agent fdb (table) does not show $mac MISSING: $out"
grep -q "^100 .*$xmac .*$xdst .*EXTRA$" <<<"$out" || t_fail "agent fdb (table) does not show $xmac EXTRA: $out"
grep -q "^DRIFT: 4 entries" <<<"$out" || t_fail "agent fdb (table) does not say DRIFT: $out"

# --- bad requests ---
# proto/ctlsrv sessions, frames hand-encoded (u32 length + Envelope; Hello role FABRICCTL).
# A request vtepd does not serve (port_list, fabricd's) gets a clear error and the session
# goes on: an agent_status on it is answered. A frame over 64 KiB, a Hello of another role
# and a frame that is not an Envelope each close their session, and nothing else.
reply=$("$T_PYTHON" - "$SOCK" <<'EOF'
import socket, struct, sys
HELLO = bytes.fromhex("0a09080110021a0361746b")         # version 1, FABRICCTL, "atk"
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    return s
def read(s):
    n = b""
    while len(n) < 4:
        c = s.recv(4 - len(n))
        if not c: return None
        n += c
    (size,) = struct.unpack("!I", n)
    body = b""
    while len(body) < size:
        c = s.recv(size - len(body))
        if not c: return None
        body += c
    return body
def send(s, b): s.sendall(struct.pack("!I", len(b)) + b)
def closed(s):
    # vtepd says its Hello on accept, before it reads ours: skip it, then the session ends
    try:
        r = read(s)
        if r is not None and r[:1] == b"\x0a":
            r = read(s)
        return r is None
    except ConnectionResetError: return True
s = conn(); send(s, HELLO); read(s)
send(s, bytes.fromhex("2a021801"))                      # Request{port_list}
r = read(s)
print("error" if r and r[:1] == b"\x32" and b"vtepd answers agent status" in r else "no-error", r)
send(s, bytes.fromhex("2a024801"))                      # Request{agent_status}
r = read(s)
print("status" if r and b"hv1" in r and b"vtepd answers" not in r else "no-status")
s = conn(); send(s, HELLO); read(s)
s.sendall(struct.pack("!I", 1 << 30) + b"x" * 16)
print("oversized", "closed" if closed(s) else "answered")
s = conn(); send(s, bytes.fromhex("0a09080110011a0361746b"))   # a Hello of role VTEPD
print("wrong-role", "closed" if closed(s) else "answered")
s = conn(); send(s, b"status")
print("not-protobuf", "closed" if closed(s) else "answered")
EOF
) || t_fail "bad requests: $reply"
t_log "bad requests: $(head -1 <<<"$reply" | cut -c1-120)"
t_assert_eq "$(head -1 <<<"$reply" | cut -d' ' -f1)" error "a request vtepd does not serve: a clear error"
t_assert_eq "$(sed -n 2p <<<"$reply")" status "agent status on the session after the bad request"
t_assert_eq "$(sed -n 3,5p <<<"$reply" | paste -sd' ')" \
    "oversized closed wrong-role closed not-protobuf closed" "sessions closed for bad frames"
"$FABRICCTL" -s "$SOCK" agent bogus >/dev/null 2>&1 && t_fail "fabricctl agent bogus succeeded"
lab_alive "${OV_VTEPD_PID[hv1]}" || t_fail "vtepd on hv1 died after bad requests"
t_assert_eq "$(agent status --json | jq -r .id)" hv1 "status after bad requests"

# --- fabricd gone ---
lab_kill_pids "$OV_FABRICD_PID"
t_assert_wait 10 "status still says connected with fabricd gone" \
    '[ "$(agent status --json | jq .fabricd.connected)" = false ]'
t_assert_ne "$(agent status --json | jq -r .fabricd.last_error)" null "status: why the session ended"
t_log "with fabricd gone: $(agent status | sed -n 2p)"
t_pass
