#!/usr/bin/env bash
# test_vtepd_learn.sh — vtepd's local learning (vtepd/learn.c) through tests/tools/learntool:
# a hypervisor namespace with bridge br100, two VMs on veth ports and a VXLAN port vx100
# (nolearning, bridge port learning off) whose underlay peer can inject encapsulated frames.
# The VMs' MACs are reported as local with the addresses their ARP, NS and unsolicited NA
# claim; a MAC that arrives over the overlay (an encapsulated GARP, an FDB entry on vx100) and
# the bridge's own MACs never are; malformed ARP/ND frames are counted, not learnt from; a MAC
# that moves to vx100, and one whose port goes, are reported gone; after notifications were
# lost, a resync leaves exactly what the bridge holds.
LAB_PREFIX=${LAB_PREFIX:-l2fl-$$-}
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd ip bridge arping ping

LEARNTOOL=${L2F_LEARNTOOL:-$T_BUILD/tests/tools/learntool}
[ -z "${L2F_BUILD_FAILED:-}" ] || t_skip "the build failed; not testing a stale learntool"
[ -x "$LEARNTOOL" ] || t_skip "$LEARNTOOL not built"
[ -x "$T_PYTHON" ] && "$T_PYTHON" -c 'import scapy' 2>/dev/null || t_skip "python3-scapy missing"

lab_tmpdir
OUT=$LAB_TMP/learntool.log
FOREIGN1=02:00:00:00:99:01   # inside an encapsulated GARP from the remote VTEP
FOREIGN2=02:00:00:00:99:02   # an FDB entry on vx100
MAC1=02:00:00:00:64:11 MAC2=02:00:00:00:64:12

# hv: br100 with p1 (vm1), p2 (vm2) and vx100 over the underlay u0 <-> ul:eth0.
lab_ns_add hv
lab_ns_add vm1
lab_ns_add vm2
lab_ns_add ul
lab_bridge hv br100
lab_veth hv u0 ul eth0
lab_exec hv ip link set u0 up
lab_exec hv ip addr add 198.18.1.1/24 dev u0
lab_exec ul ip link set eth0 up
lab_exec ul ip addr add 198.18.1.2/24 dev eth0
lab_exec hv ip link add vx100 type vxlan id 100 dstport 4789 nolearning local 198.18.1.1 dev u0 ||
    t_fail "cannot create vx100"
lab_bridge_port hv br100 vx100
lab_exec hv bridge link set dev vx100 learning off
for i in 1 2; do
    lab_veth "vm$i" eth0 hv "p$i"
    mac=MAC$i
    lab_exec "vm$i" ip link set eth0 address "${!mac}"
    lab_exec "vm$i" ip link set eth0 up
    lab_exec "vm$i" ip addr add "198.18.100.1$i/24" dev eth0
    lab_exec "vm$i" ip addr add "2001:db8:100::1$i/64" dev eth0 nodad
    lab_bridge_port hv br100 "p$i"
done

lab_bg hv "$OUT" "$LEARNTOOL" 100:br100 --seconds 60
LT_PID=$LAB_LAST_PID
t_assert_wait 5 "learntool did not start" grep -qx ready "$OUT"

# The last `changed` line for a MAC: its address list now.
ips_of() { sed -n "s/^changed 100 $1 //p" "$OUT" | tail -n 1; }
has_ip() { case ",$(ips_of "$1")," in *",$2,"*) return 0 ;; esac; return 1; }
gone() { grep -qx "gone 100 $1" "$OUT"; }

# scapy in a namespace: python code with `iface` and `me` (its MAC) defined.
scapy_in() {
    local ns=$1; shift
    lab_exec "$ns" "$T_PYTHON" - "$@" <<EOF || t_fail "scapy could not send from $ns"
from scapy.all import *
conf.verb = 0
iface = "eth0"
me = get_if_hwaddr(iface)
$(cat)
EOF
}

# 1. IPv4 from ARP: vm1 asks for vm2.
lab_exec vm1 arping -c 1 -w 1 -i eth0 198.18.100.12 >/dev/null 2>&1
t_assert_wait 5 "vm1's ARP did not teach 198.18.100.11 ($(ips_of $MAC1))" has_ip $MAC1 198.18.100.11

