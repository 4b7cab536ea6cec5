#!/bin/sh
# Installs what the network lab needs (tests/lab/README.md lists the same packages).
# Debian/Ubuntu with apt-get, Fedora with dnf. Needs root (or sudo). Installs nothing that
# starts a service: dnsmasq-base on Debian is the binary without the system resolver unit.
set -eu

DEBIAN_PACKAGES="iproute2 nftables iptables openvpn dnsmasq-base curl bind9-dnsutils iputils-ping netcat-openbsd python3 python3-yaml util-linux procps openssl"
FEDORA_PACKAGES="iproute nftables iptables-nft iptables-legacy openvpn dnsmasq curl bind-utils iputils netcat python3 python3-pyyaml util-linux procps-ng openssl"

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

if command -v apt-get >/dev/null 2>&1; then
    missing=""
    for p in $DEBIAN_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -z "$missing" ]; then
        echo "lab dependencies already installed"
        exit 0
    fi
    echo "installing:$missing"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
elif command -v dnf >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    $SUDO dnf install -y -q $FEDORA_PACKAGES
else
    echo "install-deps.sh: neither apt-get nor dnf found; install by hand: $DEBIAN_PACKAGES" >&2
    exit 1
fi
