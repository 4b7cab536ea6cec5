# iptables-nft: FORWARD -o eth0 -j DROP (table ip filter, made by iptables-nft)
iptables-nft -A FORWARD -o eth0 -j DROP
