# 2026-11-02 15:12:40 by RouterOS 7.20.6
# software id = R8FH-1XWC
#
# model = C52iG-5HaxD2HaxD
# serial number = HG20ABCDEF9
#
# wgboot-example: wan=ether1 lan=bridge dynamic-address=ether1=203.0.113.21/24
# A defconf router that already runs a site-to-site WireGuard interface
# wg-site on UDP 13231 with 10.99.0.1/24 and one peer, accepted by an input
# rule before the defconf drop. wgboot must pick another port and subnet and
# leave wg-site alone.
/interface bridge
add admin-mac=D4:01:C3:55:66:77 auto-mac=no comment=defconf name=bridge
/interface wireguard
add listen-port=13231 mtu=1420 name=wg-site
/interface list
add comment=defconf name=WAN
add comment=defconf name=LAN
/ip pool
add name=default-dhcp ranges=192.168.88.10-192.168.88.254
/ip dhcp-server
add address-pool=default-dhcp interface=bridge name=defconf
/interface bridge port
add bridge=bridge comment=defconf interface=ether2
add bridge=bridge comment=defconf interface=ether3
add bridge=bridge comment=defconf interface=ether4
add bridge=bridge comment=defconf interface=ether5
/interface list member
add comment=defconf interface=bridge list=LAN
add comment=defconf interface=ether1 list=WAN
/interface wireguard peers
add allowed-address=10.99.0.2/32,10.50.0.0/24 comment="branch office" \
    endpoint-address=198.51.100.40 endpoint-port=13231 interface=wg-site name=\
    branch persistent-keepalive=25s public-key=\
    "O+UipmkA8qHwDAnjcW6M5Ze9RVRcguFXsG5VgPv35UA="
/ip address
add address=192.168.88.1/24 comment=defconf interface=bridge network=\
    192.168.88.0
add address=10.99.0.1/24 interface=wg-site network=10.99.0.0
/ip dhcp-client
add comment=defconf interface=ether1
/ip dhcp-server network
add address=192.168.88.0/24 comment=defconf dns-server=192.168.88.1 gateway=\
    192.168.88.1
/ip dns
set allow-remote-requests=yes
/ip firewall filter
add action=accept chain=input comment=\
    "defconf: accept established,related,untracked" connection-state=\
    established,related,untracked
add action=drop chain=input comment="defconf: drop invalid" connection-state=\
    invalid
add action=accept chain=input comment="defconf: accept ICMP" protocol=icmp
add action=accept chain=input comment=\
    "defconf: accept to local loopback (for CAPsMAN)" dst-address=127.0.0.1
add action=accept chain=input comment="site VPN" dst-port=13231 \
    in-interface-list=WAN protocol=udp
add action=drop chain=input comment="defconf: drop all not coming from LAN" \
    in-interface-list=!LAN
add action=accept chain=forward comment="defconf: accept in ipsec policy" \
    ipsec-policy=in,ipsec
add action=accept chain=forward comment="defconf: accept out ipsec policy" \
    ipsec-policy=out,ipsec
add action=fasttrack-connection chain=forward comment="defconf: fasttrack" \
    connection-state=established,related hw-offload=yes
add action=accept chain=forward comment=\
    "defconf: accept established,related, untracked" connection-state=\
    established,related,untracked
add action=drop chain=forward comment="defconf: drop invalid" \
    connection-state=invalid
add action=drop chain=forward comment=\
    "defconf: drop all from WAN not DSTNATed" connection-nat-state=!dstnat \
    connection-state=new in-interface-list=WAN
/ip firewall nat
add action=masquerade chain=srcnat comment="defconf: masquerade" ipsec-policy=\
    out,none out-interface-list=WAN
/ip route
add comment="branch LAN" dst-address=10.50.0.0/24 gateway=wg-site
/system identity
set name=site-a
