#!/usr/bin/env bash
# shellcheck disable=SC2119,SC2120  # ft_switches' level argument is optional
# lab/fattree.sh — a k-ary fat tree in namespaces: the topology switchd (PortLand) runs on.
#
#   core        c0        c1        c2        c3             (k=4 drawn; (k/2)^2 cores)
#   agg      a0-0  a0-1  a1-0  a1-1  ...  a3-0  a3-1         (k pods of k/2 agg + k/2 edge)
#   edge     e0-0  e0-1  e1-0  e1-1  ...  e3-0  e3-1
#   hosts    h0-0-0 h0-0-1 h0-1-0 ...                        (k/2 per edge: k^3/4 hosts)
#
#   plus, apart from all of that: ctl (bridge br0) <- ctl0 of every switch, and fm:eth0
#   (fabricd's namespace). No link joins the control network to the fabric or the hosts.
#
# Names (after the run's prefix, see lab/lib.sh), h = k/2:
#   e<p>-<i>      edge i (0..h-1) of pod p (0..k-1)          PortLand level 0
#   a<p>-<j>      aggregation j (0..h-1) of pod p            level 1
#   c<n>          core n (0..h^2-1)                          level 2
#   h<p>-<i>-<x>  host x (0..h-1) under edge e<p>-<i>
#   fm            fabricd's namespace;  ctl  the control network's bridge
# Wiring (every switch has ports p0..p(k-1), veths, plus ctl0 on the control network):
#   edge e<p>-<i> port p<x>     <-> h<p>-<i>-<x> eth0        (x < h: host ports)
#   edge e<p>-<i> port p<h+j>   <-> agg a<p>-<j> port p<i>   (up ports)
#   agg  a<p>-<j> port p<h+m>   <-> core c<j*h+m> port p<p>  (so core n's port p goes to
#                                                              a<p>-<n/h> port p<h+n%h>)
#   The switches' port numbers are the standard fat tree's; nothing in a switch says which
#   level it is at (that is for LDP to find out).
# Addresses and MACs (hex bytes in MACs; all locally administered unicast):
#   host h<p>-<i>-<x>  eth0 MAC 02:00:0f:PP:II:XX, 198.18.p.(10*(i+1)+x)/16 and
#                      2001:db8:f::p:(10*(i+1)+x)/64 (the same decimal digits in the last
#                      group: h1-2-3 = 198.18.1.33 = 2001:db8:f::1:33; pod 0 is written
#                      2001:db8:f::11, its canonical form). Nothing else: no route, no
#                      gateway, kernel defaults (IPv6 link-local with DAD); only the global
#                      IPv6 address skips DAD. A host does not know it is in a tree.
#   switch port p<n>   MAC 02:fa:LL:PP:II:NN (LL level 00 edge / 01 agg / 02 core, PP pod
#                      (00 for cores), II position i / j or core number n, NN port), so the
#                      switch_id, the lowest of its MACs, is p0's: 02:fa:LL:PP:II:00.
#   switch ctl0        MAC 02:fc:LL:PP:II:00, 203.0.113.(10+s)/24, s the switch's number:
#                      edges 0..k^2/2-1 (p*h+i), aggs k^2/2.. (k^2/2+p*h+j), cores k^2.. (k^2+n).
#                      k=8: 80 switches, .10-.89; the /24 holds k <= 14 (245 switches).
#   fm eth0            MAC 02:fc:ff:00:00:01, 203.0.113.1/24 (tests run fabricd there, on TCP
#                      port FT_FM_PORT=7301, with ft_start fm fabricd ...).
#   every veth end     an ifindex unique across the tree (100 up, in creation order), so a
#                      peer's ifindex names one interface whatever the namespace
#   ctl                bridge br0 (MAC 02:fc:fe:00:00:00, STP and snooping off); its port to a
#                      switch is named after the switch (MAC 02:fd:LL:PP:II:00), to fm "fm".
#   IPv6 is off (net.ipv6.conf.{all,default}.disable_ipv6=1) in every switch namespace, ctl
#   and fm, set before any veth arrives: switch ports never send RS / MLD / DAD, which an edge
#   would take for hosts (shared/PORTLAND.md §4, pitfall 4). The control network is IPv4.
#   Nothing forwards in a switch namespace until switchd does: no bridge (a fat tree has
#   loops), no ip_forward.
#
# Sourced:    . lab/fattree.sh; ft_build 4
#   ft_build [K]                build a k-ary fat tree (K even, 4..14; default 4). Returns
#                               when every link is up. Phase times in FT_BUILD_TIMES, total
#                               in FT_BUILD_MS. One tree per shell.
#   ft_teardown                 stop what ft_start started, delete every namespace of the tree
#                               (also run on every exit path, before lab/lib.sh's cleanup)
#   ft_switches [edge|agg|core] / ft_edges / ft_aggs / ft_cores / ft_hosts   names, one a line
#   ft_ports SW                 p0..p(k-1)
#   ft_level SW                 edge | agg | core
#   ft_peer NAME IFNAME         what the wiring rule puts at the other end: "NAME IFNAME"
#   ft_links                    both ends of every link (control network included), one a
#                               line: "NAME IFNAME PEER PEER_IFNAME"
#   ft_host_edge H              "e<p>-<i> p<x>": the edge port H hangs off
#   ft_host_ip4 H / ft_host_ip6 H / ft_host_mac H
#   ft_port_mac SW PORT / ft_switch_id SW / ft_ctl_mac SW / ft_ctl_ip SW / ft_sw_num SW
#   ft_link_down SW PORT / ft_link_up SW PORT   take a switch port down / up (the peer
#                               sees NO-CARRIER: a pulled cable)
#   ft_graft_link H GIVER [IF]  migration's lab part: GIVER's eth0 (its edge port) moves into
#                               H's namespace as IF (mig0), down, with H's MAC; GIVER is
#                               left with no link
#   ft_host_relink H FROM TO    H's addresses leave its link FROM (down) for TO (up): H now
#                               hangs off TO's edge port, same MAC and IPs
#   ft_start NAME TAG CMD...    run CMD in NAME's namespace in the background, logging to
#                               $LAB_TMP/TAG-NAME.log; FT_LAST_PID / FT_LAST_LOG (call directly)
#   ft_start_switchd SW [ARG...]  "$SWITCHD" ARG... in SW (errors out if SWITCHD is unset
#                               or not executable); pid in FT_SWITCHD_PID[SW]
#   ft_stop_switchd SW          SIGTERM, SIGKILL after ~2 s
#   ft_pki                      test CA and certificates (scripts/certs.sh) in $LAB_TMP/pki,
#                               FT_PKI: fabricd fm (IP SAN 203.0.113.1), fabricctl admin,
#                               switchd <SW> for every switch (URI:urn:l2fabric:switchd:<SW>).
#                               Then ft_tls ROLE ID prints "--ca F --cert F --key F".
#   PortLand on the tree (what every switchd test and bench brings up; FABRICD, SWITCHD and
#   FABRICCTL name the binaries):
#   ft_fabric K                 ft_build K, ft_pki, ft_bpffs and ft_start_fabricd; dies
#                               (lab_die) on what fails. Call directly
#   ft_bpffs                    a private bpffs on $LAB_TMP/bpffs for the switches' pins, path
#                               in FT_BPFFS; 1 if it cannot be mounted. ft_teardown unmounts
#                               it, first (on every exit path, before the tree goes)
#   ft_start_fabricd [ARG...]   "$FABRICD" in fm: -f, listening on FT_FM4:FT_FM_PORT over
#                               mutual TLS (ft_tls fabricd fm), Unix control socket FT_FM_SOCK
#                               ($LAB_TMP/fabricd.sock), no store (-S none), then ARG...; pid
#                               in FT_FM_PID (and FT_LAST_PID); 1 if the socket is not there
#                               within 5 s. ft_stop_fabricd: stop it, remove the socket
#   ft_fabric_switchd SW [ARG...]  ft_start_switchd SW -f -F FT_FM4:FT_FM_PORT (ft_tls switchd
#                               SW) --bpf-dir FT_BPFFS --control-socket $LAB_TMP/switchd-SW.sock
#                               ARG...
#   ft_fabric_switchds [ARG...] ft_fabric_switchd for every switch, in a random order (the
#                               order in the array FT_START_ORDER, for a log)
#   ft_located                  how many switches fabricd has located (fabricctl topo --json)
#   ft_wait_located TIMEOUT_S [N]  until N switches (default: every one) are located; 1 if
#                               not within TIMEOUT_S (polled every 20 ms)
#   (namespace names: "$(lab_ns e0-1)"; run commands with lab_exec e0-1 CMD...)
# Standalone: lab/fattree.sh [K] [--hold SECONDS]
#   builds the tree, prints its build time, checks fm reaches every switch's ctl0 and every
#   link is up, prints the namespaces, optionally keeps them SECONDS, removes them.

