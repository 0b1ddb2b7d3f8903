#!/usr/bin/env bash
# test_fabricd_store.sh — fabricd's store (the journal, docs/journal.md) as the API's clients
# and an operator see it; fabricd alone in one namespace, apiload (tests/tools) as the client:
#  - kill -9 in the middle of a burst of 2000 adds (16 in flight), 5 rounds on one store, the
#    kill after a random number of acks: after each restart every port ever acked is listed,
#    and nothing is listed that was neither acked nor in flight; a burst is made durable by
#    far fewer fdatasyncs than it has changes (group commit: store.syncs against the changes);
#  - a full disk (a 64 KiB tmpfs in a private mount namespace): the changes that do not fit
#    are refused with "No space left on device" (store.refused_nospace counts them), and after
#    a restart exactly the acked ports are there;
#  - damaged journals (from one of 100 ports): a torn last record is cut (99 ports); a flipped
#    byte in an early record stops fabricd (exit 1, the file and the offset named), and
#    --recover keeps the ports before it, a copy of the original and says what it dropped; an
#    empty file is not a journal (exit 1), and --recover starts empty;
#  - bad ports at the API: fabricctl refuses them (exit 2, the value named), fabricd refuses
#    the all-zero MAC itself (apiload --bad-mac), and the port list does not change;
#  - a store of the format before the journal (a Reply message) is imported at start, kept as
#    PATH.v0, and its ports are listed, also after another restart.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd jq unshare nsenter mount comm cmp
[ -x "$T_PYTHON" ] || t_skip "no $T_PYTHON"
[ -z "${L2F_BUILD_FAILED:-}" ] || t_skip "the build failed; not testing a stale fabricd"
FABRICD=$T_BUILD/fabricd/fabricd APILOAD=$T_BUILD/tests/tools/apiload
for b in "$FABRICD" "$APILOAD" "$FABRICCTL"; do [ -x "$b" ] || t_skip "$b not built"; done

lab_tmpdir
lab_ns_add fm
D=$LAB_TMP
# apiload runs straight under ip netns exec, not through a shell function: a redirection of a
# function's output would also catch bash's report of the fabricd that apiload killed.
FM=$(lab_ns fm)
SOCK=$D/fabricd.sock
CTL=("$FABRICCTL" -s "$SOCK")
FD_PID=
FD_WRAP=()   # a command fabricd runs under (nsenter into the tmpfs's mount namespace)

# A pid that has exited is forgotten, so that the cleanup never signals a reused one.
forget_pid() {
    local p keep=()
    for p in "${LAB_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    LAB_PIDS=("${keep[@]}")
}

fd_ready() { lab_alive "$FD_PID" && "${CTL[@]}" status >/dev/null 2>&1; }

# fd_start TAG STORE [OPTION...]: fabricd in fm, log fabricd-TAG.log; waits until it answers.
fd_start() {
    local tag=$1 store=$2; shift 2
    rm -f -- "$SOCK"
    lab_bg fm "$D/fabricd-$tag.log" "${FD_WRAP[@]}" "$FABRICD" -f -s "$SOCK" -S "$store" -i fm "$@"
    FD_PID=$LAB_LAST_PID
    lab_wait_for 5 fd_ready || {
        lab_alive "$FD_PID" || t_fail "fabricd ($tag) exited at start: $(tail -n 3 "$D/fabricd-$tag.log")"
        t_fail "fabricd ($tag) does not answer after 5 s"
    }
}

# fd_reap: fabricd exits within 5 s (else it is killed and the test fails); its exit code.
fd_reap() {
    local rc
    lab_wait_for 5 t_exited "$FD_PID" || { kill -KILL "$FD_PID"; wait "$FD_PID"; t_fail "fabricd did not exit within 5 s ($1)"; }
    wait "$FD_PID" 2>/dev/null; rc=$?   # no "Killed" report
    forget_pid "$FD_PID"
    return $rc
}

fd_stop() {
    kill -TERM "$FD_PID" 2>/dev/null
    fd_reap "after SIGTERM" || t_fail "fabricd exited $? after SIGTERM"
}

# fd_must_fail TAG STORE [OPTION...]: fabricd refuses to start: its exit code in FD_RC.
fd_must_fail() {
    local tag=$1 store=$2; shift 2
    rm -f -- "$SOCK"
    lab_bg fm "$D/fabricd-$tag.log" "${FD_WRAP[@]}" "$FABRICD" -f -s "$SOCK" -S "$store" -i fm "$@"
    FD_PID=$LAB_LAST_PID
    fd_reap "it should have refused the store ($tag)"
    FD_RC=$?
}

