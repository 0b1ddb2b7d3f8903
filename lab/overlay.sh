#!/usr/bin/env bash
# lab/overlay.sh — a VXLAN overlay lab in namespaces: the topology fabricd + vtepd run on.
#
#                         u (bridge ubr: STP, multicast snooping, br_netfilter off)
#          /              |                |                    \
#   fm:eth0         hv1:eth0         hv2:eth0      ...     hvN:eth0      (underlay, veth; the
#   198.18.0.2      198.18.0.11      198.18.0.12           198.18.0.(10+N)  bridge side is named
#   fabricd:7301    2001:db8:18::11  2001:db8:18::12                        after the peer)
#                   br100  br200     br100  br200          (bridges, STP / snooping off; NO
#                     |      |         |      |             vxlan devices: vtepd creates vx100 /
#                   vm1a   vm1b      vm2a   vm2b            vx200 and enslaves them)
#
#   VM vm<i>a (VNI 100): 198.19.100.(10+i)/24  2001:db8:100::(10+i)/64  MAC 02:00:64:00:0i:0a
#   VM vm<i>b (VNI 200): 198.19.200.(10+i)/24  2001:db8:200::(10+i)/64  MAC 02:00:c8:00:0i:0b
#   (i in hex in the MAC; the same host part in both segments on purpose: a frame leaking from
#   one segment to the other reaches a VM with the "same" address.)
#   Each VM is a namespace with eth0 (MTU 1450: room for the 50 bytes of VXLAN over IPv4; an
#   IPv6 underlay needs 70) whose hypervisor end, named after the VM, is a port of br<VNI>.
#   Each VM also has an on-link route for the OTHER segment's prefixes (IPv4 and IPv6), so a
#   ping across segments goes out as ARP / NS on the VM's own segment: only a leak answers it.
#   Hypervisor-side bridges and VM ports have IPv6 addrgenmode none: no link-local address,
#   so the hypervisors add no RS / MLD / NS noise of their own to the overlay (their neighbour
#   tables still accept IPv6 entries: `ip -6 neigh replace ... dev br100` works).
#   Underlay MACs: hv<i> 02:00:00:00:00:(10+i) (decimal digits, as lab/segment.sh), fm
#   02:00:00:00:00:02. fm also has 2001:db8:18::2/64.
#   The hypervisors' bridges have no fixed MAC, on purpose, as a user's `ip link add BR type
#   bridge`: the kernel gives a bridge its lowest port's MAC, so a port that joins or leaves
#   (a VM migrating in with ov_migrate, vtepd enslaving vx<VNI>) can change it, and the kernel
#   then flushes the bridge's neighbours, vtepd's suppression entries among them. vtepd puts
#   them back (docs/vtepd.md, Drift repair) and warns about such bridges; the lab keeps the
#   user's case so that the repair is exercised (tests/netns/test_vtepd_drift.sh changes the
#   MAC on purpose, with a port whose MAC is lower than any random one).
#
# Sourced:    . lab/overlay.sh; ov_build 3
#   ov_build [N]              build the lab with N hypervisors (default 3)
#   ov_hvs / ov_vms           the hypervisor / VM names, one a line
#   ov_hv_ip4 HV / ov_hv_ip6 HV / ov_hv_mac HV     underlay address of a hypervisor
#   ov_vm_mac VM / ov_vm_ip4 VM / ov_vm_ip6 VM / ov_vm_vni VM
#   ov_vm_host VM             the hypervisor the VM is on now (follows ov_migrate)
#   ov_vm_peers VM            the other VMs of its segment, one a line
#   ov_migrate VM HV          live-migrate: move the hypervisor-side veth to HV, enslave it
#                             to br<VNI> there, bring it up, then the VM sends a gratuitous
#                             ARP and an unsolicited NA. Call it directly, not in $(...): it
#                             records the new host in this shell.
#   ov_announce VM            just the GARP + unsolicited NA of a VM
#   ov_add_router R HV        a router namespace R (r1, r2...) on segment 100 of HV: eth0
#                             (MTU 1450) with MAC 02:00:64:00:0e:0<n>, 198.19.100.(200+n)/24,
#                             2001:db8:100::(200+n)/64 and a link-local address, forwarding on
#                             (both families); its hypervisor end, named R, is a port of br100.
#                             The instances of an HA router port (vipd, virtual_mac).
#   ov_cut_host HV / ov_restore_host HV   underlay link of HV down / up (bridge side, in u)
#   ov_vxlan_static [VNI...]  plain flooding without a control plane: in every hypervisor,
#                             vx<VNI> (nolearning, dstport 4789, local = its underlay IPv4)
#                             in br<VNI>, with a flood entry (00:00:00:00:00:00) to every
#                             other hypervisor. Default VNIs: 100 200. For tests and baselines.
#   ov_pki                    a test CA and certificates (scripts/certs.sh) in $LAB_TMP/pki:
#                             fabricd fm (198.18.0.2, 2001:db8:18::2), vtepd and vipd for every
#                             hypervisor (its underlay addresses as IP SANs), fabricctl admin.
#                             Then ov_tls ROLE ID prints "--ca F --cert F --key F" for it and
#                             OV_PKI is the directory. Idempotent.
#   (namespace names: "$(lab_ns hv1)"; run commands with lab_exec hv1 CMD...)
# Standalone: lab/overlay.sh [N] [--static] [--hold SECONDS]
#   builds N hypervisors (default 3), checks the underlay (fm and every hypervisor reach each
#   other) and the VMs' links; with --static also builds plain flooding (ov_vxlan_static) and
#   checks every VM reaches its segment peers; prints the namespaces, optionally keeps them
#   for SECONDS, removes them.