[ -n "${FT_LIB_SOURCED:-}" ] && [ "${BASH_SOURCE[0]}" != "$0" ] && return 0
FT_LIB_SOURCED=1

FT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab/lib.sh
. "$FT_DIR/lib.sh"

FT_K=0 FT_H=0
FT_KMAX=14
FT_CTL_NET=203.0.113
FT_FM4=203.0.113.1
FT_FM_MAC=02:fc:ff:00:00:01
# shellcheck disable=SC2034
FT_FM_PORT=7301   # fabricd's TCP port in fm (for the tests' configs)
FT_BR_MAC=02:fc:fe:00:00:00
FT_IFINDEX0=100   # the first veth end's ifindex
FT_NAMESPACES=()   # full names of the tree's namespaces
FT_PIDS=()
FT_BUILD_MS=0 FT_BUILD_TIMES=
FT_LAST_PID='' FT_LAST_LOG=''
declare -A FT_SWITCHD_PID=()
FT_BPFFS='' FT_FM_SOCK='' FT_FM_PID=''
FT_START_ORDER=()

# --- names and numbers ------------------------------------------------------------------------

ft_check_k() {
    if ! [[ $1 =~ ^[0-9]+$ ]] || [ $(($1 % 2)) -ne 0 ] || [ "$1" -lt 4 ] || [ "$1" -gt "$FT_KMAX" ]; then
        lab_die "fat tree: k must be even, 4..$FT_KMAX, not '$1' (k > $FT_KMAX: more than the 245 switches $FT_CTL_NET.0/24 numbers from .10)"
    fi
}