ports() { "${CTL[@]}" port list --json | jq -r '.[].mac' | sort; }
counter() { "${CTL[@]}" status --json | jq -r --arg c "$1" '.counters[$c]'; }
# summary FILE FIELD: a field of apiload's summary line ("sent N acked N errors N ...").
summary() { grep '^sent ' "$1" | awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'; }
# apiload's MACs of ports FIRST..LAST with prefix PP, as it forms them (02:PP:<32-bit index>).
macs_of() { awk -v p="$1" -v a="$2" -v b="$3" 'BEGIN { for (i = a; i <= b; i++)
    printf "02:%s:%02x:%02x:%02x:%02x\n", p, int(i / 16777216) % 256, int(i / 65536) % 256, int(i / 256) % 256, i % 256 }'; }

# --- kill -9 in the middle of bursts ---------------------------------------------------------
STORE=$D/kill.store
fd_start k0 "$STORE"
: >"$D/acked.all"; : >"$D/sent.all"
inflight_all=0
for r in 1 2 3 4 5; do
    k=$((200 + RANDOM % 1601)) pp=$(printf '%02x' $((0x10 + r)))
    out=$D/kill-$r.out err=$D/kill-$r.err
    ip netns exec "$FM" "$APILOAD" -s "$SOCK" -n 2000 -p 16 -P "$pp" --kill-after "$k:$FD_PID" -t 60 >"$out" 2>"$err"
    rc=$?
    fd_reap "SIGKILL, round $r" && t_fail "round $r: fabricd was not killed: $(cat "$err")"
    [ "$rc" = 1 ] || t_fail "round $r: apiload exited $rc, not 1 (fabricd gone before every reply): $(cat "$err")"
    sent=$(summary "$err" sent) acked=$(summary "$err" acked)
    t_log "round $r: SIGKILL after $k acks: $(grep '^sent ' "$err")"
    t_assert_eq "$(summary "$err" errors)" 0 "round $r: error replies"
    t_assert_eq "$(grep -c '^ack ' "$out")" "$acked" "round $r: ack lines against apiload's summary"
    [ "$acked" -ge "$k" ] && [ "$acked" -lt 2000 ] && [ "$sent" -gt "$acked" ] ||
        t_fail "round $r: not killed in the middle of the burst (kill after $k acks; sent $sent, acked $acked)"
    awk '$1 == "ack" { print $2 }' "$out" >>"$D/acked.all"
    macs_of "$pp" 0 $((sent - 1)) >>"$D/sent.all"
    inflight_all=$((inflight_all + sent - acked))

    fd_start k$r "$STORE"
    ports >"$D/listed"
    sort -o "$D/acked.all" "$D/acked.all"; sort -o "$D/sent.all" "$D/sent.all"
    lost=$(comm -23 "$D/acked.all" "$D/listed")
    [ -z "$lost" ] || t_fail "round $r: acked ports missing after the restart: $(grep -c . <<<"$lost"), first $(head -n 1 <<<"$lost")"
    alien=$(comm -13 "$D/sent.all" "$D/listed")
    [ -z "$alien" ] || t_fail "round $r: ports listed that were never sent: $(head -n 3 <<<"$alien")"
    n=$(grep -c . "$D/listed") nacked=$(grep -c . "$D/acked.all")
    t_log "round $r: $n ports listed after the restart; acked so far $nacked, in flight at the kills $inflight_all"
    [ "$n" -ge "$nacked" ] && [ "$n" -le $((nacked + inflight_all)) ] ||
        t_fail "round $r: $n ports listed, want $nacked (acked) to $((nacked + inflight_all)) (+ in flight)"
done
# Group commit: a burst on the fabricd just restarted (whose counters start at 0) takes far
# fewer fdatasyncs than changes. store.seq_durable counts this fabricd's durable changes.
ip netns exec "$FM" "$APILOAD" -s "$SOCK" -n 2000 -p 16 -P 1f -q -t 60 2>"$D/burst.err" ||
    t_fail "a burst without a kill failed: $(cat "$D/burst.err")"
syncs=$(counter store.syncs) durable=$(counter store.seq_durable) records=$(counter store.records)
t_log "group commit: 2000 adds: store.syncs $syncs, store.seq_durable $durable, store.records $records, store.sync_records_max $(counter store.sync_records_max)"
t_assert_eq "$durable" 2000 "store.seq_durable after a burst of 2000 adds on a fresh fabricd"
[ "$syncs" -gt 0 ] && [ "$syncs" -lt "$durable" ] || t_fail "store.syncs $syncs: not fewer than the $durable durable changes (no group commit)"
[ "$syncs" -lt "$records" ] || t_fail "store.syncs $syncs not below store.records $records"
fd_stop

# --- a full disk ------------------------------------------------------------------------------
# A 64 KiB tmpfs in a mount namespace of its own (private: nothing outside sees the mount),
# held by a sleep; fabricd, apiload and fabricctl run inside it (nsenter), the socket and the
# logs stay in the lab's temp dir.
SMALL=$D/small
mkdir "$SMALL"
lab_bg fm "$D/mountns.log" unshare -m --propagation private -- sh -c \
    'mount -t tmpfs -o size=64k,mode=0700 l2f-small "$1" && echo mounted && exec sleep 300' sh "$SMALL"
HOLDER=$LAB_LAST_PID
t_assert_wait 5 "no 64 KiB tmpfs in a private mount namespace: $(cat "$D/mountns.log")" grep -q mounted "$D/mountns.log"
IN_MNT=(nsenter -t "$HOLDER" -m --)
findmnt -n "$SMALL" >/dev/null && t_fail "the tmpfs mount is visible outside its mount namespace"
t_log "tmpfs: $("${IN_MNT[@]}" df -k --output=size,fstype "$SMALL" | tail -n 1)"
FD_WRAP=("${IN_MNT[@]}")
fd_start ns1 "$SMALL/fabricd.store"
ip netns exec "$FM" "${IN_MNT[@]}" "$APILOAD" -s "$SOCK" -n 4000 -p 16 -P 30 -t 60 >"$D/full.out" 2>"$D/full.err" ||
    t_fail "apiload on the full disk did not get every reply: $(cat "$D/full.err")"
t_log "full disk: $(tail -n 1 "$D/full.err")"
nospace=$(grep -c '^err .*No space left on device' "$D/full.out")
[ "$nospace" -gt 0 ] || t_fail "no error reply names 'No space left on device': $(grep -m 3 '^err' "$D/full.out")"
t_assert_eq "$(grep -c '^err' "$D/full.out")" "$nospace" "error replies that are not about the full disk"
acked=$(grep -c '^ack' "$D/full.out")
[ "$acked" -gt 0 ] || t_fail "nothing fit on the 64 KiB store"
refused=$(counter store.refused_nospace)
t_log "full disk: $acked acked, $nospace refused; store.refused_nospace $refused"
[ "$refused" -gt 0 ] || t_fail "store.refused_nospace is $refused after $nospace refusals"
awk '$1 == "ack" { print $2 }' "$D/full.out" | sort >"$D/full.acked"
# A refused change is not applied either: the running fabricd lists the acked ports only.
ports >"$D/full.listed"
cmp -s "$D/full.acked" "$D/full.listed" || t_fail "on the full disk the ports listed are not the acked ones: $(diff "$D/full.acked" "$D/full.listed" | head -n 5)"
fd_stop
fd_start ns2 "$SMALL/fabricd.store"
ports >"$D/full.listed"
cmp -s "$D/full.acked" "$D/full.listed" || t_fail "after a restart on the full disk the ports are not the acked ones: $(diff "$D/full.acked" "$D/full.listed" | head -n 5)"
fd_stop
FD_WRAP=()
lab_kill_pids "$HOLDER"; forget_pid "$HOLDER"

# --- damaged journals ---------------------------------------------------------------------------
J=$D/j100.store
fd_start j0 "$J"
ip netns exec "$FM" "$APILOAD" -s "$SOCK" -n 100 -P 40 -q -t 30 2>"$D/j100.err" || t_fail "100 adds: $(cat "$D/j100.err")"
fd_stop
# One line per record after the header: "index offset length kind" (the StoreRecord's first
# field: 1 port_set, 2 port_del, 3 host_set, 4 host_del).
"$T_PYTHON" - "$J" >"$D/j100.records" <<'PY' || t_fail "cannot read the journal's records"
import struct, sys
data = open(sys.argv[1], "rb").read()
off = 8 + struct.unpack(">I", data[:4])[0]
kinds = {0x0a: "port_set", 0x12: "port_del", 0x1a: "host_set", 0x22: "host_del"}
i = 0
while off + 8 <= len(data):
    n = struct.unpack(">I", data[off:off + 4])[0]
    if n == 0 or off + 8 + n > len(data):
        sys.exit("record %d at %d: length %d" % (i, off, n))
    print(i, off, n, kinds.get(data[off + 8], "?"))
    off += 8 + n
    i += 1
if off != len(data):
    sys.exit("%d bytes after the last record" % (len(data) - off))
PY
t_assert_eq "$(awk '$4 == "port_set"' "$D/j100.records" | grep -c .) $(grep -c . "$D/j100.records")" "100 100" \
    "records of the journal of 100 adds (port_set, all)"

# Torn: cut in the middle of the last record.
read -r _ off len _ < <(tail -n 1 "$D/j100.records")
cp "$J" "$D/torn.store"
truncate -s $((off + 8 + len / 2)) "$D/torn.store"
fd_start torn "$D/torn.store"
t_assert_eq "$(ports | grep -c .)" 99 "ports from a journal whose last record is torn"
grep -q "cut a torn tail of $((8 + len / 2)) bytes at offset $off" "$D/fabricd-torn.log" ||
    t_fail "fabricd's log does not say the torn tail was cut: $(grep store "$D/fabricd-torn.log")"
fd_stop

# A flipped byte in the payload of the 10th record.
read -r _ off len _ < <(sed -n 10p "$D/j100.records")
cp "$J" "$D/flip.store"
"$T_PYTHON" - "$D/flip.store" $((off + 8 + len / 2)) <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x40]))
PY
fd_must_fail flip "$D/flip.store"
t_assert_eq "$FD_RC" 1 "fabricd's exit code on a journal with a flipped byte"
grep -qF "$D/flip.store: offset $off: record checksum mismatch" "$D/fabricd-flip.log" ||
    t_fail "fabricd's stderr does not name the file and offset $off: $(cat "$D/fabricd-flip.log")"
