#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2119  # conditions eval'd by t_assert_wait; optional arguments
# test_fattree_lab.sh — the fat-tree lab itself (lab/fattree.sh), before any switchd: the
# topology as the kernel sees it, for k=4 and k=6.
#  - namespaces: 5k²/4 switches, k³/4 hosts, fm, ctl, and nothing else with our prefix;
#  - every veth walked from the kernel's side (ifindex, peer ifindex, peer namespace through
#    its nsid): each switch has exactly p0..p(k-1) and ctl0, each port's peer is what the
#    wiring rule (ft_peer) says and points back, an edge has k/2 host ports and k/2 up to the
#    aggregations of its pod, an aggregation k/2 edges and k/2 cores, a core one aggregation
#    in each of the k pods; the MACs are the documented ones; every link is up;
#  - no IPv6 on any switch port: no inet6 address, disable_ipv6=1 everywhere in the switch;
#  - a host has lo and eth0, exactly its one IPv4 and one global IPv6 address, the connected
#    routes and nothing else (no gateway: it does not know it is in a tree);
#  - the control network: br0 in ctl has exactly the switches and fm as ports; every switch
#    pings fabricd's address over ctl0; an ARP probe from fm finds a switch but no host (the
#    same probe from an edge port finds its host, so the probe can see one); fabricd in fm
#    completes mutual TLS with every switch's switchd certificate (when fabricd is built);
#  - ft_link_down / ft_link_up take a port's carrier away from its neighbour and back;
#  - ft_build refuses an odd or out-of-range k, and a name already taken; ft_start_switchd refuses to run without
#    SWITCHD and runs it in the switch's namespace with a log; ft_bpffs mounts a bpffs and
#    ft_teardown unmounts it; ft_teardown, and the standalone lab on exit and on SIGTERM,
#    leave no namespace behind.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lab/fattree.sh
. "$T_ROOT/lab/fattree.sh"
t_require_root
t_require_cmd ip jq arping fping openssl

P=$LAB_PREFIX
ours() { ip netns list 2>/dev/null | awk -v p="$1" 'index($1, p) == 1 { print substr($1, length(p) + 1) }'; }

# --- the naming and wiring rules, pinned to the header's examples (k=4 unless said) ---------
FT_K=4 FT_H=2   # the arithmetic needs only k; nothing is built yet
t_assert_eq "$(ft_peer e1-0 p3)" "a1-1 p0" "edge 0 port k/2+1 <-> agg 1 port 0"
t_assert_eq "$(ft_peer a2-1 p3)" "c3 p2" "agg 1 port k/2+1 <-> core 1*k/2+1 port <pod>"
t_assert_eq "$(ft_peer c2 p3)" "a3-1 p2" "core 2 port 3 <-> agg 3-1 port k/2+0"
t_assert_eq "$(ft_peer e3-1 p1)" "h3-1-1 eth0" "edge host port"
t_assert_eq "$(ft_peer h3-1-1 eth0)" "e3-1 p1" "host's edge"
t_assert_eq "$(ft_host_ip4 h1-1-1) $(ft_host_ip6 h1-1-1) $(ft_host_mac h1-1-1)" \
    "198.18.1.21 2001:db8:f::1:21 02:00:0f:01:01:01" "h1-1-1 addresses"
t_assert_eq "$(ft_host_ip4 h0-0-0) $(ft_host_ip6 h0-0-0)" "198.18.0.10 2001:db8:f::10" "h0-0-0 addresses"
t_assert_eq "$(ft_switch_id a2-1) $(ft_ctl_mac a2-1) $(ft_ctl_ip a2-1)" \
    "02:fa:01:02:01:00 02:fc:01:02:01:00 203.0.113.23" "a2-1 switch_id, ctl0"
