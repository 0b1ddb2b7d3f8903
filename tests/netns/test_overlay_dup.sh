#!/usr/bin/env bash
# test_overlay_dup.sh — duplicate MAC detection (RFC 7432 15.1) as the other hypervisors see it.
# fabricd runs with --dup-moves 3 --dup-window 60: a MAC moving more than 3 times within 60 s
# is a duplicate, frozen where it was.
#  - vm1a migrates hv1 -> hv2 -> hv1 -> hv2 (3 moves): every move is followed; the 4th (back
#    to hv1) is one too many: `fabricctl port list` flags the MAC duplicate and keeps it at
#    hv2, and hv3 (fabricctl fdb hv3 and hv3's kernel FDB) still sends it to hv2's VTEP, not
#    to hv1's;
#  - vm3a migrates exactly 3 times (hv3 -> hv1 -> hv3 -> hv1): not flagged, and hv2 sends it
#    to its newest host.
# Migrations (lab/overlay.sh ov_migrate: the VM's port moves, then it sends a GARP and an
# unsolicited NA) are what makes a MAC move here: deterministic, and what an orchestrator's
# live migration looks like to the hypervisors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/overlay_lib.sh"
t_require_root
t_require_cmd tshark tcpdump fping jq

OV_FABRICD_OPTS=(--dup-moves 3 --dup-window 60)

ov_build 3
ov_fabric_up

# port_field MAC JQ_EXPR: one field of MAC's entry in `fabricctl port list --json`.
port_field() {
    "${OV_CTL[@]}" port list --json | jq -c --arg m "$1" ".[] | select(.mac == \$m) | $2"
}
# fdb_dst HV MAC: the VTEP HV's vx100 sends MAC to.
fdb_dst() { ov_fdb "$1" 100 | awk -v m="$2" '$1 == m { print $2 }'; }
# ctl_dst HV MAC: the VTEP fabricd wants HV's agent to send MAC to.
ctl_dst() {
    "${OV_CTL[@]}" fdb "$1" --json |
        jq -r --arg m "$2" '.fdb[] | select(.vni == 100 and .mac == $m) | .vteps | join(",")'
}

# migrate VM HV WATCHER: moves VM to HV and waits until fabricd has it there and WATCHER's
# kernel sends its MAC to HV's VTEP.
migrate() {
    local vm=$1 to=$2 watcher=$3 mac
    mac=$(ov_vm_mac "$vm")
    ov_migrate "$vm" "$to"
    t_assert_wait 10 "fabricd did not follow $vm to $to" \
        '[ "$(port_field '"$mac"' .hosts)" = "[\"'"$to"'\"]" ]'
    t_assert_wait 5 "$watcher's kernel does not send $vm to $to" \
        '[ "$(fdb_dst '"$watcher $mac"')" = "'"$(ov_hv_ip4 "$to")"'" ]'
}

# A barrier on fabricd's deltas to HV: an API port added now reaches HV's kernel after every
# change fabricd sent HV before it (one session, in order).
barrier_n=0
barrier() {
    local hv=$1 mac
    barrier_n=$((barrier_n + 1))
    mac=$(printf '02:00:00:00:99:%02x' "$barrier_n")
    "${OV_CTL[@]}" port add --vni 100 --mac "$mac" --host hv1 --ip "198.19.100.$((200 + barrier_n))" \
        --name "barrier$barrier_n" >/dev/null || t_fail "port add $mac"
    t_assert_wait 5 "$hv never got the barrier port $mac" '[ -n "$(fdb_dst '"$hv $mac"')" ]'
}

hv1=$(ov_hv_ip4 hv1) hv2=$(ov_hv_ip4 hv2) hv3=$(ov_hv_ip4 hv3)
dup=$(ov_vm_mac vm1a) ok=$(ov_vm_mac vm3a)

# --- vm1a: 3 moves are followed, the 4th makes it a duplicate --------------------------------
migrate vm1a hv2 hv3
migrate vm1a hv1 hv3
migrate vm1a hv2 hv3
t_assert_eq "$(port_field "$dup" .duplicate)" false "$dup after 3 moves"
ov_migrate vm1a hv1
t_assert_wait 10 "$dup not flagged duplicate after its 4th move in 60 s" \
    '[ "$(port_field '"$dup"' .duplicate)" = true ]'
barrier hv3
t_log "after the 4th move: $(port_field "$dup" '{hosts, seq, duplicate}'), hv3 sends it to $(fdb_dst hv3 "$dup")"
t_assert_eq "$(port_field "$dup" .hosts)" '["hv2"]' "the duplicate's location in fabricd"
t_assert_eq "$(ctl_dst hv3 "$dup")" "$hv2" "fabricctl fdb hv3: the duplicate's VTEP"
t_assert_eq "$(fdb_dst hv3 "$dup")" "$hv2" "hv3's kernel: the duplicate's VTEP (frozen at hv2, not hv1)"
t_assert_eq "$(fdb_dst hv2 "$dup")" "" "hv2's kernel: no remote entry for the MAC fabricd places there"
# frozen: one more move is not followed either
ov_migrate vm1a hv2
ov_migrate vm1a hv3
barrier hv2
t_assert_eq "$(port_field "$dup" '[.hosts, .duplicate]')" '[["hv2"],true]' "the duplicate after more moves"
t_assert_eq "$(fdb_dst hv1 "$dup")" "$hv2" "hv1's kernel: the duplicate's VTEP after more moves"

# --- vm3a: exactly 3 moves, not a duplicate ----------------------------------------------------
migrate vm3a hv1 hv2
migrate vm3a hv3 hv2
migrate vm3a hv1 hv2
barrier hv2
t_assert_eq "$(port_field "$ok" .duplicate)" false "$ok after 3 moves in 60 s"
t_assert_eq "$(port_field "$ok" .hosts)" '["hv1"]' "$ok's location in fabricd"
t_assert_eq "$(fdb_dst hv2 "$ok")" "$hv1" "hv2's kernel: $ok's VTEP"
t_assert_eq "$(fdb_dst hv3 "$ok")" "$hv1" "hv3's kernel: $ok's VTEP"
ov_ping vm2a "$(ov_vm_ip4 vm3a)" 3 || t_fail "vm2a cannot reach vm3a at its newest host"
# no other MAC was flagged
t_assert_eq "$("${OV_CTL[@]}" port list --json | jq -c '[.[] | select(.duplicate) | .mac]')" \
    "[\"$dup\"]" "MACs flagged duplicate"
t_pass
