#!/usr/bin/env bash
# scripts/deps.sh — install the Debian packages l2fabric builds and tests with, if missing.
# Idempotent: asks dpkg which are missing and runs apt-get (update + install) only for those.
set -euo pipefail

PACKAGES=(
    build-essential meson ninja-build pkg-config clang llvm libclang-rt-14-dev
    libevent-dev libmnl-dev libyaml-dev libcmocka-dev libcap-ng-dev libjson-c-dev libssl-dev openssl
    protobuf-c-compiler libprotobuf-c-dev
    iproute2 iputils-ping fping arping ndisc6 tshark python3-scapy keepalived stress-ng jq tcpdump
    procps psmisc libsystemd-dev scdoc mandoc prometheus curl
    libbpf-dev libelf-dev zlib1g-dev bpftool netsniff-ng
)

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [ "${status:0:2}" = ii ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: installing packages needs root: run as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer it beforehand so nothing waits.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
apt_opts=(-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef
          -o Dpkg::Options::=--force-confold)
apt-get "${apt_opts[@]}" update </dev/null
apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}" </dev/null
