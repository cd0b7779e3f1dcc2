# 2026-12-07 08:00:00 by RouterOS 7.20.6
# model = RB5009UG+S+
#
# wgboot-example: wan=ether1 lan=bridge
# An allow-listed admin on the WAN: one rule accepts the API only from the
# admin's home address 203.0.113.99, the rest of the WAN is dropped. wgboot
# moves that rule to its address list (set by .id): a rollback must give
# it back its src-address, with or without the journal.
/interface bridge
add name=bridge
/interface list
add name=WAN
add name=LAN
/interface bridge port
add bridge=bridge interface=ether2
/interface list member
add interface=ether1 list=WAN
add interface=bridge list=LAN
/ip address
add address=192.168.88.1/24 interface=bridge network=192.168.88.0
add address=198.51.100.20/24 interface=ether1 network=198.51.100.0
/ip firewall filter
add action=accept chain=input connection-state=established,related,untracked
add action=drop chain=input connection-state=invalid
add action=accept chain=input protocol=icmp
add action=accept chain=input comment="API for the admin at home" dst-port=\
    8728,8729 protocol=tcp src-address=203.0.113.99
add action=accept chain=input comment="everything from the LAN" \
    in-interface-list=LAN
add action=drop chain=input comment="drop the rest"
/ip route
add dst-address=0.0.0.0/0 gateway=198.51.100.1
/system identity
set name=wan-admin