t_assert_eq "$(ft_ctl_ip c3) $(ft_port_mac c3 p2)" "203.0.113.29 02:fa:02:00:03:02" "c3 ctl0 address, port MAC"
FT_K=8 FT_H=4
t_assert_eq "$(ft_ctl_ip c15)" 203.0.113.89 "k=8: the last switch's control address"
t_assert_eq "$(ft_peer a7-3 p7)" "c15 p7" "k=8: the last agg-core link"
FT_K=0 FT_H=0
lab_tmpdir   # here: a temp dir made in the $(ft_build ...) subshells below is never removed
for k in 3 5 2 0 16 x; do
    out=$(ft_build "$k" 2>&1) && t_fail "ft_build $k was accepted"
    grep -q 'k must be even, 4\.\.14' <<<"$out" || t_fail "ft_build $k: no clear refusal: $out"
done
t_assert_eq "$(ours "$P" | grep -c .)" 0 "namespaces after refused builds"
# A namespace of the tree's names already there: refused, and left alone.
lab_ns_add e0-0
out=$(ft_build 4 2>&1) && t_fail "ft_build over an existing e0-0 was accepted"
grep -q 'already exist' <<<"$out" || t_fail "ft_build over an existing e0-0: $out"
t_assert_eq "$(ours "$P")" e0-0 "namespaces after a build refused over e0-0"
ip netns delete "${P}e0-0"

# --- what the kernel holds --------------------------------------------------------------------
# Per namespace: its links (LINK["ns if"] = "ifindex peer_ifindex peer_ns mac operstate
# master") and IFNAME["ns ifindex"], parsed from `ip -o link` (jq costs ~10 ms a run: k=6 has
# 101 namespaces). The peer namespace is named by iproute2 from the nsid the kernel gives it
# in this namespace ("link-netns NAME").
declare -A LINK IFNAME
LINK_RE='^([0-9]+): ([^:@ ]+)(@if([0-9]+))?: .* state ([A-Z]+) .*link/ether ([0-9a-f:]+)'
kernel_links() {
    local ns=$1 line ifindex ifname peer state mac pns master
    while read -r line; do
        [[ $line =~ $LINK_RE ]] || continue   # lo
        ifindex=${BASH_REMATCH[1]} ifname=${BASH_REMATCH[2]} peer=${BASH_REMATCH[4]:--}
        state=${BASH_REMATCH[5]} mac=${BASH_REMATCH[6]} pns=- master=-
        [[ $line =~ \ link-netns\ ([^ ]+) ]] && pns=${BASH_REMATCH[1]#"$P"}
        [[ $line =~ \ master\ ([^ ]+)\  ]] && master=${BASH_REMATCH[1]}
        LINK["$ns $ifname"]="$ifindex $peer $pns $mac $state $master"
        IFNAME["$ns $ifindex"]=$ifname
    done < <(ip -n "$P$ns" -o link show)
}

# kernel_peer NS IF: KPEER="PEER_NS PEER_IF" from the kernel's view, after checking that the
# peer points back (a variable, not output: a t_fail here must end the test).
kernel_peer() {
    local ns=$1 ifname=$2 ifindex peer pns pif pidx ppeer ppns rest
    read -r ifindex peer pns rest <<<"${LINK["$ns $ifname"]:-}"
    [ -n "$ifindex" ] || t_fail "$ns has no $ifname"
    if [ "$peer" = - ] || [ "$pns" = - ]; then t_fail "$ns $ifname is not a veth into another namespace"; fi
    pif=${IFNAME["$pns $peer"]:-}
    [ -n "$pif" ] || t_fail "$ns $ifname: peer ifindex $peer is not in $pns"
    read -r pidx ppeer ppns rest <<<"${LINK["$pns $pif"]}"
    [ "$ppeer $ppns" = "$ifindex $ns" ] || t_fail "$pns $pif ($pidx) points to $ppns $ppeer, not back to $ns $ifname ($ifindex)"
    KPEER="$pns $pif"
}

# exp_mac NAME IF: EXPMAC, the MAC the header documents (restated here, not asked of the lab).
exp_mac() {
    local l
    case $1:$2 in
        fm:eth0) EXPMAC=02:fc:ff:00:00:01; return ;;
        ctl:fm) EXPMAC=02:fd:ff:00:00:01; return ;;
        ctl:br0) EXPMAC=02:fc:fe:00:00:00; return ;;
        ctl:*) exp_mac "$2" ctl0; EXPMAC=02:fd:${EXPMAC#02:fc:}; return ;;
    esac
    if [[ $1 =~ ^h([0-9]+)-([0-9]+)-([0-9]+)$ ]]; then
        printf -v EXPMAC '02:00:0f:%02x:%02x:%02x' "${BASH_REMATCH[@]:1:3}"
        return
    fi
    [[ $1 =~ ^([eac])([0-9]+)(-([0-9]+))?$ ]] || t_fail "exp_mac: '$1'"
    case ${BASH_REMATCH[1]} in
        e) l="0 ${BASH_REMATCH[2]} ${BASH_REMATCH[4]}" ;;
        a) l="1 ${BASH_REMATCH[2]} ${BASH_REMATCH[4]}" ;;
        c) l="2 0 ${BASH_REMATCH[2]}" ;;
    esac
    # shellcheck disable=SC2086  # level pod index
    if [ "$2" = ctl0 ]; then printf -v EXPMAC '02:fc:%02x:%02x:%02x:00' $l
    else printf -v EXPMAC '02:fa:%02x:%02x:%02x:%02x' $l "${2#p}"; fi
}

