# 2026-11-27 08:00:00 by RouterOS 7.20.6
# model = RB5009UG+S+
#
# wgboot-example: wan=ether1 lan=bridge
# A router with a global IPv6 address on its WAN and an IPv6 input chain
# that accepts everything but invalid: the API is reachable over IPv6 from
# the internet, so wgboot must close it in /ipv6 firewall filter as well.
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
add address=198.51.100.90/24 interface=ether1 network=198.51.100.0
/ipv6 address
add address=2001:db8:7::2/64 advertise=no interface=ether1
/ip firewall filter
add action=accept chain=input connection-state=established,related,untracked
add action=drop chain=input connection-state=invalid
add action=accept chain=input protocol=icmp
add action=drop chain=input in-interface-list=!LAN
/ipv6 firewall filter
add action=accept chain=input connection-state=established,related,untracked
add action=drop chain=input connection-state=invalid
add action=accept chain=input protocol=icmpv6
/ip route
add dst-address=0.0.0.0/0 gateway=198.51.100.1
/system identity
set name=ipv6-wan