cp "$D/flip.store" "$D/flip.orig"
fd_start flip-recover "$D/flip.store" --recover
t_assert_eq "$(ports)" "$(macs_of 40 0 8)" "ports kept by --recover (those before the damaged 10th record)"
copies=("$D"/flip.store.corrupt.*)
[ -f "${copies[0]}" ] && [ ${#copies[@]} = 1 ] || t_fail "--recover left no PATH.corrupt.* copy: $(ls "$D")"
cmp -s "${copies[0]}" "$D/flip.orig" || t_fail "${copies[0]} is not the damaged journal as it was"
grep -q "RECOVERED from corruption at offset $off (record checksum mismatch): dropped 91 records" "$D/fabricd-flip-recover.log" ||
    t_fail "fabricd's log does not say it dropped the 91 records from the damaged one: $(grep store "$D/fabricd-flip-recover.log")"
fd_stop

# An empty file.
: >"$D/empty.store"
fd_must_fail empty "$D/empty.store"
t_assert_eq "$FD_RC" 1 "fabricd's exit code on an empty store file"
grep -qF "$D/empty.store: offset 0: not a journal: empty file" "$D/fabricd-empty.log" ||
    t_fail "fabricd's stderr does not say the empty file is not a journal: $(cat "$D/fabricd-empty.log")"
fd_start empty-recover "$D/empty.store" --recover
t_assert_eq "$(ports | grep -c .)" 0 "ports after --recover of an empty store file"
fd_stop

# --- bad ports at the API -----------------------------------------------------------------------
fd_start bad "$D/bad.store"
ip netns exec "$FM" "$APILOAD" -s "$SOCK" -n 10 -P 50 -q 2>"$D/bad10.err" || t_fail "10 adds: $(cat "$D/bad10.err")"
before=$("${CTL[@]}" port list --json | jq -S 'sort_by(.vni, .mac)')
t_assert_eq "$(jq length <<<"$before")" 10 "ports before the bad ones"
bad_add() {   # bad_add OPTION VALUE: fabricctl refuses it, exit 2, naming the value
    local mac=02:50:00:00:01:00 ip=198.19.50.1 out rc
    case $1 in --mac) mac=$2 ;; --ip) ip=$2 ;; esac
    out=$("${CTL[@]}" port add --vni 100 --mac "$mac" --host hv1 --ip "$ip" 2>&1); rc=$?
    t_assert_eq "$rc" 2 "fabricctl port add $1 $2: exit code ($out)"
    grep -qF -- "$1 $2:" <<<"$out" || t_fail "fabricctl port add $1 $2: the message does not name it: $out"
}
for m in 00:00:00:00:00:00 ff:ff:ff:ff:ff:ff 01:00:5e:00:00:01; do bad_add --mac $m; done
for a in 0.0.0.0 255.255.255.255 224.0.0.5 :: ff02::1 127.0.0.1; do bad_add --ip $a; done
out=$(ip netns exec "$FM" "$APILOAD" -s "$SOCK" --bad-mac 2>"$D/badmac.err") || t_fail "apiload --bad-mac got no reply: $(cat "$D/badmac.err")"
t_log "fabricd on the all-zero MAC: $out"
case $out in "err 00:00:00:00:00:00 "*all-zero*) ;; *) t_fail "fabricd did not refuse the all-zero MAC: '$out'" ;; esac
t_assert_eq "$("${CTL[@]}" port list --json | jq -S 'sort_by(.vni, .mac)')" "$before" "the port list after the bad ports"
fd_stop

