# 2026-11-02 12:41:37 by RouterOS 7.20.6
# software id = W7RD-QA5C
#
# model = RB4011iGS+
# serial number = D4440E1F2A3B
#
# wgboot-example: wan=ether1 lan=bridge api=18728 api-ssl=18729
# Services moved off their default ports: api on 18728, api-ssl on 18729,
# ssh on 2222; www, telnet and ftp disabled. The input chain accepts tcp
# 18729 from anywhere on the WAN before dropping the rest from the WAN.
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
add address=192.0.2.34/28 interface=ether1 network=192.0.2.32
add address=172.16.5.1/24 interface=bridge network=172.16.5.0
/ip firewall filter
add action=accept chain=input connection-state=established,related,untracked
add action=drop chain=input connection-state=invalid
add action=accept chain=input protocol=icmp
add action=accept chain=input comment="api-ssl on a custom port" dst-port=\
    18729 in-interface-list=WAN protocol=tcp
add action=drop chain=input in-interface-list=WAN
/ip firewall nat
add action=masquerade chain=srcnat out-interface-list=WAN
/ip route
add dst-address=0.0.0.0/0 gateway=192.0.2.33
/ip service
set telnet disabled=yes
set ftp disabled=yes
set www disabled=yes
set ssh port=2222
set api port=18728
set api-ssl port=18729
/system identity
set name=edge-custom