check_tree() {
    local k=$1 h=$(($1 / 2)) sw host ns ifname key peer got want mac state master pod ppod line
    local nsw=$((5 * k * k / 4)) nh=$((k * k * k / 4))
    local all=() sws=() hosts=() wired=()
    local -A nports=() ndown=() nup=() pods=()
    mapfile -t all < <(ours "$P" | sort)
    mapfile -t sws < <(ours "$P" | grep -E '^([ea][0-9]+-[0-9]+|c[0-9]+)$')
    mapfile -t hosts < <(ours "$P" | grep -E '^h[0-9]+-[0-9]+-[0-9]+$')
    t_assert_eq "${#sws[@]}" $nsw "k=$k: switch namespaces (5k²/4)"
    t_assert_eq "${#hosts[@]}" $nh "k=$k: host namespaces (k³/4)"
    t_assert_eq "$(printf '%s\n' "${all[@]}" | grep -cx 'fm\|ctl')" 2 "k=$k: fm and ctl namespaces"
    t_assert_eq "${#all[@]}" $((nsw + nh + 2)) "k=$k: namespaces in all"
    t_assert_eq "$(printf '%s\n' "${sws[@]}" | sort)" "$(ft_switches | sort)" "k=$k: switch names"
    t_assert_eq "$(printf '%s\n' "${hosts[@]}" | sort)" "$(ft_hosts | sort)" "k=$k: host names"

    # Every interface of every namespace (lo aside), walked to its peer: the set of links is
    # the wiring rule's, exactly (a missing, extra or crossed cable shows in the diff).
    LINK=() IFNAME=()
    for ns in "${all[@]}"; do kernel_links "$ns"; done
    for key in "${!LINK[@]}"; do
        ns=${key%% *} ifname=${key#* }
        read -r _ _ _ mac state master <<<"${LINK[$key]}"
        exp_mac "$ns" "$ifname"
        t_assert_eq "$mac $state" "$EXPMAC UP" "$ns $ifname MAC and state"
        case $ns:$ifname in
            ctl:br0) continue ;;
            ctl:*) t_assert_eq "$master" br0 "ctl $ifname's master" ;;
            *) t_assert_eq "$master" - "$ns $ifname's master" ;;
        esac
        kernel_peer "$ns" "$ifname"
        wired+=("$ns $ifname $KPEER")
    done
    got=$(diff <(printf '%s\n' "${wired[@]}" | sort) <(ft_links | sort)) ||
        t_fail "k=$k: the kernel's links (<) are not the wiring rule's (>): $(head -n 12 <<<"$got")"
    t_assert_eq "${LINK["ctl br0"]+set}" set "ctl has br0"
    t_assert_eq "$(ip -n "${P}ctl" -d -j link show br0 | jq -r '.[0].linkinfo.info_data.stp_state')" 0 "ctl br0 STP"

    # What each switch sees of its neighbours, from the kernel's links.
    for line in "${wired[@]}"; do
        read -r sw ifname peer _ <<<"$line"
        case $sw in [eac][0-9]*) ;; *) continue ;; esac
        [ "$ifname" = ctl0 ] && continue
        nports[$sw]=$((${nports[$sw]:-0} + 1))
        case ${sw:0:1}${peer:0:1} in
            eh|ae|ca) ndown[$sw]=$((${ndown[$sw]:-0} + 1)) ;;
            ea|ac) nup[$sw]=$((${nup[$sw]:-0} + 1)) ;;
            *) t_fail "$sw $ifname leads to $peer" ;;
        esac
        pod=${sw#?} pod=${pod%%-*} ppod=${peer#?} ppod=${ppod%%-*}
        case ${sw:0:1}${peer:0:1} in
            ca) pods[$sw]+="$ppod " ;;
            eh|ea|ae) t_assert_eq "$ppod" "$pod" "$sw $ifname: pod of $peer" ;;
        esac
    done
    for sw in "${sws[@]}"; do
        t_assert_eq "${nports[$sw]:-0}" "$k" "$sw: switch ports"
        case $sw in
            c*) t_assert_eq "${ndown[$sw]:-0} ${nup[$sw]:-0}" "$k 0" "$sw: aggregations below, nothing above"
                t_assert_eq "$(tr ' ' '\n' <<<"${pods[$sw]}" | sort -u | grep -c .)" "$k" "$sw: one aggregation in each pod" ;;
            *) t_assert_eq "${ndown[$sw]:-0} ${nup[$sw]:-0}" "$h $h" "$sw: k/2 ports down, k/2 up" ;;
        esac
    done

    # No IPv6 on switch ports: no address, disable_ipv6 on every device and the defaults; and
    # no forwarding before switchd.
    for sw in "${sws[@]}"; do
        t_assert_eq "$(ip -n "$P$sw" -o -6 addr show)" "" "$sw IPv6 addresses"
        got=$(lab_exec "$sw" sh -c 'cd /proc/sys/net/ipv6/conf && grep -H . */disable_ipv6; cat /proc/sys/net/ipv4/ip_forward' |
            tr '\n' ' ')
        want=
        for ifname in all ctl0 default lo $(ft_ports "$sw" | sort); do want+="$ifname/disable_ipv6:1 "; done
        t_assert_eq "$got" "${want}0 " "$sw: disable_ipv6 per device, ip_forward"
    done

    # A host: its two global addresses and the connected routes, nothing else.
    for host in "${hosts[@]}"; do
        got=
        while read -r _ _ _ line _; do got+="$line "; done < <(ip -n "$P$host" -o addr show dev eth0 scope global)
        t_assert_eq "$got" "$(ft_host_ip4 "$host")/16 $(ft_host_ip6 "$host")/64 " "$host global addresses"
        got=
        while read -r line; do
            case $line in *" table local "*) ;; *) got+="${line%% *} " ;; esac
        done < <(ip -n "$P$host" -o route show table all)
        t_assert_eq "$got" "198.18.0.0/16 2001:db8:f::/64 fe80::/64 " "$host routes"
    done

    for sw in "${sws[@]}"; do
        lab_exec "$sw" ping -q -c 1 -W 2 -I ctl0 "$FT_FM4" >/dev/null || t_fail "$sw does not reach fm ($FT_FM4) over ctl0"
    done
}