ft_require_built() { [ "$FT_K" -gt 0 ] || lab_die "${1:-fat tree}: no tree built (ft_build K)"; }

ft_edges() { local p i; for ((p = 0; p < FT_K; p++)); do for ((i = 0; i < FT_H; i++)); do echo "e$p-$i"; done; done; }
ft_aggs() { local p j; for ((p = 0; p < FT_K; p++)); do for ((j = 0; j < FT_H; j++)); do echo "a$p-$j"; done; done; }
ft_cores() { local n; for ((n = 0; n < FT_H * FT_H; n++)); do echo "c$n"; done; }
ft_hosts() {
    local p i x
    for ((p = 0; p < FT_K; p++)); do
        for ((i = 0; i < FT_H; i++)); do
            for ((x = 0; x < FT_H; x++)); do echo "h$p-$i-$x"; done
        done
    done
}
ft_switches() {
    case ${1:-all} in
        edge) ft_edges ;; agg) ft_aggs ;; core) ft_cores ;;
        all) ft_edges; ft_aggs; ft_cores ;;
        *) lab_die "ft_switches: edge, agg or core, not '$1'" ;;
    esac
}
ft_ports() { local n; for ((n = 0; n < FT_K; n++)); do echo "p$n"; done; }

# _ft_parse NAME: sets _ftl (0 edge, 1 agg, 2 core, h host, fm, ctl), _ftp, _fti, _ftx;
# dies on a name that is not in the tree.
_ft_parse() {
    _ftp=0 _fti=0 _ftx=0
    ft_require_built "'$1'"
    case $1 in
        fm|ctl) _ftl=$1; return 0 ;;
    esac
    if [[ $1 =~ ^([ea])([0-9]+)-([0-9]+)$ ]]; then
        _ftl=0; [ "${BASH_REMATCH[1]}" = a ] && _ftl=1
        _ftp=$((10#${BASH_REMATCH[2]})) _fti=$((10#${BASH_REMATCH[3]}))
        [ $_ftp -lt "$FT_K" ] && [ $_fti -lt "$FT_H" ] && return 0
    elif [[ $1 =~ ^c([0-9]+)$ ]]; then
        _ftl=2 _fti=$((10#${BASH_REMATCH[1]}))
        [ $_fti -lt $((FT_H * FT_H)) ] && return 0
    elif [[ $1 =~ ^h([0-9]+)-([0-9]+)-([0-9]+)$ ]]; then
        _ftl=h _ftp=$((10#${BASH_REMATCH[1]})) _fti=$((10#${BASH_REMATCH[2]})) _ftx=$((10#${BASH_REMATCH[3]}))
        [ $_ftp -lt "$FT_K" ] && [ $_fti -lt "$FT_H" ] && [ $_ftx -lt "$FT_H" ] && return 0
    fi
    lab_die "not a node of the k=$FT_K fat tree: '$1'"
}

_ft_switch() {   # _ft_switch NAME: _ft_parse, and it must be a switch
    _ft_parse "$1"
    case $_ftl in 0|1|2) ;; *) lab_die "not a switch: '$1'" ;; esac
}

_ft_portnum() {   # PORT (p3 or 3) -> _ftn
    local n=${1#p}
    if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -ge "$FT_K" ]; then lab_die "not a port of a k=$FT_K switch: '$1'"; fi
    _ftn=$((10#$n))
}

ft_level() {
    local _ftl _ftp _fti _ftx; _ft_switch "$1"
    case $_ftl in 0) echo edge ;; 1) echo agg ;; 2) echo core ;; esac
}

# The switch's number: edges, then aggregations, then cores (see the header).
_ft_num() {   # level pod index -> _fts
    case $1 in
        0) _fts=$(($2 * FT_H + $3)) ;;
        1) _fts=$((FT_K * FT_H + $2 * FT_H + $3)) ;;
        2) _fts=$((FT_K * FT_K + $3)) ;;
    esac
}
ft_sw_num() { local _ftl _ftp _fti _ftx _fts; _ft_switch "$1"; _ft_num "$_ftl" "$_ftp" "$_fti"; echo "$_fts"; }
ft_ctl_ip() { printf '%s.%d\n' "$FT_CTL_NET" $((10 + $(ft_sw_num "$1"))); }

