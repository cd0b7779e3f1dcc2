# 2026-11-27 08:00:00 by RouterOS 7.20.6
# model = RB5009UG+S+
#
# wgboot-example: wan=ether1 lan=bridge dynamic-address=ether1=198.51.100.77/24
# A router whose API is allowed by a rule that accepts only the API ports
# from the LAN subnet, placed after a drop of everything not from the LAN:
# wgboot must move that rule to its address list (the LAN subnet goes into
# the list) and above the drop, and leave SSH/WinBox/www alone.
/interface bridge
add name=bridge
/interface list
add name=WAN
add name=LAN
/interface bridge port
add bridge=bridge interface=ether2
add bridge=bridge interface=ether3
/interface list member
add interface=ether1 list=WAN
add interface=bridge list=LAN
/ip address
add address=192.168.88.1/24 interface=bridge network=192.168.88.0
/ip firewall filter
add action=accept chain=input connection-state=established,related,untracked
add action=drop chain=input connection-state=invalid
add action=accept chain=input protocol=icmp
add action=drop chain=input in-interface-list=!LAN
add action=accept chain=input comment="API from the LAN" dst-port=8728,8729 \
    protocol=tcp src-address=192.168.88.0/24
add action=accept chain=input dst-port=22,80,8291 in-interface-list=LAN \
    protocol=tcp
add action=drop chain=input
/ip route
add dst-address=0.0.0.0/0 gateway=198.51.100.1
/system identity
set name=lan-api-rule