# ARP probes (sender 0.0.0.0, as DAD) from NS IFACE for every address given, in parallel:
# prints the addresses that answered.
arp_answered() {
    local ns=$1 ifname=$2 ip pids=()
    shift 2
    lab_tmpdir
    for ip in "$@"; do
        { lab_exec "$ns" arping -q -0 -c 2 -W 0.2 -w 1 -i "$ifname" "$ip" >/dev/null 2>&1 && echo "$ip"; } &
        pids+=($!)
    done
    wait "${pids[@]}"
}

# --- k=4 --------------------------------------------------------------------------------------
ft_build 4
t_log "k=4 built in ${FT_BUILD_MS} ms ($FT_BUILD_TIMES)"
check_tree 4
mapfile -t hostips < <(for h in $(ft_hosts); do ft_host_ip4 "$h"; done)
t_assert_eq "$(arp_answered e0-0 p0 "$(ft_host_ip4 h0-0-0)")" "$(ft_host_ip4 h0-0-0)" "ARP probe from e0-0 p0 to its host"
t_assert_eq "$(arp_answered fm eth0 "$(ft_ctl_ip c3)")" "$(ft_ctl_ip c3)" "ARP probe from fm to c3's ctl0"
t_assert_eq "$(arp_answered fm eth0 "${hostips[@]}")" "" "hosts answering an ARP probe on the control network"
t_assert_eq "$(arp_answered e0-1 ctl0 "${hostips[@]}")" "" "hosts answering an ARP probe from a switch's ctl0"

