#!/usr/bin/env bash
# tests/golden/run.sh DAEMON DIR — `DAEMON -n -c NAME.yaml [ARGS]` for every NAME.yaml in DIR
# (run from DIR, so messages name the file as NAME.yaml). ARGS: the first line of NAME.args,
# if there is one (flags over the file). With NAME.out, it must exit 0 and print exactly
# that; with NAME.err, exit 78 (EX_CONFIG) and say exactly that on stderr. Lists every
# mismatch; exits 1 if there was one. A normalized file (NAME.out, when no ARGS) must read
# back as itself.
set -u
bin=$(realpath "$1") dir=$2
cd "$dir" || exit 1
n=0 bad=0
for y in *.yaml; do
    name=${y%.yaml} args=()
    [ -f "$name.args" ] && read -r -a args < "$name.args"
    out=$(mktemp) err=$(mktemp)
    rc=0
    "$bin" -n -c "$y" "${args[@]}" >"$out" 2>"$err" || rc=$?
    n=$((n + 1))
    if [ -f "$name.out" ]; then
        if [ $rc -ne 0 ] || ! diff -u "$name.out" "$out"; then
            echo "FAIL $name: exit $rc (want 0); stderr: $(cat "$err")"; bad=$((bad + 1))
        elif [ ${#args[@]} -eq 0 ] && ! "$bin" -n -c "$name.out" 2>&1 | diff -u "$name.out" -; then
            echo "FAIL $name: the normalized file does not read back as itself"; bad=$((bad + 1))
        fi
    elif [ -f "$name.err" ]; then
        if [ $rc -ne 78 ] || ! diff -u "$name.err" <(sed "s|^$(basename "$bin"): ||" "$err"); then
            echo "FAIL $name: exit $rc (want 78)"; bad=$((bad + 1))
        fi
    else
        echo "FAIL $name: neither $name.out nor $name.err"; bad=$((bad + 1))
    fi
    rm -f "$out" "$err"
done
echo "$n files, $bad mismatched"
[ $bad -eq 0 ] && [ $n -gt 0 ]
