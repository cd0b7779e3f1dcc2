# 2026-11-02 16:03:18 by RouterOS 7.20.6
# software id = W2LB-6VQE
#
# model = RB5009UG+S+
# serial number = HE2066V6001
#
# wgboot-example: wan=ether1 lan=bridge
# Dual stack: ether1 has 203.0.113.50/24 and the global IPv6 address
# 2001:db8:50::2/64. The IPv4 input chain is the defconf one (the API is
# closed from the WAN over IPv4), but nobody wrote an IPv6 firewall: the
# /ipv6 firewall filter is empty, so the API answers over IPv6 from the
# internet.
/interface bridge
add admin-mac=48:8F:5A:88:99:01 auto-mac=no name=bridge
/interface list
add name=WAN
add name=LAN
/interface bridge port
add bridge=bridge interface=ether2
add bridge=bridge interface=ether3
add bridge=bridge interface=ether4
add bridge=bridge interface=ether5
/interface list member
add interface=bridge list=LAN
add interface=ether1 list=WAN
/ip address
add address=192.168.88.1/24 interface=bridge network=192.168.88.0
add address=203.0.113.50/24 interface=ether1 network=203.0.113.0
/ipv6 address
add address=2001:db8:50::2/64 advertise=no interface=ether1
add address=2001:db8:51::1/64 interface=bridge
/ip firewall filter
add action=accept chain=input connection-state=established,related,untracked
add action=drop chain=input connection-state=invalid
add action=accept chain=input protocol=icmp
add action=drop chain=input in-interface-list=!LAN
/ip route
add dst-address=0.0.0.0/0 gateway=203.0.113.1
/system identity
set name=ipv6-wan
