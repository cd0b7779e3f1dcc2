# 2026-11-02 13:05:59 by RouterOS 7.20.6
# software id = P2VX-8NRL
#
# model = RB5009UG+S+
# serial number = HE20DEF4455
#
# wgboot-example: wan=ether1,pppoe-out1 lan=bridge dynamic-address=pppoe-out1=198.51.100.200/32
# Two uplinks: ether1 with the static address 203.0.113.10/29 and a static
# default route at distance 1, and a PPPoE client on ether2 (pppoe-out1)
# whose default route is dynamic at distance 2 (failover). Both are in the
# WAN list; the defconf-style firewall drops input that does not come from
# the LAN.
/interface bridge
add admin-mac=04:F4:1C:AA:BB:01 auto-mac=no comment=defconf name=bridge
/interface pppoe-client
add add-default-route=yes default-route-distance=2 disabled=no interface=\
    ether2 name=pppoe-out1 user=customer4711@isp.example
/interface list
add comment=defconf name=WAN
add comment=defconf name=LAN
/interface bridge port
add bridge=bridge comment=defconf interface=ether3
add bridge=bridge comment=defconf interface=ether4
add bridge=bridge comment=defconf interface=ether5
/interface list member
add comment=defconf interface=bridge list=LAN
add comment=defconf interface=ether1 list=WAN
add interface=pppoe-out1 list=WAN
/ip address
add address=192.168.88.1/24 comment=defconf interface=bridge network=\
    192.168.88.0
add address=203.0.113.10/29 interface=ether1 network=203.0.113.8
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
add action=accept chain=forward comment=\
    "defconf: accept established,related, untracked" connection-state=\
    established,related,untracked
add action=drop chain=forward comment="defconf: drop invalid" \
    connection-state=invalid
add action=drop chain=forward comment=\
    "defconf: drop all from WAN not DSTNATed" connection-nat-state=!dstnat \
    connection-state=new in-interface-list=WAN
/ip firewall nat
add action=masquerade chain=srcnat comment="defconf: masquerade" \
    out-interface-list=WAN
/ip route
add comment="primary uplink" distance=1 dst-address=0.0.0.0/0 gateway=\
    203.0.113.9
/system identity
set name=dual-uplink
