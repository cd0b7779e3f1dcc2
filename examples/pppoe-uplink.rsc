# 2026-11-02 15:41:52 by RouterOS 7.20.6
# software id = N7WC-2HZD
#
# model = RB760iGS
# serial number = HG11PPP0042
#
# wgboot-example: wan=pppoe-out1 lan=bridge dynamic-address=pppoe-out1=198.51.100.201/32
# A router on DSL: a PPPoE client on ether1 (pppoe-out1) gets its address
# from the provider and installs the default route. The router was set up by
# hand without a WAN interface list: the input chain drops what arrives on
# the physical port ether1, which PPPoE traffic never does, so the API
# answers on pppoe-out1 from the internet.
/interface bridge
add admin-mac=48:8F:5A:66:77:01 auto-mac=no name=bridge
/interface pppoe-client
add add-default-route=yes disabled=no interface=ether1 name=pppoe-out1 \
    use-peer-dns=yes user=dsl-0815@isp.example
/interface list
add name=LAN
/interface bridge port
add bridge=bridge interface=ether2
add bridge=bridge interface=ether3
add bridge=bridge interface=ether4
add bridge=bridge interface=ether5
/interface list member
add interface=bridge list=LAN
/ip address
add address=192.168.88.1/24 interface=bridge network=192.168.88.0
/ip firewall filter
add action=accept chain=input connection-state=established,related,untracked
add action=drop chain=input connection-state=invalid
add action=accept chain=input protocol=icmp
add action=drop chain=input in-interface=ether1
/ip firewall nat
add action=masquerade chain=srcnat out-interface=pppoe-out1
/system identity
set name=pppoe-uplink