ft_port_mac() {
    local _ftl _ftp _fti _ftx _ftn; _ft_switch "$1"; _ft_portnum "$2"
    printf '02:fa:%02x:%02x:%02x:%02x\n' "$_ftl" "$_ftp" "$_fti" "$_ftn"
}
ft_switch_id() { ft_port_mac "$1" 0; }
ft_ctl_mac() {
    local _ftl _ftp _fti _ftx; _ft_switch "$1"
    printf '02:fc:%02x:%02x:%02x:00\n' "$_ftl" "$_ftp" "$_fti"
}

_ft_host() { _ft_parse "$1"; [ "$_ftl" = h ] || lab_die "not a host: '$1'"; }
ft_host_mac() { local _ftl _ftp _fti _ftx; _ft_host "$1"; printf '02:00:0f:%02x:%02x:%02x\n' "$_ftp" "$_fti" "$_ftx"; }
ft_host_ip4() { local _ftl _ftp _fti _ftx; _ft_host "$1"; printf '198.18.%d.%d\n' "$_ftp" $((10 * (_fti + 1) + _ftx)); }
ft_host_ip6() {
    local _ftl _ftp _fti _ftx; _ft_host "$1"
    if [ "$_ftp" -eq 0 ]; then printf '2001:db8:f::%d\n' $((10 * (_fti + 1) + _ftx))
    else printf '2001:db8:f::%d:%d\n' "$_ftp" $((10 * (_fti + 1) + _ftx)); fi
}
ft_host_edge() { local _ftl _ftp _fti _ftx; _ft_host "$1"; echo "e$_ftp-$_fti p$_ftx"; }

# The wiring rule, both ways: _ft_peer NAME IFNAME sets _ftpeer to "PEER PEER_IFNAME".
_ft_peer() {
    local _ftl _ftp _fti _ftx _ftn h=$FT_H
    _ft_parse "$1"
    case $_ftl in
        h) [ "$2" = eth0 ] || lab_die "ft_peer: a host has eth0 only, not '$2'"
           _ftpeer="e$_ftp-$_fti p$_ftx"; return 0 ;;
        fm) [ "$2" = eth0 ] || lab_die "ft_peer: fm has eth0 only, not '$2'"
            _ftpeer="ctl fm"; return 0 ;;
        ctl) [ "$2" = fm ] && { _ftpeer="fm eth0"; return 0; }
             _ft_switch "$2"; _ftpeer="$2 ctl0"; return 0 ;;
    esac
    [ "$2" = ctl0 ] && { _ftpeer="ctl $1"; return 0; }
    _ft_portnum "$2"
    case $_ftl:$((_ftn < h)) in
        0:1) _ftpeer="h$_ftp-$_fti-$_ftn eth0" ;;
        0:0) _ftpeer="a$_ftp-$((_ftn - h)) p$_fti" ;;
        1:1) _ftpeer="e$_ftp-$_ftn p$((h + _fti))" ;;
        1:0) _ftpeer="c$((_fti * h + _ftn - h)) p$_ftp" ;;
        2:*) _ftpeer="a$_ftn-$((_fti / h)) p$((h + _fti % h))" ;;
    esac
}
ft_peer() { local _ftpeer; _ft_peer "$1" "$2"; echo "$_ftpeer"; }

# Both ends of every link, the control network's too: "NAME IFNAME PEER PEER_IFNAME".
ft_links() {
    local sw h n _ftpeer
    ft_require_built ft_links
    for sw in $(ft_switches); do
        for ((n = 0; n < FT_K; n++)); do _ft_peer "$sw" "p$n"; echo "$sw p$n $_ftpeer"; done
        echo "$sw ctl0 ctl $sw"
        echo "ctl $sw $sw ctl0"
    done
    for h in $(ft_hosts); do _ft_peer "$h" eth0; echo "$h eth0 $_ftpeer"; done
    echo "fm eth0 ctl fm"
    echo "ctl fm fm eth0"
}

ft_link_down() { local _ftl _ftp _fti _ftx _ftn; _ft_switch "$1"; _ft_portnum "$2"; lab_exec "$1" ip link set "p$_ftn" down; }
ft_link_up() { local _ftl _ftp _fti _ftx _ftn; _ft_switch "$1"; _ft_portnum "$2"; lab_exec "$1" ip link set "p$_ftn" up; }
ft_graft_link() {
    local h=$1 giver=$2 ifname=${3:-mig0}
    lab_exec "$giver" ip link set eth0 down &&
        lab_exec "$giver" ip link set eth0 name "$ifname" &&
        lab_exec "$giver" ip link set "$ifname" netns "$(lab_ns "$h")" &&
        lab_exec "$h" ip link set "$ifname" address "$(ft_host_mac "$h")"
}
ft_host_relink() {   # one ip process (-batch): the move takes what the kernel takes
    local h=$1 from=$2 to=$3
    ip -n "$(lab_ns "$h")" -batch - <<EOF
link set $from down
addr flush dev $from
addr add $(ft_host_ip4 "$h")/16 dev $to
addr add $(ft_host_ip6 "$h")/64 dev $to nodad
link set $to up
EOF
}