[ -n "${OV_LIB_SOURCED:-}" ] && [ "${BASH_SOURCE[0]}" != "$0" ] && return 0
OV_LIB_SOURCED=1

OV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab/lib.sh
. "$OV_DIR/lib.sh"

OV_NHV=0
OV_NET4=198.18.0
OV_NET6=2001:db8:18:
OV_FM4=198.18.0.2
OV_FM6=2001:db8:18::2
OV_FM_MAC=02:00:00:00:00:02
# shellcheck disable=SC2034
OV_FM_PORT=7301   # fabricd's TCP port in fm (for the tests' configs)
OV_VNIS=(100 200)
OV_VM_MTU=1450
OV_PYTHON=/usr/bin/python3   # scapy is a Debian package: the system interpreter
declare -A OV_HOST=()

ov_hv_num() { local h=${1#hv}; [[ $h =~ ^[0-9]+$ ]] || lab_die "not a hypervisor: '$1'"; printf '%d\n' "$h"; }
ov_hv_ip4() { printf '%s.%d\n' "$OV_NET4" $((10 + $(ov_hv_num "$1"))); }
ov_hv_ip6() { printf '%s:%d\n' "$OV_NET6" $((10 + $(ov_hv_num "$1"))); }
ov_hv_mac() { printf '02:00:00:00:00:%02d\n' $((10 + $(ov_hv_num "$1"))); }

ov_hvs() { local i; for ((i = 1; i <= OV_NHV; i++)); do echo "hv$i"; done; }
ov_vms() { local i; for ((i = 1; i <= OV_NHV; i++)); do echo "vm${i}a"; echo "vm${i}b"; done; }

# VM names: vm<i>a (VNI 100) / vm<i>b (VNI 200).
ov_vm_parse() {   # sets _ovi (number) and _ovs (a|b)
    [[ $1 =~ ^vm([0-9]+)([ab])$ ]] || lab_die "not a VM: '$1'"
    _ovi=$((10#${BASH_REMATCH[1]})) _ovs=${BASH_REMATCH[2]}
}
ov_vm_vni() { local _ovi _ovs; ov_vm_parse "$1"; [ "$_ovs" = a ] && echo 100 || echo 200; }
ov_vm_mac() {
    local _ovi _ovs; ov_vm_parse "$1"
    if [ "$_ovs" = a ]; then printf '02:00:64:00:%02x:0a\n' "$_ovi"; else printf '02:00:c8:00:%02x:0b\n' "$_ovi"; fi
}
ov_vm_ip4() { local _ovi _ovs; ov_vm_parse "$1"; printf '198.19.%d.%d\n' "$(ov_vm_vni "$1")" $((10 + _ovi)); }
ov_vm_ip6() { local _ovi _ovs; ov_vm_parse "$1"; printf '2001:db8:%d::%d\n' "$(ov_vm_vni "$1")" $((10 + _ovi)); }
ov_vm_host() {
    local _ovi _ovs; ov_vm_parse "$1"
    printf '%s\n' "${OV_HOST[$1]:-hv$_ovi}"
}
ov_vm_peers() {
    local vm vni; vni=$(ov_vm_vni "$1")
    for vm in $(ov_vms); do
        [ "$vm" != "$1" ] && [ "$(ov_vm_vni "$vm")" = "$vni" ] && echo "$vm"
    done
    return 0
}

# No bridged traffic through netfilter in NS (br_netfilter is per namespace since 5.3).
ov_no_brnf() {
    lab_exec "$1" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
        net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
}

ov_attach_underlay() {   # NAME MAC IP4/LEN IP6/LEN
    local name=$1 mac=$2 ip4=$3 ip6=$4
    lab_ns_add "$name"
    lab_veth u "$name" "$name" eth0
    lab_bridge_port u ubr "$name"
    lab_exec "$name" ip link set eth0 address "$mac"
    lab_exec "$name" ip addr add "$ip4" dev eth0
    lab_exec "$name" ip -6 addr add "$ip6" dev eth0 nodad
    lab_exec "$name" ip link set eth0 up
}

ov_add_vm() {   # VM HV
    local vm=$1 hv=$2 vni other
    vni=$(ov_vm_vni "$vm")
    other=$([ "$vni" = 100 ] && echo 200 || echo 100)
    lab_ns_add "$vm"
    lab_veth "$hv" "$vm" "$vm" eth0
    lab_exec "$hv" ip link set "$vm" addrgenmode none
    lab_bridge_port "$hv" "br$vni" "$vm"
    lab_exec "$vm" ip link set eth0 address "$(ov_vm_mac "$vm")" mtu "$OV_VM_MTU"
    lab_exec "$vm" ip addr add "$(ov_vm_ip4 "$vm")/24" dev eth0
    lab_exec "$vm" ip -6 addr add "$(ov_vm_ip6 "$vm")/64" dev eth0 nodad
    lab_exec "$vm" ip link set eth0 up
    lab_exec "$vm" ip route add "198.19.$other.0/24" dev eth0
    lab_exec "$vm" ip -6 route add "2001:db8:$other::/64" dev eth0
    OV_HOST[$vm]=$hv
}

ov_router_num() { local n=${1#r}; [[ $n =~ ^[0-9]$ ]] || lab_die "not a router: '$1'"; echo "$n"; }
ov_router_mac() { printf '02:00:64:00:0e:%02x\n' "$(ov_router_num "$1")"; }
ov_router_ip4() { printf '198.19.100.%d\n' $((200 + $(ov_router_num "$1"))); }
ov_router_ip6() { printf '2001:db8:100::%d\n' $((200 + $(ov_router_num "$1"))); }

ov_add_router() {   # R HV
    local r=$1 hv=$2
    ov_router_num "$r" >/dev/null
    lab_ns_add "$r"
    lab_veth "$hv" "$r" "$r" eth0
    lab_exec "$hv" ip link set "$r" addrgenmode none
    lab_bridge_port "$hv" br100 "$r"
    lab_exec "$r" ip link set eth0 address "$(ov_router_mac "$r")" mtu "$OV_VM_MTU"
    lab_exec "$r" ip addr add "$(ov_router_ip4 "$r")/24" dev eth0
    lab_exec "$r" ip -6 addr add "$(ov_router_ip6 "$r")/64" dev eth0 nodad
    lab_exec "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
    lab_exec "$r" ip link set eth0 up
    OV_HOST[$r]=$hv
}

ov_build() {
    local n=${1:-3} i hv vni vm
    { [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 50 ]; } || lab_die "ov_build: 1..50 hypervisors, not '$n'"
    lab_require_root
    lab_ns_add u
    lab_exec u sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ov_no_brnf u
    lab_bridge u ubr
    ov_attach_underlay fm "$OV_FM_MAC" "$OV_FM4/24" "$OV_FM6/64"
    for ((i = 1; i <= n; i++)); do
        hv=hv$i
        ov_attach_underlay "$hv" "$(ov_hv_mac $hv)" "$(ov_hv_ip4 $hv)/24" "$(ov_hv_ip6 $hv)/64"
        ov_no_brnf "$hv"
        for vni in "${OV_VNIS[@]}"; do
            lab_exec "$hv" ip link add name "br$vni" type bridge stp_state 0 forward_delay 0 \
                mcast_snooping 0 || lab_die "cannot create br$vni in $hv"
            lab_exec "$hv" ip link set "br$vni" addrgenmode none
            lab_exec "$hv" ip link set "br$vni" up
        done
        ov_add_vm "vm${i}a" "$hv"
        ov_add_vm "vm${i}b" "$hv"
    done
    OV_NHV=$n
    lab_wait_for 5 ov_link_up fm eth0 || lab_die "fm: eth0 not up"
    for ((i = 1; i <= n; i++)); do
        lab_wait_for 5 ov_link_up "hv$i" eth0 || lab_die "hv$i: eth0 not up"
        lab_wait_for 5 ov_link_up "vm${i}a" eth0 || lab_die "vm${i}a: eth0 not up"
        lab_wait_for 5 ov_link_up "vm${i}b" eth0 || lab_die "vm${i}b: eth0 not up"
    done
}

ov_link_up() { lab_exec "$1" ip link show "$2" 2>/dev/null | grep -q 'state UP'; }

OV_PKI=
ov_pki() {
    local hv certs=$OV_DIR/../scripts/certs.sh
    [ -n "$OV_PKI" ] && [ -f "$OV_PKI/ca.pem" ] && return 0
    lab_tmpdir
    OV_PKI=$LAB_TMP/pki
    bash "$certs" "$OV_PKI" ca >/dev/null || lab_die "ov_pki: cannot make the CA"
    bash "$certs" "$OV_PKI" issue fabricd fm "$OV_FM4" "$OV_FM6" >/dev/null || lab_die "ov_pki: fabricd"
    bash "$certs" "$OV_PKI" issue fabricctl admin >/dev/null || lab_die "ov_pki: fabricctl"
    for hv in $(ov_hvs); do
        bash "$certs" "$OV_PKI" issue vtepd "$hv" "$(ov_hv_ip4 "$hv")" "$(ov_hv_ip6 "$hv")" >/dev/null &&
            bash "$certs" "$OV_PKI" issue vipd "$hv" >/dev/null || lab_die "ov_pki: $hv"
    done
}

ov_tls() { printf -- '--ca %s --cert %s --key %s\n' "$OV_PKI/ca.pem" "$OV_PKI/$1-$2.pem" "$OV_PKI/$1-$2.key"; }

# ov_announce VM — what a hypervisor's VM does after a live migration (QEMU sends RARPs; a
# guest's own stack sends GARP / unsolicited NA on link up): a gratuitous ARP request
# (sender IP = target IP = own, broadcast) with Habets' arping 2.x (-U), and an unsolicited
# Neighbor Advertisement (O=1, S=0, to ff02::1, target link-layer option) crafted with scapy:
# ndisc6 cannot send one and the kernel sends none on carrier up.
ov_announce() {
    local vm=$1 ip4 ip6 mac
    ip4=$(ov_vm_ip4 "$vm") ip6=$(ov_vm_ip6 "$vm") mac=$(ov_vm_mac "$vm")
    if command -v arping >/dev/null 2>&1; then
        # An unsolicited ARP gets no reply: arping's status says nothing here (and must
        # not stop a caller running under set -e).
        lab_exec "$vm" arping -q -U -c 1 -w 0.1 -i eth0 -S "$ip4" "$ip4" >/dev/null 2>&1 || :
    fi
    # shellcheck disable=SC2016
    lab_exec "$vm" "$OV_PYTHON" -c '
import sys
from scapy.layers.l2 import Ether, ARP
from scapy.layers.inet6 import IPv6, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr
from scapy.sendrecv import sendp
mac, ip4, ip6, garp = sys.argv[1:5]
pkts = []
if garp == "1":
    pkts.append(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
                ARP(op=1, hwsrc=mac, psrc=ip4, hwdst="00:00:00:00:00:00", pdst=ip4))
pkts.append(Ether(src=mac, dst="33:33:00:00:00:01") /
            IPv6(src=ip6, dst="ff02::1", hlim=255) /
            ICMPv6ND_NA(tgt=ip6, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=mac))
sendp(pkts, iface="eth0", verbose=False)
' "$mac" "$ip4" "$ip6" "$(command -v arping >/dev/null 2>&1 && echo 0 || echo 1)" ||
        lab_log "ov_announce $vm: scapy could not send the unsolicited NA"
}

# ov_migrate VM HV — call directly (not in $(...)).
ov_migrate() {
    local vm=$1 to=$2 from vni
    from=$(ov_vm_host "$vm") vni=$(ov_vm_vni "$vm")
    ov_hv_num "$to" >/dev/null
    [ "$from" != "$to" ] || { lab_log "ov_migrate: $vm is already on $to"; return 0; }
    lab_exec "$from" ip link set "$vm" netns "$(lab_ns "$to")" ||
        lab_die "ov_migrate: cannot move $vm from $from to $to"
    lab_exec "$to" ip link set "$vm" addrgenmode none
    lab_bridge_port "$to" "br$vni" "$vm"
    OV_HOST[$vm]=$to
    lab_wait_for 5 ov_link_up "$vm" eth0 || lab_die "ov_migrate: $vm eth0 not up on $to"
    ov_announce "$vm"
}

ov_cut_host() { lab_exec u ip link set "$1" down; }
ov_restore_host() { lab_exec u ip link set "$1" up; }

# shellcheck disable=SC2120  # VNIs are optional
ov_vxlan_static() {
    local vnis=("$@") hv other vni
    [ ${#vnis[@]} -gt 0 ] || vnis=("${OV_VNIS[@]}")
    for hv in $(ov_hvs); do
        for vni in "${vnis[@]}"; do
            lab_exec "$hv" ip link add "vx$vni" type vxlan id "$vni" local "$(ov_hv_ip4 "$hv")" \
                dstport 4789 nolearning dev eth0 || lab_die "cannot create vx$vni in $hv"
            lab_exec "$hv" ip link set "vx$vni" addrgenmode none
            lab_bridge_port "$hv" "br$vni" "vx$vni"
            for other in $(ov_hvs); do
                [ "$other" = "$hv" ] && continue
                lab_exec "$hv" bridge fdb append 00:00:00:00:00:00 dev "vx$vni" \
                    dst "$(ov_hv_ip4 "$other")" ||
                    lab_die "cannot add the flood entry to $other on $hv vx$vni"
            done
        done
    done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -u
    hvs=3 hold=0 static=0
    while [ $# -gt 0 ]; do
        case $1 in
            --hold) hold=${2:?--hold SECONDS}; shift 2 ;;
            --static) static=1; shift ;;
            [0-9]*) hvs=$1; shift ;;
            *) echo "usage: $0 [N] [--static] [--hold SECONDS]" >&2; exit 2 ;;
        esac
    done
    ov_build "$hvs"
    rc=0
    for hv in $(ov_hvs); do
        for addr in "$(ov_hv_ip4 "$hv")" "$(ov_hv_ip6 "$hv")"; do
            if lab_exec fm ping -q -c 1 -W 1 "$addr" >/dev/null; then
                echo "fm -> $hv $addr ok"
            else
                echo "fm -> $hv $addr FAILED"; rc=1
            fi
        done
    done
    for vm in $(ov_vms); do
        mtu=$(lab_exec "$vm" cat /sys/class/net/eth0/mtu)
        master=$(lab_exec "$(ov_vm_host "$vm")" ip -o link show "$vm" | sed -n 's/.* master \([^ ]*\).*/\1/p')
        if [ "$mtu" = "$OV_VM_MTU" ] && [ "$master" = "br$(ov_vm_vni "$vm")" ]; then
            echo "$vm on $(ov_vm_host "$vm") $master mtu $mtu ok"
        else
            echo "$vm on $(ov_vm_host "$vm"): master '$master' mtu $mtu FAILED"; rc=1
        fi
    done
    if [ $static -eq 1 ]; then
        ov_vxlan_static
        for vm in $(ov_vms); do
            for peer in $(ov_vm_peers "$vm"); do
                if lab_exec "$vm" ping -q -c 1 -W 2 "$(ov_vm_ip4 "$peer")" >/dev/null; then
                    echo "$vm -> $peer ok"
                else
                    echo "$vm -> $peer FAILED"; rc=1
                fi
            done
        done
    fi
    lab_standalone_end "$rc" "$hold"
fi