# 2. IPv6 from the Neighbor Solicitation a ping triggers (the source is vm1's global address).
lab_exec vm1 ping -6 -q -c 1 -W 2 2001:db8:100::12 >/dev/null || t_fail "vm1 cannot ping vm2"
t_assert_wait 5 "vm1's NS did not teach 2001:db8:100::11 ($(ips_of $MAC1))" \
    has_ip $MAC1 2001:db8:100::11
t_assert_eq "$(ips_of $MAC1)" "2001:db8:100::11,198.18.100.11" "vm1's addresses, most recent first"

# 3. An unsolicited NA with a target link-layer address option (as after a failover).
scapy_in vm2 <<'EOF'
sendp(Ether(src=me, dst="33:33:00:00:00:01") /
      IPv6(src="2001:db8:100::12", dst="ff02::1", hlim=255) /
      ICMPv6ND_NA(tgt="2001:db8:100::99", R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=me),
      iface=iface)
EOF
t_assert_wait 5 "vm2's unsolicited NA did not teach 2001:db8:100::99 ($(ips_of $MAC2))" \
    has_ip $MAC2 2001:db8:100::99

# 4. Overlay MACs are not local: a GARP encapsulated by the remote VTEP (vx100 does not learn,
# so only its frame reaches the bridge) and an FDB entry on vx100.
scapy_in ul <<EOF
inner = (Ether(src="$FOREIGN1", dst="ff:ff:ff:ff:ff:ff") /
         ARP(op=1, hwsrc="$FOREIGN1", psrc="198.18.100.99", pdst="198.18.100.99"))
sendp(Ether(src=me, dst="$(lab_exec hv cat /sys/class/net/u0/address)") /
      IP(src="198.18.1.2", dst="198.18.1.1") / UDP(sport=49152, dport=4789) /
      VXLAN(vni=100, flags=0x08) / inner, iface=iface)
EOF
lab_exec hv bridge fdb add $FOREIGN2 dev vx100 master static || t_fail "cannot add an FDB entry on vx100"
# 5. Malformed frames from a local MAC: a truncated ARP, an NS with a bad checksum, an NA
# with hop limit 64. Counted, not learnt from.
scapy_in vm1 <<'EOF'
sendp(Ether(src=me, dst="ff:ff:ff:ff:ff:ff", type=0x0806) / Raw(b"\x00\x01\x08\x00\x06"),
      iface=iface)
sendp(Ether(src=me, dst="33:33:ff:00:00:12") /
      IPv6(src="2001:db8:100::77", dst="ff02::1:ff00:12", hlim=255) /
      ICMPv6ND_NS(tgt="2001:db8:100::12", cksum=0x1234), iface=iface)
sendp(Ether(src=me, dst="33:33:00:00:00:01") /
      IPv6(src="2001:db8:100::78", dst="ff02::1", hlim=64) /
      ICMPv6ND_NA(tgt="2001:db8:100::78", S=0) / ICMPv6NDOptDstLLAddr(lladdr=me), iface=iface)
EOF
# A well-formed frame after them: once it is learnt, everything before it was read.
lab_exec vm2 arping -c 1 -w 1 -i eth0 198.18.100.11 >/dev/null 2>&1
t_assert_wait 5 "vm2's ARP did not teach 198.18.100.12 ($(ips_of $MAC2))" has_ip $MAC2 198.18.100.12
grep -q "$FOREIGN1" "$OUT" && t_fail "the encapsulated GARP's MAC was reported: $(grep "$FOREIGN1" "$OUT")"
grep -q "$FOREIGN2" "$OUT" && t_fail "the FDB entry on vx100 was reported: $(grep "$FOREIGN2" "$OUT")"
for ip in 198.18.100.99 2001:db8:100::77 2001:db8:100::78; do
    grep -q "[ ,]$ip\(,\|$\)" "$OUT" && t_fail "$ip was learnt from a frame that should be ignored"