# ft_link_down: the neighbour sees its port lose carrier; ft_link_up brings it back.
state_of() { ip -n "$P$1" -br link show "$2" | awk '{ print $2 }'; }
ft_link_down e0-0 p2
t_assert_wait 5 "a0-0 p0 still up with e0-0 p2 down" '[ "$(state_of a0-0 p0)" = DOWN ]'
t_assert_eq "$(ip -n "${P}a0-0" -br link show p0 | awk '{ print $4 }')" "<NO-CARRIER,BROADCAST,MULTICAST,UP>" \
    "a0-0 p0 flags with its peer down (admin up, no carrier)"
t_assert_eq "$(state_of e0-0 p3)" UP "e0-0's other up port with p2 down"
ft_link_up e0-0 p2
t_assert_wait 5 "a0-0 p0 not up again after ft_link_up" '[ "$(state_of a0-0 p0) $(state_of e0-0 p2)" = "UP UP" ]'

# ft_start_switchd: no SWITCHD, a clear error; a stand-in runs in the switch's namespace.
out=$(unset SWITCHD; ft_start_switchd e0-1 2>&1) && t_fail "ft_start_switchd ran without SWITCHD"
grep -q 'SWITCHD is not set' <<<"$out" || t_fail "ft_start_switchd without SWITCHD: $out"
out=$(SWITCHD=/nonexistent ft_start_switchd e0-1 2>&1) && t_fail "ft_start_switchd ran a missing SWITCHD"
out=$(SWITCHD=/bin/true ft_start_switchd h0-0-0 2>&1) && t_fail "ft_start_switchd ran on a host"
lab_tmpdir
cat >"$LAB_TMP/fake-switchd" <<'EOF'
#!/bin/sh
echo "args: $*"
ip -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//'
exec sleep 30
EOF
chmod +x "$LAB_TMP/fake-switchd"
SWITCHD=$LAB_TMP/fake-switchd
ft_start_switchd a1-0 --id a1-0
pid=${FT_SWITCHD_PID[a1-0]}
t_assert_wait 5 "the switchd stand-in wrote no log" "grep -q '^ctl0$' '$FT_LAST_LOG'"
t_assert_eq "$(sed -n 1p "$FT_LAST_LOG")" "args: --id a1-0" "switchd arguments"
t_assert_eq "$(sed 1d "$FT_LAST_LOG" | sort | tr '\n' ' ')" "ctl0 lo p0 p1 p2 p3 " "interfaces switchd sees"
t_assert_eq "$(stat -L -c %i "/proc/$pid/ns/net")" "$(stat -L -c %i "/run/netns/${P}a1-0")" "switchd's namespace"
ft_stop_switchd a1-0
lab_alive "$pid" && t_fail "switchd stand-in still running after ft_stop_switchd"

# Certificates: one switchd identity per switch, from the lab's CA; fabricd in fm completes
# mutual TLS with each switch over its ctl0.
ft_pki
for sw in $(ft_switches); do
    openssl verify -CAfile "$FT_PKI/ca.pem" "$FT_PKI/switchd-$sw.pem" >/dev/null 2>&1 || t_fail "switchd-$sw.pem does not verify"
    t_assert_eq "$(openssl x509 -in "$FT_PKI/switchd-$sw.pem" -noout -ext subjectAltName | sed -n 2p | tr -d ' ')" \
        "URI:urn:l2fabric:switchd:$sw" "switchd-$sw SAN"
