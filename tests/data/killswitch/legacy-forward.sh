# iptables-legacy: FORWARD -o eth0 -j DROP in the legacy filter table
iptables-legacy -A FORWARD -o eth0 -j DROP
