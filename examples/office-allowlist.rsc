# 2026-11-02 11:20:03 by RouterOS 7.19.4
# software id = ZK4M-2H9P
#
# model = RB5009UG+S+
# serial number = HE20ABC7788
#
# wgboot-example: wan=ether1 lan=bridge-lan
# An office router with an allow-list input chain: accept established and
# related, accept the API (8728,8729), WinBox and SSH only from the address
# list mgmt (office subnets and the admin's home address), then drop
# everything else that comes from the WAN. LAN 10.10.0.0/24 on bridge-lan.
/interface bridge
add name=bridge-lan
/interface ethernet
set [ find default-name=ether1 ] comment="uplink to ISP"
/interface list
add name=WAN
add name=LAN
/interface bridge port
add bridge=bridge-lan interface=ether2
add bridge=bridge-lan interface=ether3
add bridge=bridge-lan interface=ether4
/interface list member
add interface=ether1 list=WAN
add interface=bridge-lan list=LAN
/ip address
add address=198.51.100.10/29 interface=ether1 network=198.51.100.8
add address=10.10.0.1/24 interface=bridge-lan network=10.10.0.0
/ip pool
add name=lan-pool ranges=10.10.0.100-10.10.0.199
/ip dhcp-server
add address-pool=lan-pool interface=bridge-lan name=lan-dhcp
/ip dhcp-server network
add address=10.10.0.0/24 dns-server=10.10.0.1 gateway=10.10.0.1
/ip dns
set allow-remote-requests=yes servers=198.51.100.53
/ip firewall address-list
add address=10.10.0.0/24 comment="office LAN" list=mgmt
add address=10.20.0.0/24 comment="branch office via site VPN" list=mgmt
add address=192.0.2.0/28 comment="HQ public range" list=mgmt
add address=203.0.113.77 comment="admin home" list=mgmt
/ip firewall filter
add action=accept chain=input comment="accept established,related" \
    connection-state=established,related
add action=drop chain=input comment="drop invalid" connection-state=invalid
add action=accept chain=input comment="accept ICMP" protocol=icmp
add action=accept chain=input comment="API from mgmt" dst-port=8728,8729 \
    protocol=tcp src-address-list=mgmt
add action=accept chain=input comment="WinBox and SSH from mgmt" dst-port=\
    8291,22 protocol=tcp src-address-list=mgmt
add action=accept chain=input comment="everything from the LAN" \
    in-interface-list=LAN
add action=drop chain=input comment="drop the rest from the WAN" \
    in-interface-list=WAN
add action=accept chain=forward connection-state=established,related
add action=drop chain=forward connection-state=invalid
add action=drop chain=forward connection-nat-state=!dstnat connection-state=\
    new in-interface-list=WAN
/ip firewall nat
add action=masquerade chain=srcnat out-interface-list=WAN
/ip route
add dst-address=0.0.0.0/0 gateway=198.51.100.9
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www disabled=yes
/system identity
set name=office-gw