# --- a store of the format before the journal ------------------------------------------------
# One l2f.Reply (fabric.proto) with hosts and ports, as the old store.c wrote it, encoded by
# hand: a port with two addresses, an HA port in flood mode, a port on a host without a VTEP.
"$T_PYTHON" - "$D/v0.store" <<'PY' || t_fail "cannot write an old-format store"
import ipaddress, sys
def varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out
def num(f, v): return varint(f << 3) + varint(v)
def blob(f, b):
    b = b.encode() if isinstance(b, str) else b
    return varint(f << 3 | 2) + varint(len(b)) + b
def mac(s): return bytes.fromhex(s.replace(":", ""))
def ip(s): return ipaddress.ip_address(s).packed
def host(hid, vtep=None, vnis=()):
    return blob(1, hid) + (blob(2, ip(vtep)) if vtep else b"") + b"".join(num(4, v) for v in vnis)
def port(name, vni, m, ips, hosts, mode=0):
    return (blob(1, name) + num(2, vni) + blob(3, mac(m)) + b"".join(blob(4, ip(a)) for a in ips)
            + b"".join(blob(5, h) for h in hosts) + num(6, mode))
reply = (blob(3, host("hvA", "198.18.0.11", (100, 200))) + blob(3, host("hvB", "198.18.0.12", (100,)))
         + blob(3, host("hvC"))
         + blob(2, port("old1", 100, "02:60:00:00:00:01", ["198.19.60.1", "2001:db8:60::1"], ["hvA"]))
         + blob(2, port("oldha", 100, "02:60:00:00:00:02", ["198.19.60.2"], ["hvA", "hvB"], mode=1))
         + blob(2, port("old3", 200, "02:60:00:00:00:03", [], ["hvC"])))