done
others=$(awk '$1 == "changed" && $3 != m1 && $3 != m2' m1=$MAC1 m2=$MAC2 "$OUT")
t_assert_eq "$others" "" "MACs reported other than the VMs' (the bridge's own, overlay ones)"

# 6. A MAC whose very first frame is a GARP: the bridge learns it from that frame, and its
# address is learnt from the same frame (the FDB notification is read first).
MAC3=02:00:00:00:64:13
scapy_in vm2 <<EOF
sendp(Ether(src="$MAC3", dst="ff:ff:ff:ff:ff:ff") /
      ARP(op=1, hwsrc="$MAC3", psrc="198.18.100.13", pdst="198.18.100.13"), iface=iface)
EOF
t_assert_wait 5 "a new MAC's first GARP did not teach 198.18.100.13 ($(ips_of $MAC3))" \
    has_ip $MAC3 198.18.100.13

# 7. Notifications lost: with learntool stopped, N entries are added on p1 and the first half
# deleted again, more than its monitor socket holds (ENOBUFS). Once it runs again, the resync
# dump must leave it holding exactly the entries the bridge has.
N=8000
fdbmac() { printf '02:10:00:00:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }
for ((i = 0; i < N; i++)); do
    printf 'fdb add %s dev p1 master static\n' "$(fdbmac $i)"
done >"$LAB_TMP/add.batch"
for ((i = 0; i < N / 2; i++)); do
    printf 'fdb del %s dev p1 master\n' "$(fdbmac $i)"
done >"$LAB_TMP/del.batch"
kill -STOP "$LT_PID"
lab_exec hv bridge -batch "$LAB_TMP/add.batch" && lab_exec hv bridge -batch "$LAB_TMP/del.batch"
rc=$?
kill -CONT "$LT_PID"
[ $rc -eq 0 ] || t_fail "bridge -batch failed"
# How many 02:10:... MACs learntool holds (last event `changed`), all or below index N/2.
held() {
    awk -v lim="${1:-}" '$3 ~ /^02:10:/ { live[$3] = ($1 == "changed") }
        END { for (m in live) if (live[m] && (lim == "" || m < lim)) n++; print n + 0 }' "$OUT"
}
t_assert_wait 10 "learntool does not hold the $((N / 2)) entries left on p1 ($(held))" \
    '[ "$(held)" -eq $((N / 2)) ]'
t_assert_eq "$(held "$(fdbmac $((N / 2)))")" 0 "deleted entries learntool still holds"
if grep -q 'notifications lost' "$OUT"; then
    t_log "the monitor overflowed and learntool resynced"
else
    t_log "the monitor did not overflow this time: the resync path was not exercised"
fi

# 8. vm2's MAC moves to the VXLAN port: not local any more.
lab_exec hv bridge fdb replace $MAC2 dev vx100 master static || t_fail "cannot move $MAC2 to vx100"
t_assert_wait 5 "$MAC2 on vx100 was not reported gone" gone $MAC2

# 9. vm1's port goes (its veth deleted): the bridge flushes its entries.
lab_exec vm1 ip link del eth0
t_assert_wait 5 "$MAC1 was not reported gone after its port went" gone $MAC1
t_assert_wait 10 "entries on vm1's port still held after it went ($(held))" '[ "$(held)" -eq 0 ]'

# The counters, printed when learntool stops.
kill -TERM "$LT_PID"
t_assert_wait 5 "learntool did not stop on SIGTERM" t_exited "$LT_PID"
wait "$LT_PID" || t_fail "learntool exited with status $?"
stats=$(grep '^stats ' "$OUT")
counter() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$stats"; }
t_log "$stats"
t_assert_eq "$(counter dropped)" 3 "malformed frames counted"
t_assert_eq "$(counter truncated)" 1 "truncated ARP counted"
t_assert_eq "$(counter icmp6_checksum)" 1 "NS with a bad checksum counted"
t_assert_eq "$(counter ttl)" 1 "NA with hop limit 64 counted"
[ "$(counter foreign)" -ge 1 ] || t_fail "the encapsulated GARP was not seen as foreign ($stats)"
t_pass