done
FABRICD=$T_BUILD/fabricd/fabricd
if [ -x "$FABRICD" ] && [ -x "$FABRICCTL" ]; then
    sock=$LAB_TMP/fabricd.sock
    # shellcheck disable=SC2046  # ft_tls prints options
    ft_start fm fabricd "$FABRICD" -f -l "$FT_FM4:$FT_FM_PORT" $(ft_tls fabricd fm) -s "$sock" -S "$LAB_TMP/fabricd.store" -i fm
    t_assert_wait 5 "fabricd did not start in fm" test -S "$sock"
    refused() { "$FABRICCTL" -s "$sock" status --json | jq -r '.counters["refused.tls_failed"]'; }
    t_assert_eq "$(refused)" 0 "fabricd TLS failures before the switches connect"
    for sw in $(ft_switches); do
        # shellcheck disable=SC2046
        lab_exec "$sw" timeout 5 openssl s_client -connect "$FT_FM4:$FT_FM_PORT" -CAfile "$FT_PKI/ca.pem" \
            -cert "$FT_PKI/switchd-$sw.pem" -key "$FT_PKI/switchd-$sw.key" -verify_return_error -brief \
            </dev/null >/dev/null 2>&1 || t_fail "$sw: no TLS session with fabricd"
    done
    t_assert_eq "$(refused)" 0 "fabricd TLS failures with the switches' certificates"
    lab_exec e0-0 timeout 5 openssl s_client -connect "$FT_FM4:$FT_FM_PORT" -CAfile "$FT_PKI/ca.pem" -brief \
        </dev/null >/dev/null 2>&1
    t_assert_wait 5 "fabricd did not count a client without a certificate" '[ "$(refused)" = 1 ]'
else
    t_log "fabricd or fabricctl not built: TLS over the control network not checked"
fi

# ft_bpffs: the switches' pins on a bpffs of the run's own, which ft_teardown unmounts.
bpffs=
if ft_bpffs; then
    bpffs=$FT_BPFFS
    t_assert_eq "$(findmnt -n -o FSTYPE "$bpffs")" bpf "ft_bpffs's mount on $bpffs"
else
    t_log "no bpffs can be mounted here: ft_bpffs not checked"
fi

ft_teardown
t_assert_eq "$(ours "$P" | grep -c .)" 0 "namespaces left by ft_teardown (k=4)"
[ -z "$bpffs" ] || ! findmnt -n "$bpffs" >/dev/null || t_fail "ft_teardown left the bpffs on $bpffs mounted"

# --- k=6 --------------------------------------------------------------------------------------
ft_build 6
t_log "k=6 built in ${FT_BUILD_MS} ms ($FT_BUILD_TIMES)"
check_tree 6
ft_teardown
t_assert_eq "$(ours "$P" | grep -c .)" 0 "namespaces left by ft_teardown (k=6)"

# --- the standalone lab leaves nothing behind ---------------------------------------------------
sub=${P}s-
LAB_PREFIX=$sub "$T_ROOT/lab/fattree.sh" 4 >"$LAB_TMP/standalone.log" 2>&1 || t_fail "lab/fattree.sh 4 failed: $(cat "$LAB_TMP/standalone.log")"
grep -q 'fm reaches the ctl0 of all 20 switches' "$LAB_TMP/standalone.log" || t_fail "lab/fattree.sh: $(cat "$LAB_TMP/standalone.log")"
t_assert_eq "$(ours "$sub" | grep -c .)" 0 "namespaces left by lab/fattree.sh"
sub=${P}t-
LAB_PREFIX=$sub "$T_ROOT/lab/fattree.sh" 4 --hold 60 >"$LAB_TMP/hold.log" 2>&1 &
pid=$!
lab_track_pid $pid
t_assert_wait 20 "lab/fattree.sh --hold did not build its namespaces" grep -q holding "$LAB_TMP/hold.log"
t_assert_eq "$(ours "$sub" | grep -c .)" 38 "namespaces of a k=4 tree (20 + 16 + fm + ctl)"
kill -TERM $pid
t_assert_wait 10 "lab/fattree.sh did not stop on SIGTERM" t_exited $pid
t_assert_eq "$(ours "$sub" | grep -c .)" 0 "namespaces left by lab/fattree.sh after SIGTERM"
t_pass
