# 2026-11-02 16:48:05 by RouterOS 7.20.6
# software id = T5GA-9KMB
#
# model = RB760iGS
# serial number = HCB08AAA111
#
# wgboot-example: wan=ether1 lan=bridge
# A hEX S where the plain API is disabled and api-ssl accepts connections
# only from the LAN 192.168.88.0/24 (the /ip service address restriction,
# enforced by the service, not the firewall); a certificate is set on
# api-ssl. The input firewall is defconf.
/interface bridge
add admin-mac=18:FD:74:01:02:03 auto-mac=no comment=defconf name=bridge
/interface list
add comment=defconf name=WAN
add comment=defconf name=LAN
/interface bridge port
add bridge=bridge comment=defconf interface=ether2
add bridge=bridge comment=defconf interface=ether3
add bridge=bridge comment=defconf interface=ether4
add bridge=bridge comment=defconf interface=ether5
/interface list member
add comment=defconf interface=bridge list=LAN
add comment=defconf interface=ether1 list=WAN
/ip address
add address=192.168.88.1/24 comment=defconf interface=bridge network=\
    192.168.88.0
add address=192.0.2.50/24 interface=ether1 network=192.0.2.0
/ip firewall filter
add action=accept chain=input comment=\
    "defconf: accept established,related,untracked" connection-state=\
    established,related,untracked
add action=drop chain=input comment="defconf: drop invalid" connection-state=\
    invalid
add action=accept chain=input comment="defconf: accept ICMP" protocol=icmp
add action=accept chain=input comment=\
    "defconf: accept to local loopback (for CAPsMAN)" dst-address=127.0.0.1
add action=drop chain=input comment="defconf: drop all not coming from LAN" \
    in-interface-list=!LAN
/ip firewall nat
add action=masquerade chain=srcnat comment="defconf: masquerade" ipsec-policy=\
    out,none out-interface-list=WAN
/ip route
add dst-address=0.0.0.0/0 gateway=192.0.2.1
/ip service
set api disabled=yes
set api-ssl address=192.168.88.0/24 certificate=api-ssl-cert
/system identity
set name=hex-restricted
