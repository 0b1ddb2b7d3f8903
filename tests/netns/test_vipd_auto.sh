#!/usr/bin/env bash
# test_vipd_auto.sh — priority: auto spreads groups evenly: 3 nodes with the same 6 groups
# are master of 2 each (as the client sees it: which MAC answers for each VIP), and when one
# node's link is cut, its 2 groups go one to each of the other two.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_vipd
t_require_cmd arping jq

seg_build 3
lab_tmpdir
for n in n1 n2 n3; do
    {
        printf 'node: %s\ncontrol_socket: %s\nnodes: [n1, n2, n3]\ngroups:\n' "$n" "$LAB_TMP/$n.sock"
        for g in 1 2 3 4 5 6; do
            printf '  - { name: g%s, interface: eth0, vrid: %s, priority: auto, addresses: [198.51.100.%s] }\n' \
                "$g" $((60 + g)) $((60 + g))
        done
    } >"$LAB_TMP/$n.yaml"
done
for n in n1 n2 n3; do vipd_start "$n" "$LAB_TMP/$n.yaml"; done

owner_of() { # VIP -> node name of the MAC the client's ARP gets
    local mac
    mac=$(arp_mac cl eth0 "$1")
    case $mac in 02:00:00:00:00:1[1-3]) echo "n${mac: -1}" ;; *) echo "none($mac)" ;; esac
}
owners() { for g in 1 2 3 4 5 6; do owner_of 198.51.100.$((60 + g)); done; }
masters_agree() { # every group has exactly one master among the running daemons
    local g n count
    for g in 1 2 3 4 5 6; do
        count=0
        for n in "$@"; do
            [ "$(vip_state "${VIPD_SOCKET[$n]}" g$g ipv4)" = master ] && count=$((count + 1))
        done
        [ $count -eq 1 ] || return 1
    done
}
t_assert_wait 5 "not exactly one master per group" masters_agree n1 n2 n3
before=$(owners)
t_log "owners: $(echo $before)"
for n in n1 n2 n3; do
    t_assert_eq "$(grep -c "^$n$" <<<"$before")" 2 "groups whose VIP answers from $n"
done

victim=n2
seg_cut $victim
t_assert_wait 5 "groups of $victim not taken over" masters_agree n1 n3
sleep 0.2
after=$(owners)
t_log "owners after cutting $victim: $(echo $after)"
moved=$(paste <(echo "$before") <(echo "$after") | awk -v v=$victim '$1 == v { print $2 }' | sort | tr '\n' ' ')
t_assert_eq "$moved" "n1 n3 " "where $victim's 2 groups went"
unmoved=$(paste <(echo "$before") <(echo "$after") | awk -v v=$victim '$1 != v && $1 != $2' | wc -l)
t_assert_eq "$unmoved" 0 "groups of the other nodes that moved"
t_pass