# --- building ---------------------------------------------------------------------------------
# A k=8 tree is 210 namespaces and 465 veth pairs: everything is done in bulk, with as few
# processes as the kernel interfaces allow. One `ip -batch` creates the namespaces, one more
# every veth pair straight into its two namespaces with its final name and MAC (iproute2
# resolves "netns NAME" per line). Then one `ip -n NS -batch` per namespace brings its links
# up and adds its addresses: a link cannot be created up in another namespace (ENOTCONN on
# 6.18), nor addressed from outside it. The IPv6 sysctls need one `ip netns exec` per
# namespace (about 3 ms each). Name and MAC arithmetic below runs in this shell, without
# subshells, for the same reason.

_ft_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
_ft_phase() {   # _ft_phase LABEL: time since the previous phase into FT_BUILD_TIMES
    local now; now=$(_ft_ms)
    FT_BUILD_TIMES+="${FT_BUILD_TIMES:+ }$1=$((now - _ft_t))ms"
    _ft_t=$now
}

# Every veth pair of the tree and of the control network, as `ip -batch` lines.
_ft_veth_lines() {
    local P=$LAB_PREFIX k=$FT_K h=$FT_H p i j x m n l s mac q=$FT_IFINDEX0
    for ((p = 0; p < k; p++)); do
        for ((i = 0; i < h; i++)); do
            for ((x = 0; x < h; x++)); do
                printf 'link add name p%d index %d netns %se%d-%d address 02:fa:00:%02x:%02x:%02x type veth peer name eth0 index %d netns %sh%d-%d-%d address 02:00:0f:%02x:%02x:%02x\n' \
                    $x $((q++)) "$P" $p $i $p $i $x $((q++)) "$P" $p $i $x $p $i $x
            done
            for ((j = 0; j < h; j++)); do
                printf 'link add name p%d index %d netns %se%d-%d address 02:fa:00:%02x:%02x:%02x type veth peer name p%d index %d netns %sa%d-%d address 02:fa:01:%02x:%02x:%02x\n' \
                    $((h + j)) $((q++)) "$P" $p $i $p $i $((h + j)) $i $((q++)) "$P" $p $j $p $j $i
            done
        done
        for ((j = 0; j < h; j++)); do
            for ((m = 0; m < h; m++)); do
                n=$((j * h + m))
                printf 'link add name p%d index %d netns %sa%d-%d address 02:fa:01:%02x:%02x:%02x type veth peer name p%d index %d netns %sc%d address 02:fa:02:00:%02x:%02x\n' \
                    $((h + m)) $((q++)) "$P" $p $j $p $j $((h + m)) $p $((q++)) "$P" $n $n $p
            done
        done
    done
    for ((l = 0; l < 3; l++)); do
        for ((p = 0; p < (l == 2 ? 1 : k); p++)); do
            for ((i = 0; i < (l == 2 ? h * h : h); i++)); do
                case $l in 0) s=e$p-$i ;; 1) s=a$p-$i ;; 2) s=c$i ;; esac
                printf -v mac '%02x:%02x:%02x:00' $l $p $i
                printf 'link add name %s index %d netns %sctl address 02:fd:%s type veth peer name ctl0 index %d netns %s%s address 02:fc:%s\n' \
                    "$s" $((q++)) "$P" "$mac" $((q++)) "$P" "$s" "$mac"
            done
        done
    done
    printf 'link add name fm index %d netns %sctl address 02:fd:ff:00:00:01 type veth peer name eth0 index %d netns %sfm address %s\n' \
        $((q++)) "$P" $((q++)) "$P" "$FT_FM_MAC"
}

