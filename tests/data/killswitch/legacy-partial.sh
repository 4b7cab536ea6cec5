# iptables-legacy: only TCP is dropped
iptables-legacy -A FORWARD -o eth0 -p tcp -j DROP
