#!/bin/sh
# Captures the kill-switch fixtures from the real nftables of this machine: every CASE.nft (and
# CASE.sh, commands such as iptables-nft or iptables-legacy) is loaded into a scratch network
# namespace on top of qubes-base.nft (unless its first line is "# alone"), then dumped with
# `nft -j list ruleset` into CASE.json and, where legacy tables were made, with
# `iptables-legacy-save` into CASE.legacy. Needs root, nftables, iptables.
set -eu
cd "$(dirname "$0")"
for src in *.nft *.sh; do
  case $src in qubes-base.nft|qubes-base6.nft|make-fixtures.sh) continue ;; esac
  name=${src%.*}
  ns=netmap-ksfix-$$
  ip netns add "$ns"
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  if [ "$(head -n 1 "$src")" != '# alone' ]; then ip netns exec "$ns" nft -f qubes-base.nft; fi
  case $src in
    *.nft) ip netns exec "$ns" nft -f "$src" ;;
    *.sh) ip netns exec "$ns" sh "$src" ;;
  esac
  ip netns exec "$ns" nft -j list ruleset > "$name.json"
  rm -f "$name.legacy"
  if command -v iptables-legacy-save >/dev/null; then
    out=$(ip netns exec "$ns" iptables-legacy-save 2>/dev/null || true)
    if [ -n "$out" ]; then printf '%s\n' "$out" | grep -v '^#' > "$name.legacy"; fi
  fi
  ip netns del "$ns"
  trap - EXIT
  echo "$name"
done