# Each namespace's own `ip -batch` lines (links up, addresses), into _ftcmds: a variable, not
# a pipe, saves a subshell per namespace.
_ft_ns_lines() {   # NAME
    local _ftl _ftp _fti _ftx _fts n x sw
    _ft_parse "$1"
    _ftcmds="link set lo up"$'\n'
    case $_ftl in
        h)
            x=$((10 * (_fti + 1) + _ftx))
            _ftcmds+="addr add 198.18.$_ftp.$x/16 dev eth0"$'\n'
            if [ "$_ftp" -eq 0 ]; then _ftcmds+="addr add 2001:db8:f::$x/64 dev eth0 nodad"$'\n'
            else _ftcmds+="addr add 2001:db8:f::$_ftp:$x/64 dev eth0 nodad"$'\n'; fi
            _ftcmds+="link set eth0 up"$'\n' ;;
        fm)
            _ftcmds+="addr add $FT_FM4/24 dev eth0"$'\n'"link set eth0 up"$'\n' ;;
        ctl)
            _ftcmds+="link add name br0 address $FT_BR_MAC type bridge stp_state 0 forward_delay 0 mcast_snooping 0"$'\n'
            _ftcmds+="link set br0 up"$'\n'
            for sw in $(ft_switches) fm; do _ftcmds+="link set $sw master br0 up"$'\n'; done ;;
        *)
            for ((n = 0; n < FT_K; n++)); do _ftcmds+="link set p$n up"$'\n'; done
            _ft_num "$_ftl" "$_ftp" "$_fti"
            _ftcmds+="addr add $FT_CTL_NET.$((10 + _fts))/24 dev ctl0"$'\n'"link set ctl0 up"$'\n' ;;
    esac
}

# Every link of NS other than lo is up: operstate UP, both ends up and the kernel's linkwatch
# caught up. Linkwatch defers (up to 1 s) the event of a device whose ifindex equals its
# iflink, as a veth's may by chance: the tree's veth ends have ifindexes unique across the
# tree (FT_IFINDEX0 up, in creation order), so their events go through at once.
_ft_links_up() {   # brief output: no lookup of the peers' namespace names (one per veth)
    local ifname state rest
    while read -r ifname state rest; do
        [ "$ifname" = lo ] || [ "$state" = UP ] || return 1
    done < <(ip -n "$LAB_PREFIX$1" -br link show)
}

