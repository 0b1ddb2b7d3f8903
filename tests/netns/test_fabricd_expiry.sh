#!/usr/bin/env bash
# test_fabricd_expiry.sh — hosts fabricd knows only from Hellos are forgotten, so no peer can
# fill the host table for good (fabricd --host-expiry 2):
#  - a fourth agent (a real vtepd, hv9, in fm with a bridge of its own, on fabricd's Unix
#    socket) joins segment 100: every hypervisor's vx100 floods to its VTEP;
#  - it stops: once it has had no session for the expiry, fabricd forgets it (host list,
#    counter directory.hosts_expired) and every hypervisor's flood list drops its VTEP,
#    together with the MAC its agent had learned;
#  - a host that an API port names (hv3, its VMs) stays however long its agent is away.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd jq
OV_FABRICD_OPTS=(--host-expiry 2)
ov_build 3
ov_fabric_up

GHOST_VTEP=$OV_FM4
hosts() { "${OV_CTL[@]}" host --json | jq -r '.[].id' | sort | tr '\n' ' '; }
counter() { "${OV_CTL[@]}" status --json | jq -r --arg k "$1" '.counters[$k]'; }
floods_to() {   # HV VTEP: 1 when HV's vx100 flood list holds VTEP
    ov_fdb "$1" 100 | awk -v v="$2" '$1 == "00:00:00:00:00:00" && $2 == v { f = 1 } END { print f + 0 }'
}

# --- a ghost agent joins ----------------------------------------------------------------------
lab_exec fm ip link add name brx type bridge stp_state 0 forward_delay 0 mcast_snooping 0
lab_exec fm ip link set brx up
lab_bg fm "$LAB_TMP/vtepd-hv9.log" "$T_BUILD/vtepd/vtepd" -f -i hv9 -F "unix:$OV_FABRICD_SOCK" \
    -l "$GHOST_VTEP" -u eth0 -s 100:brx --control-socket "$LAB_TMP/vtepd-hv9.sock"
GHOST_PID=$LAB_LAST_PID
t_assert_wait 5 "hv9 did not connect" '[ "$("${OV_CTL[@]}" host --json | jq -r ".[] | select(.id == \"hv9\") | .connected")" = true ]'
for hv in hv1 hv2 hv3; do
    t_assert_wait 5 "$hv does not flood to hv9" '[ "$(floods_to '"$hv"' '"$GHOST_VTEP"')" = 1 ]'
done
# a MAC its agent learns (a "VM" port of brx) reaches the others
lab_exec fm ip link add ghostvm type veth peer name ghostvm-br
lab_exec fm ip link set ghostvm-br master brx up
lab_exec fm ip link set ghostvm address 02:00:64:00:09:0a up
GHOST_MAC=02:00:64:00:09:0a
lab_exec fm bridge fdb replace "$GHOST_MAC" dev ghostvm-br master static
t_assert_wait 5 "hv1 does not reach the ghost's MAC" \
    '[ "$(ov_fdb hv1 100 | awk -v m='"$GHOST_MAC"' '"'"'$1 == m { print $2 }'"'"')" = '"$GHOST_VTEP"' ]'

# --- it goes away: forgotten after the expiry -------------------------------------------------
lab_kill_pids "$GHOST_PID"
# hv3's agent away as long: hv3 is named by its VMs' API ports, so it stays
lab_kill_pids "${OV_VTEPD_PID[hv3]}"
t_assert_wait 10 "hv9 was never forgotten (hosts: $(hosts))" '! hosts | grep -qw hv9'
t_assert_eq "$(counter directory.hosts_expired)" 1 "hosts expired"
for hv in hv1 hv2; do
    t_assert_wait 5 "$hv still floods to the forgotten hv9" '[ "$(floods_to '"$hv"' '"$GHOST_VTEP"')" = 0 ]'
    t_assert_wait 5 "$hv still sends the ghost's MAC to hv9" \
        '[ -z "$(ov_fdb '"$hv"' 100 | awk -v m='"$GHOST_MAC"' '"'"'$1 == m'"'"')" ]'
done
t_assert_eq "$("${OV_CTL[@]}" port list --json | jq --arg m "$GHOST_MAC" '[.[] | select(.mac == $m)] | length')" 0 \
    "the ghost's learned MAC left in the directory"
sleep 1   # one more sweep: hv3 has been away longer than the expiry by now
hosts | grep -qw hv3 || t_fail "hv3 (named by API ports) was forgotten"
ov_vtepd_start hv3 2
t_assert_wait 10 "hv3's agent did not come back" ov_agents_connected
t_pass
