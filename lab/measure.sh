# lab/measure.sh — outage measurement shared by the demo and the benchmarks (sourced, bash).
#
#   measure_ping_start NS TARGET COUNT   probe TARGET from NS every 1 ms with fping, COUNT
#                                        probes (it stops by itself after ~COUNT ms)
#   measure_ping_wait                    wait for it (bounded) and print the outage in ms: the
#                                        longest gap between consecutive replies, less the
#                                        1 ms probe interval; -1 if no reply came back at all
#   measure_replied_after LOG MS         true when LOG holds a reply stamped after MS (epoch
#                                        ms): the target recovered, so the gap is meaningful
# Requires lab/lib.sh (lab_bg, lab_tmpdir).

# fping -D prints a reply as "[EPOCH.SECONDS] TARGET : [SEQ], 64 bytes, RTT ms (...)".
MEASURE_REPLY=' bytes, '

measure_ping_start() {
    local ns=$1 target=$2 count=$3 fam=-4
    [[ $target == *:* ]] && fam=-6
    lab_tmpdir
    MEASURE_LOG=$(mktemp -p "$LAB_TMP" ping.XXXXXX)
    # fping, not iputils ping: ping holds its next probe back up to 10 ms while a reply is
    # outstanding, so during an outage it probes every ~10 ms and blurs a 30 ms outage by
    # that much; fping keeps its 1 ms period (-p 1) whatever comes back. -D: a timestamp on
    # every reply.
    lab_bg "$ns" "$MEASURE_LOG" fping "$fam" -D -i 1 -p 1 -t 500 -c "$count" "$target"
    MEASURE_PID=$LAB_LAST_PID
    MEASURE_COUNT=$count
}

measure_ping_wait() {
    local deadline=$(( $(date +%s) + MEASURE_COUNT / 1000 + 10 ))
    while kill -0 "$MEASURE_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
        sleep 0.05
    done
    kill "$MEASURE_PID" 2>/dev/null
    awk '$0 ~ MEASURE_REPLY { gsub(/[][]/, "", $1); t = $1 * 1000;
                        if (n++ && t - prev > gap) gap = t - prev; prev = t }
         END { if (!n) print -1; else printf "%.1f\n", (gap > 1 ? gap - 1 : 0) }' \
        MEASURE_REPLY="$MEASURE_REPLY" "$MEASURE_LOG"
}

measure_replied_after() {
    awk -v cut="$2" '$0 ~ MEASURE_REPLY { gsub(/[][]/, "", $1); if ($1 * 1000 > cut) { ok = 1; exit } }
                     END { exit !ok }' MEASURE_REPLY="$MEASURE_REPLY" "$1"
}
