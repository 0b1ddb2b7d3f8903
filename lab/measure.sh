# lab/measure.sh — outage measurement shared by the demo and the benchmarks (sourced, bash).
#
#   measure_ping_start NS TARGET COUNT   ping TARGET from NS every 1 ms, COUNT probes (so it
#                                        stops by itself after ~COUNT ms); log in MEASURE_LOG
#   measure_ping_wait                    wait for it (bounded) and print the outage in ms: the
#                                        longest gap between consecutive replies, less the
#                                        1 ms probe interval; -1 if no reply came back at all
# Requires lab/lib.sh (lab_bg, lab_tmpdir).

measure_ping_start() {
    local ns=$1 target=$2 count=$3 fam=-4
    [[ $target == *:* ]] && fam=-6
    lab_tmpdir
    MEASURE_LOG=$(mktemp -p "$LAB_TMP" ping.XXXXXX)
    # -D: a timestamp on every reply; -W 1: probes are not held back by missing replies.
    lab_bg "$ns" "$MEASURE_LOG" ping "$fam" -D -n -i 0.001 -W 1 -c "$count" "$target"
    MEASURE_PID=$LAB_LAST_PID
    MEASURE_COUNT=$count
}

measure_ping_wait() {
    local deadline=$(( $(date +%s) + MEASURE_COUNT / 1000 + 10 ))
    while kill -0 "$MEASURE_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
        sleep 0.05
    done
    kill "$MEASURE_PID" 2>/dev/null
    awk '/bytes from/ { gsub(/[][]/, "", $1); t = $1 * 1000;
                        if (n++ && t - prev > gap) gap = t - prev; prev = t }
         END { if (!n) print -1; else printf "%.1f\n", (gap > 1 ? gap - 1 : 0) }' "$MEASURE_LOG"
}