open(sys.argv[1], "wb").write(reply)
PY
cp "$D/v0.store" "$D/v0.orig"
want='[{"vni":100,"mac":"02:60:00:00:00:01","name":"old1","ips":["198.19.60.1","2001:db8:60::1"],"hosts":["hvA"],"mode":null},{"vni":100,"mac":"02:60:00:00:00:02","name":"oldha","ips":["198.19.60.2"],"hosts":["hvA","hvB"],"mode":"flood"},{"vni":200,"mac":"02:60:00:00:00:03","name":"old3","ips":[],"hosts":["hvC"],"mode":null}]'
v0_ports() { "${CTL[@]}" port list --json | jq -c 'sort_by(.vni, .mac) | map({vni, mac, name, ips, hosts, mode})'; }
fd_start v0 "$D/v0.store"
grep -q "imported an old-format store" "$D/fabricd-v0.log" || t_fail "fabricd did not say it imported the old store: $(grep store "$D/fabricd-v0.log")"
cmp -s "$D/v0.store.v0" "$D/v0.orig" || t_fail "the old store is not kept as PATH.v0"
t_assert_eq "$(v0_ports)" "$want" "ports imported from the old-format store"
fd_stop
[ "$(head -c 15 "$D/v0.store" | tail -c 7)" = l2fjrnl ] || t_fail "the store is not a journal after the import"
fd_start v0-again "$D/v0.store"
grep -q "imported" "$D/fabricd-v0-again.log" && t_fail "the journal written by the import was imported again"
t_assert_eq "$(v0_ports)" "$want" "ports of the imported store after another restart"
fd_stop
t_pass