ft_build() {
    local k=${1:-4} names=() name full _ft_t t0 busy=() _ftcmds
    local -A want=()
    ft_check_k "$k"
    lab_require_root
    [ "$FT_K" -eq 0 ] || lab_die "ft_build: a k=$FT_K tree is already built in this shell (ft_teardown first)"
    FT_K=$k FT_H=$((k / 2))
    mapfile -t names < <(ft_switches; ft_hosts; echo fm; echo ctl)
    for name in "${names[@]}"; do want[$name]=1; done
    for full in /run/netns/"$LAB_PREFIX"*; do   # not `ip netns list`: it asks about each one
        name=${full#/run/netns/"$LAB_PREFIX"}
        [ -e "$full" ] && [ -n "${want[$name]:-}" ] && busy+=("$name")
    done
    [ ${#busy[@]} -eq 0 ] ||
        { FT_K=0; lab_die "ft_build: ${#busy[@]} of the tree's namespaces already exist (${LAB_PREFIX}${busy[0]}...)"; }
    t0=$(_ft_ms) _ft_t=$t0 FT_BUILD_TIMES=
    # Recorded before they exist: a build that fails half way is still cleaned up.
    for name in "${names[@]}"; do FT_NAMESPACES+=("$LAB_PREFIX$name"); done
    LAB_NAMESPACES+=("${FT_NAMESPACES[@]}")
    printf 'netns add %s\n' "${FT_NAMESPACES[@]}" | ip -batch - || lab_die "ft_build: cannot create the namespaces"
    _ft_phase netns
    # IPv6 off before any veth arrives (pitfall 4); the control network too, it is IPv4.
    for name in "${names[@]}"; do
        case $name in h*) continue ;; esac
        ip netns exec "$LAB_PREFIX$name" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1 >/dev/null || lab_die "ft_build: IPv6 sysctls in $name"
    done
    # The control bridge carries fabricd's TCP as it is, whatever iptables says.
    ip netns exec "${LAB_PREFIX}ctl" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
        net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
    _ft_phase sysctl
    _ft_veth_lines | ip -batch - || lab_die "ft_build: cannot create the veth pairs"
    _ft_phase veth
    for name in "${names[@]}"; do
        _ft_ns_lines "$name"
        ip -n "$LAB_PREFIX$name" -batch - <<<"$_ftcmds" || lab_die "ft_build: cannot configure $name"
    done
    _ft_phase config
    for name in "${names[@]}"; do
        _ft_links_up "$name" || lab_wait_for 5 _ft_links_up "$name" || lab_die "ft_build: links of $name not up after 5 s"
    done
    _ft_phase up
    FT_BUILD_MS=$(($(_ft_ms) - t0))
}

# --- running things in it ---------------------------------------------------------------------

ft_start() {   # NAME TAG CMD... — call directly (not in $(...))
    local name=$1 tag=$2 _ftl _ftp _fti _ftx
    shift 2
    _ft_parse "$name"
    lab_tmpdir
    FT_LAST_LOG=$LAB_TMP/$tag-$name.log
    lab_bg "$name" "$FT_LAST_LOG" "$@"
    FT_LAST_PID=$LAB_LAST_PID
    FT_PIDS+=("$FT_LAST_PID")
}

# switchd is built elsewhere: SWITCHD names its binary (a test sets it from the build dir).
ft_start_switchd() {   # SW [ARG...] — call directly
    local sw=$1 _ftl _ftp _fti _ftx
    shift
    _ft_switch "$sw"
    [ -n "${SWITCHD:-}" ] || lab_die "ft_start_switchd $sw: SWITCHD is not set (the path of the switchd binary)"
    [ -x "$SWITCHD" ] || lab_die "ft_start_switchd $sw: SWITCHD=$SWITCHD is not an executable file"
    ft_start "$sw" switchd "$SWITCHD" "$@"
    FT_SWITCHD_PID[$sw]=$FT_LAST_PID
}

ft_stop_switchd() {
    local pid=${FT_SWITCHD_PID[$1]:-}
    [ -n "$pid" ] || return 0
    lab_kill_pids "$pid"
    _ft_forget_pid "$pid"
    unset 'FT_SWITCHD_PID[$1]'
}

_ft_forget_pid() {   # PID: ended and waited for (lab_forget_pid): ft_teardown must not signal it
    local p keep=()
    for p in "${FT_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    FT_PIDS=("${keep[@]}")
}

FT_PKI=
ft_pki() {
    local certs=$FT_DIR/../scripts/certs.sh sw=()
    ft_require_built ft_pki
    [ -n "$FT_PKI" ] && [ -f "$FT_PKI/ca.pem" ] && return 0
    lab_tmpdir
    FT_PKI=$LAB_TMP/pki
    mapfile -t sw < <(ft_switches)
    bash "$certs" "$FT_PKI" ca >/dev/null || lab_die "ft_pki: cannot make the CA"
    bash "$certs" "$FT_PKI" issue fabricd fm "$FT_FM4" >/dev/null || lab_die "ft_pki: fabricd"
    bash "$certs" "$FT_PKI" issue fabricctl admin >/dev/null || lab_die "ft_pki: fabricctl"
    bash "$certs" "$FT_PKI" issue-many switchd "${sw[@]}" >/dev/null || lab_die "ft_pki: switchd"
}

ft_tls() { printf -- '--ca %s --cert %s --key %s\n' "$FT_PKI/ca.pem" "$FT_PKI/$1-$2.pem" "$FT_PKI/$1-$2.key"; }

# --- PortLand on the tree: fabricd, a switchd per switch --------------------------------------
# The bring-up every switchd test and bench shares (tests/netns/switchd_lib.sh, bench/switchd_*).
# The pins go on a bpffs of the run's own, not /sys/fs/bpf: nothing outlives the run there, and
# two runs never see each other's maps.

ft_bpffs() {   # call directly
    local dir
    ft_require_built ft_bpffs
    [ -z "$FT_BPFFS" ] || return 0
    lab_tmpdir
    dir=$LAB_TMP/bpffs
    mkdir -p "$dir" || return 1
    mount -t bpf bpf "$dir" || return 1
    FT_BPFFS=$dir
}

ft_start_fabricd() {   # [ARG...] — call directly
    ft_require_built ft_start_fabricd
    [ -n "$FT_PKI" ] || lab_die "ft_start_fabricd: no certificates (ft_pki)"
    [ -x "${FABRICD:-}" ] ||
        lab_die "ft_start_fabricd: FABRICD='${FABRICD:-}' is not an executable file (the path of the fabricd binary)"
    [ -z "$FT_FM_PID" ] || ! lab_alive "$FT_FM_PID" ||
        lab_die "ft_start_fabricd: fabricd (pid $FT_FM_PID) is running (ft_stop_fabricd first)"
    FT_FM_SOCK=$LAB_TMP/fabricd.sock
    rm -f "$FT_FM_SOCK"   # one a killed fabricd left would pass for the new one's
    # shellcheck disable=SC2046  # ft_tls prints options
    ft_start fm fabricd "$FABRICD" -f -l "$FT_FM4:$FT_FM_PORT" $(ft_tls fabricd fm) \
        -s "$FT_FM_SOCK" -S none "$@"
    FT_FM_PID=$FT_LAST_PID
    lab_wait_for 5 test -S "$FT_FM_SOCK"
}

ft_stop_fabricd() {
    [ -n "$FT_FM_PID" ] || return 0
    lab_kill_pids "$FT_FM_PID"
    _ft_forget_pid "$FT_FM_PID"
    rm -f "$FT_FM_SOCK"
    FT_FM_PID=
}

ft_fabric() {   # K — call directly
    ft_build "$1"
    ft_pki
    ft_bpffs || lab_die "ft_fabric: cannot mount a bpffs on $LAB_TMP/bpffs"
    ft_start_fabricd || lab_die "ft_fabric: fabricd did not start within 5 s ($FT_LAST_LOG)"
}

ft_fabric_switchd() {   # SW [ARG...] — call directly
    local name=$1
    shift
    [ -n "$FT_BPFFS" ] || lab_die "ft_fabric_switchd $name: no bpffs for the pins (ft_bpffs)"
    [ -n "$FT_PKI" ] || lab_die "ft_fabric_switchd $name: no certificates (ft_pki)"
    # shellcheck disable=SC2046  # ft_tls prints options
    ft_start_switchd "$name" -f -F "$FT_FM4:$FT_FM_PORT" $(ft_tls switchd "$name") \
        --bpf-dir "$FT_BPFFS" --control-socket "$LAB_TMP/switchd-$name.sock" "$@"
}

ft_fabric_switchds() {   # [ARG...] — call directly
    local name
    mapfile -t FT_START_ORDER < <(ft_switches | shuf)
    for name in "${FT_START_ORDER[@]}"; do ft_fabric_switchd "$name" "$@"; done
}

ft_located() {
    "$FABRICCTL" -s "$FT_FM_SOCK" topo --json 2>/dev/null | jq '[.[] | select(.located)] | length'
}

_ft_located_is() { [ "$(ft_located)" = "$1" ]; }
ft_wait_located() {   # TIMEOUT_S [N]
    ft_require_built ft_wait_located
    lab_wait_for "$1" _ft_located_is "${2:-$((2 * FT_K * FT_H + FT_H * FT_H))}"
}

# --- tearing down -----------------------------------------------------------------------------

# Pids whose network namespace is one of ours: one stat over /proc, not one `ip netns pids`
# (a /proc walk each) per namespace.
_ft_ns_pids() {
    local -A ours=()
    local ino line pid
    [ ${#FT_NAMESPACES[@]} -gt 0 ] || return 0
    while read -r ino; do ours[$ino]=1; done < <(
        cd /run/netns && stat -L -c '%i' "${FT_NAMESPACES[@]}" 2>/dev/null)
    while read -r line; do   # '/proc/PID/ns/net' -> 'net:[INODE]'
        [[ $line =~ ^\'/proc/([0-9]+)/ns/net\'\ -\>\ \'net:\[([0-9]+)\]\'$ ]] || continue
        pid=${BASH_REMATCH[1]} ino=${BASH_REMATCH[2]}
        [ -n "${ours[$ino]:-}" ] && [ "$pid" != "$$" ] && [ "$pid" != "$BASHPID" ] && echo "$pid"
    done < <(stat -c '%N' /proc/[0-9]*/ns/net 2>/dev/null)
    return 0
}

ft_teardown() {
    local pids=() ns keep=()
    local -A gone=()
    # the pins' bpffs first: unmounted before its switches and their namespaces go
    if [ -n "$FT_BPFFS" ]; then umount -l "$FT_BPFFS" 2>/dev/null; FT_BPFFS=; fi
    [ ${#FT_NAMESPACES[@]} -gt 0 ] || { FT_K=0; return 0; }
    lab_kill_pids "${FT_PIDS[@]}"
    mapfile -t pids < <(_ft_ns_pids)
    lab_kill_pids "${pids[@]}"
    printf 'netns delete %s\n' "${FT_NAMESPACES[@]}" | ip -force -batch - 2>/dev/null
    for ns in "${FT_NAMESPACES[@]}"; do gone[$ns]=1; done
    for ns in "${LAB_NAMESPACES[@]}"; do [ -n "${gone[$ns]:-}" ] || keep+=("$ns"); done
    LAB_NAMESPACES=("${keep[@]}")
    FT_NAMESPACES=() FT_PIDS=() FT_K=0 FT_H=0 FT_PKI=
    FT_SWITCHD_PID=() FT_FM_PID='' FT_FM_SOCK='' FT_START_ORDER=()
    return 0
}

# lab/lib.sh's cleanup would delete the tree too, one namespace and one /proc walk at a time.
ft_cleanup() {
    local rc=$?
    set +e
    ft_teardown
    (exit "$rc")
    lab_cleanup
}
trap ft_cleanup EXIT

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -u
    k=4 hold=0
    while [ $# -gt 0 ]; do
        case $1 in
            --hold) hold=${2:?--hold SECONDS}; shift 2 ;;
            [0-9]*) k=$1; shift ;;
            *) echo "usage: $0 [K] [--hold SECONDS]" >&2; exit 2 ;;
        esac
    done
    ft_build "$k"
    echo "k=$k: $(ft_switches | grep -c .) switches, $(ft_hosts | grep -c .) hosts, built in ${FT_BUILD_MS} ms ($FT_BUILD_TIMES)"
    rc=0
    mapfile -t addrs < <(for sw in $(ft_switches); do ft_ctl_ip "$sw"; done)
    if out=$(lab_exec fm fping -q -r 2 -t 500 "${addrs[@]}" 2>&1); then
        echo "fm reaches the ctl0 of all ${#addrs[@]} switches"
    else
        echo "fm does not reach every switch: $out"; rc=1
    fi
    lab_standalone_end "$rc" "$hold"
fi
