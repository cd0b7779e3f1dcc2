# 2026-11-02 14:20:07 by RouterOS 7.20.6
# software id = K4TR-9QPA
#
# model = RB4011iGS+
# serial number = HF90BCK7711
#
# wgboot-example: wan=ether1,ether2 lan=bridge
# A primary uplink on ether1 (203.0.113.34/29, default route at distance 1,
# in the WAN list) and a backup uplink on ether2 (198.51.100.20/24, default
# route at distance 10, so it is not active while ether1 works). Whoever
# added the backup forgot the WAN list, and the input chain only drops what
# comes from the WAN list: the API answers on the backup uplink.
/interface bridge
add admin-mac=48:8F:5A:44:55:01 auto-mac=no name=bridge
/interface list
add name=WAN
add name=LAN
/interface bridge port
add bridge=bridge interface=ether3
add bridge=bridge interface=ether4
add bridge=bridge interface=ether5
/interface list member
add interface=bridge list=LAN
add interface=ether1 list=WAN
/ip address
add address=192.168.88.1/24 interface=bridge network=192.168.88.0
add address=203.0.113.34/29 interface=ether1 network=203.0.113.32
add address=198.51.100.20/24 comment="backup uplink" interface=ether2 network=\
    198.51.100.0
/ip firewall filter
add action=accept chain=input connection-state=established,related,untracked
add action=drop chain=input connection-state=invalid
add action=accept chain=input protocol=icmp
add action=drop chain=input in-interface-list=WAN
/ip firewall nat
add action=masquerade chain=srcnat out-interface=ether1
add action=masquerade chain=srcnat out-interface=ether2
/ip route
add comment=primary distance=1 dst-address=0.0.0.0/0 gateway=203.0.113.33
add comment=backup distance=10 dst-address=0.0.0.0/0 gateway=198.51.100.1
/system identity
set name=backup-uplink
