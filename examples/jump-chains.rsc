# 2026-11-02 14:30:12 by RouterOS 7.18.2
# software id = M3TB-6UJD
#
# model = CCR2004-1G-12S+2XS
# serial number = HF40ABC1122
#
# wgboot-example: wan=ether1 lan=bridge
# An input chain that hands work to user chains: traffic from the WAN jumps
# to wan-in, which jumps to mgmt for the management ports; mgmt accepts the
# admin list and returns; wan-in drops what is left. LAN traffic is accepted
# in the input chain itself.
/interface bridge
add name=bridge
/interface list
add name=WAN
add name=LAN
/interface bridge port
add bridge=bridge interface=sfp-sfpplus1
add bridge=bridge interface=sfp-sfpplus2
/interface list member
add interface=ether1 list=WAN
add interface=bridge list=LAN
/ip address
add address=198.51.100.66/30 interface=ether1 network=198.51.100.64
add address=10.44.0.1/24 interface=bridge network=10.44.0.0
/ip firewall address-list
add address=192.0.2.128/25 list=admins
/ip firewall filter
add action=accept chain=input connection-state=established,related,untracked
add action=drop chain=input connection-state=invalid
add action=accept chain=input in-interface-list=LAN
add action=jump chain=input in-interface-list=WAN jump-target=wan-in
add action=accept chain=wan-in protocol=icmp
add action=jump chain=wan-in dst-port=22,8291,8728,8729 jump-target=mgmt \
    protocol=tcp
add action=drop chain=wan-in comment="wan-in: drop the rest"
add action=accept chain=mgmt src-address-list=admins
add action=log chain=mgmt log-prefix=mgmt-denied
add action=return chain=mgmt
add action=accept chain=forward connection-state=established,related,untracked
add action=drop chain=forward connection-state=invalid
/ip route
add dst-address=0.0.0.0/0 gateway=198.51.100.65
/system identity
set name=core-jumps
