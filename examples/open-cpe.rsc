# 2026-11-02 10:02:45 by RouterOS 7.20.6
# software id = 3JQN-7WLE
#
# model = RBSXTsq5nD
# serial number = HCQ09XYZ123
#
# wgboot-example: wan=ether1
# A customer premises device set up by hand with no firewall at all: static
# WAN address 203.0.113.2/24 on ether1, a static default route, and every
# /ip service at its default, so the API (8728) and api-ssl (8729) answer
# from the internet. The worst case wgboot meets.
/ip address
add address=203.0.113.2/24 interface=ether1 network=203.0.113.0
/ip dns
set servers=203.0.113.53
/ip route
add disabled=no dst-address=0.0.0.0/0 gateway=203.0.113.1 routing-table=main
/system clock
set time-zone-name=UTC
/system identity
set name=cpe-203-0-113-2
