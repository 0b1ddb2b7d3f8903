#!/bin/sh
# etc/install-config.sh DIR FILE... — meson's install step for the example configurations:
# each FILE is copied into $DESTDIR/DIR unless a file of that name is there already, so that
# installing again never overwrites a configuration someone edited.
set -eu
dir=${DESTDIR:-}$1
shift
install -d -m 0755 "$dir"
for f in "$@"; do
    t=$dir/${f##*/}
    if [ -e "$t" ]; then
        echo "Keeping $t (it exists; the example is $f)"
    else
        install -m 0644 "$f" "$t"
        echo "Installing $f to $dir"
    fi
done
