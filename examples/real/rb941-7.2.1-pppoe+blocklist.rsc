# oct/16/2022 22:28:22 by RouterOS 7.2.1
# software id = M2LV-NX37
#
# model = RouterBOARD 941-2nD
# serial number = XXXXXXXXXXXX
/interface wireless
set [ find default-name=wlan1 ] ssid=MikroTik
/interface pppoe-client
add add-default-route=yes disabled=no interface=ether1 keepalive-timeout=20 \
    name=pppoe-out1 use-peer-dns=yes user=ppp01@isp02
/interface l2tp-client
add connect-to=10.100.10.254 disabled=no name=l2tp-out1 use-ipsec=yes \
    use-peer-dns=yes user=l2tp01
/interface wireless security-profiles
set [ find default=yes ] supplicant-identity=MikroTik
/ip pool
add name=pptp_pool ranges=172.27.72.2-172.27.72.254
add name=dhcp_pool ranges=192.168.200.2-192.168.200.254
/ip dhcp-server
add address-pool=dhcp_pool interface=ether3 lease-time=1d10m name=dhcp1
/ppp profile
add local-address=172.27.72.1 name=pptp_profile remote-address=pptp_pool
/ip address
add address=192.168.200.1/24 interface=ether3 network=192.168.200.0
/ip dhcp-server network
add address=192.168.7.0/24 gateway=192.168.7.1
add address=192.168.200.0/24 gateway=192.168.200.1
/ip firewall nat
add action=masquerade chain=srcnat out-interface=pppoe-out1
/ip route
add check-gateway=ping disabled=no dst-address=192.168.3.0/24 gateway=\
    172.16.61.1 routing-table=main suppress-hw-offload=no
/ppp secret
add name=pptp01 profile=pptp_profile service=pptp
add name=pptp02 profile=pptp_profile service=pptp
/system clock
set time-zone-name=Asia/Bangkok
/system identity
set name=03-BR
/tool romon
set enabled=yes
/ip firewall address-list
add address=1.10.16.0/20 comment="Bot block list" list=BlockList
add address=1.19.0.0/16 comment="Bot block list" list=BlockList
add address=1.32.128.0/18 comment="Bot block list" list=BlockList
add address=2.56.192.0/22 comment="Bot block list" list=BlockList
add address=2.57.122.0/24 comment="Bot block list" list=BlockList
add address=2.57.149.0/24 comment="Bot block list" list=BlockList
add address=2.57.168.0/24 comment="Bot block list" list=BlockList
add address=2.57.232.0/23 comment="Bot block list" list=BlockList
add address=2.57.234.0/23 comment="Bot block list" list=BlockList
add address=3.228.226.42 comment="Bot block list" list=BlockList
add address=5.42.92.0/24 comment="Bot block list" list=BlockList
add address=5.105.62.0/24 comment="Bot block list" list=BlockList
add address=5.105.220.0/24 comment="Bot block list" list=BlockList
add address=5.134.128.0/19 comment="Bot block list" list=BlockList
add address=5.182.112.0/24 comment="Bot block list" list=BlockList
add address=5.182.210.0/24 comment="Bot block list" list=BlockList
add address=5.182.211.0/24 comment="Bot block list" list=BlockList
add address=5.183.60.0/22 comment="Bot block list" list=BlockList
add address=5.188.10.0/23 comment="Bot block list" list=BlockList
add address=5.188.11.0/24 comment="Bot block list" list=BlockList
add address=5.188.236.0/23 comment="Bot block list" list=BlockList
add address=14.152.94.0/24 comment="Bot block list" list=BlockList
add address=23.129.252.0/23 comment="Bot block list" list=BlockList
add address=24.137.16.0/20 comment="Bot block list" list=BlockList
add address=24.170.208.0/20 comment="Bot block list" list=BlockList
add address=24.233.0.0/19 comment="Bot block list" list=BlockList
add address=24.236.0.0/19 comment="Bot block list" list=BlockList
add address=27.50.63.0/24 comment="Bot block list" list=BlockList
add address=27.112.32.0/19 comment="Bot block list" list=BlockList
add address=27.123.208.0/22 comment="Bot block list" list=BlockList
add address=27.124.17.0/24 comment="Bot block list" list=BlockList
add address=27.124.41.0/24 comment="Bot block list" list=BlockList
add address=27.126.160.0/20 comment="Bot block list" list=BlockList
add address=27.146.0.0/16 comment="Bot block list" list=BlockList
add address=31.13.224.0/24 comment="Bot block list" list=BlockList
add address=31.24.81.0/24 comment="Bot block list" list=BlockList
add address=31.41.244.0/24 comment="Bot block list" list=BlockList
add address=31.210.20.0/24 comment="Bot block list" list=BlockList
add address=31.217.252.0/24 comment="Bot block list" list=BlockList
add address=31.222.236.0/24 comment="Bot block list" list=BlockList
add address=36.0.8.0/21 comment="Bot block list" list=BlockList
add address=36.37.48.0/20 comment="Bot block list" list=BlockList
add address=36.116.0.0/16 comment="Bot block list" list=BlockList
add address=36.119.0.0/16 comment="Bot block list" list=BlockList
add address=36.255.236.0/22 comment="Bot block list" list=BlockList
add address=37.77.144.0/24 comment="Bot block list" list=BlockList
add address=37.140.251.0/24 comment="Bot block list" list=BlockList
add address=37.156.64.0/23 comment="Bot block list" list=BlockList
add address=37.156.173.0/24 comment="Bot block list" list=BlockList
add address=37.220.87.0/24 comment="Bot block list" list=BlockList
add address=38.200.178.0/23 comment="Bot block list" list=BlockList
add address=41.71.128.0/17 comment="Bot block list" list=BlockList
add address=41.71.139.0/24 comment="Bot block list" list=BlockList
add address=41.71.140.0/24 comment="Bot block list" list=BlockList
add address=41.71.150.0/24 comment="Bot block list" list=BlockList
add address=41.71.222.0/24 comment="Bot block list" list=BlockList
add address=41.71.223.0/24 comment="Bot block list" list=BlockList
add address=41.71.224.0/24 comment="Bot block list" list=BlockList
add address=41.71.225.0/24 comment="Bot block list" list=BlockList
add address=41.71.226.0/24 comment="Bot block list" list=BlockList
add address=41.71.229.0/24 comment="Bot block list" list=BlockList
add address=41.71.230.0/24 comment="Bot block list" list=BlockList
add address=41.71.240.0/24 comment="Bot block list" list=BlockList
add address=41.72.0.0/18 comment="Bot block list" list=BlockList
add address=41.77.208.0/22 comment="Bot block list" list=BlockList
add address=41.216.183.0/24 comment="Bot block list" list=BlockList
add address=42.0.32.0/19 comment="Bot block list" list=BlockList
add address=42.128.0.0/12 comment="Bot block list" list=BlockList
add address=42.160.0.0/12 comment="Bot block list" list=BlockList
add address=42.208.0.0/12 comment="Bot block list" list=BlockList
add address=43.229.52.0/22 comment="Bot block list" list=BlockList
add address=43.229.240.0/22 comment="Bot block list" list=BlockList
add address=43.236.0.0/16 comment="Bot block list" list=BlockList
add address=43.248.40.0/22 comment="Bot block list" list=BlockList
add address=43.250.116.0/22 comment="Bot block list" list=BlockList
add address=45.9.168.0/24 comment="Bot block list" list=BlockList
add address=45.14.226.0/24 comment="Bot block list" list=BlockList
add address=45.65.32.0/22 comment="Bot block list" list=BlockList
add address=45.66.231.0/24 comment="Bot block list" list=BlockList
add address=45.80.248.0/23 comment="Bot block list" list=BlockList
add address=45.86.18.0/24 comment="Bot block list" list=BlockList
add address=45.86.19.0/24 comment="Bot block list" list=BlockList
add address=45.86.48.0/22 comment="Bot block list" list=BlockList
add address=45.88.88.0/24 comment="Bot block list" list=BlockList
add address=45.88.91.0/24 comment="Bot block list" list=BlockList
add address=45.89.44.0/22 comment="Bot block list" list=BlockList
add address=45.89.247.0/24 comment="Bot block list" list=BlockList
add address=45.91.227.0/24 comment="Bot block list" list=BlockList
add address=45.93.20.0/24 comment="Bot block list" list=BlockList
add address=45.95.188.0/22 comment="Bot block list" list=BlockList
add address=45.114.184.0/22 comment="Bot block list" list=BlockList
add address=45.116.224.0/22 comment="Bot block list" list=BlockList
add address=45.117.140.0/22 comment="Bot block list" list=BlockList
add address=45.121.204.0/22 comment="Bot block list" list=BlockList
add address=45.125.66.0/24 comment="Bot block list" list=BlockList
add address=45.133.246.0/24 comment="Bot block list" list=BlockList
add address=45.134.26.0/24 comment="Bot block list" list=BlockList
add address=45.135.48.0/22 comment="Bot block list" list=BlockList
add address=45.135.232.0/24 comment="Bot block list" list=BlockList
add address=45.137.20.0/22 comment="Bot block list" list=BlockList
add address=45.139.104.0/24 comment="Bot block list" list=BlockList
add address=45.139.105.0/24 comment="Bot block list" list=BlockList
add address=45.140.17.0/24 comment="Bot block list" list=BlockList
add address=45.141.56.0/24 comment="Bot block list" list=BlockList
add address=45.141.58.0/23 comment="Bot block list" list=BlockList
add address=45.141.87.0/24 comment="Bot block list" list=BlockList
add address=45.142.155.0/24 comment="Bot block list" list=BlockList
add address=45.143.201.0/24 comment="Bot block list" list=BlockList
add address=45.143.252.0/22 comment="Bot block list" list=BlockList
add address=45.145.176.0/22 comment="Bot block list" list=BlockList
add address=45.148.120.0/24 comment="Bot block list" list=BlockList
add address=45.148.121.0/24 comment="Bot block list" list=BlockList
add address=45.148.123.0/24 comment="Bot block list" list=BlockList
add address=45.148.148.0/22 comment="Bot block list" list=BlockList
add address=45.149.241.0/24 comment="Bot block list" list=BlockList
add address=45.150.180.0/22 comment="Bot block list" list=BlockList
add address=45.176.184.0/22 comment="Bot block list" list=BlockList
add address=45.186.152.0/22 comment="Bot block list" list=BlockList
add address=45.192.178.0/23 comment="Bot block list" list=BlockList
add address=45.200.148.0/23 comment="Bot block list" list=BlockList
add address=45.202.32.0/22 comment="Bot block list" list=BlockList
add address=46.21.16.0/21 comment="Bot block list" list=BlockList
add address=46.21.31.0/24 comment="Bot block list" list=BlockList
add address=46.148.112.0/24 comment="Bot block list" list=BlockList
add address=46.148.120.0/24 comment="Bot block list" list=BlockList
add address=46.148.127.0/24 comment="Bot block list" list=BlockList
add address=46.173.214.0/24 comment="Bot block list" list=BlockList
add address=46.173.218.0/24 comment="Bot block list" list=BlockList
add address=46.173.219.0/24 comment="Bot block list" list=BlockList
add address=46.173.223.0/24 comment="Bot block list" list=BlockList
add address=46.173.240.0/20 comment="Bot block list" list=BlockList
add address=46.174.204.0/22 comment="Bot block list" list=BlockList
add address=46.232.0.0/24 comment="Bot block list" list=BlockList
add address=49.88.112.0/24 comment="Bot block list" list=BlockList
add address=49.89.240.0/22 comment="Bot block list" list=BlockList
add address=49.91.242.0/24 comment="Bot block list" list=BlockList
add address=49.156.160.0/19 comment="Bot block list" list=BlockList
add address=49.238.64.0/18 comment="Bot block list" list=BlockList
add address=58.2.0.0/17 comment="Bot block list" list=BlockList
add address=58.14.0.0/15 comment="Bot block list" list=BlockList
add address=60.233.0.0/16 comment="Bot block list" list=BlockList
add address=61.11.224.0/19 comment="Bot block list" list=BlockList
add address=61.45.251.0/24 comment="Bot block list" list=BlockList
add address=61.177.172.0/23 comment="Bot block list" list=BlockList
add address=62.60.186.0/24 comment="Bot block list" list=BlockList
add address=62.60.188.0/22 comment="Bot block list" list=BlockList
add address=62.60.224.0/24 comment="Bot block list" list=BlockList
add address=62.112.16.0/21 comment="Bot block list" list=BlockList
add address=62.122.184.0/24 comment="Bot block list" list=BlockList
add address=62.204.41.0/24 comment="Bot block list" list=BlockList
add address=63.66.60.0/23 comment="Bot block list" list=BlockList
add address=63.80.8.0/22 comment="Bot block list" list=BlockList
add address=63.80.80.0/21 comment="Bot block list" list=BlockList
add address=63.106.68.0/22 comment="Bot block list" list=BlockList
add address=64.15.0.0/20 comment="Bot block list" list=BlockList
add address=64.62.197.0/24 comment="Bot block list" list=BlockList
add address=64.92.224.0/20 comment="Bot block list" list=BlockList
add address=64.137.39.0/24 comment="Bot block list" list=BlockList
add address=64.250.144.0/20 comment="Bot block list" list=BlockList
add address=64.254.80.0/20 comment="Bot block list" list=BlockList
add address=65.205.64.0/22 comment="Bot block list" list=BlockList
add address=65.216.208.0/21 comment="Bot block list" list=BlockList
add address=66.54.232.0/22 comment="Bot block list" list=BlockList
add address=66.63.187.0/24 comment="Bot block list" list=BlockList
add address=66.227.20.0/24 comment="Bot block list" list=BlockList
add address=66.227.21.0/24 comment="Bot block list" list=BlockList
add address=66.227.29.0/24 comment="Bot block list" list=BlockList
add address=66.227.31.0/24 comment="Bot block list" list=BlockList
add address=67.213.112.0/20 comment="Bot block list" list=BlockList
add address=67.219.208.0/20 comment="Bot block list" list=BlockList
add address=69.8.96.0/20 comment="Bot block list" list=BlockList
add address=72.46.24.0/22 comment="Bot block list" list=BlockList
add address=74.80.191.0/24 comment="Bot block list" list=BlockList
add address=74.114.148.0/22 comment="Bot block list" list=BlockList
add address=77.36.112.0/21 comment="Bot block list" list=BlockList
add address=77.73.134.0/24 comment="Bot block list" list=BlockList
add address=77.81.84.0/23 comment="Bot block list" list=BlockList
add address=77.81.86.0/24 comment="Bot block list" list=BlockList
add address=77.81.89.0/24 comment="Bot block list" list=BlockList
add address=77.87.123.0/24 comment="Bot block list" list=BlockList
add address=77.90.185.0/24 comment="Bot block list" list=BlockList
add address=77.91.76.0/24 comment="Bot block list" list=BlockList
add address=77.105.163.0/24 comment="Bot block list" list=BlockList
add address=77.220.92.0/24 comment="Bot block list" list=BlockList
add address=77.220.93.0/24 comment="Bot block list" list=BlockList
add address=77.220.94.0/24 comment="Bot block list" list=BlockList
add address=78.40.143.0/24 comment="Bot block list" list=BlockList
add address=78.142.18.0/24 comment="Bot block list" list=BlockList
add address=79.110.22.0/24 comment="Bot block list" list=BlockList
add address=79.110.49.0/24 comment="Bot block list" list=BlockList
add address=79.110.62.0/24 comment="Bot block list" list=BlockList
add address=79.137.192.0/24 comment="Bot block list" list=BlockList
add address=80.64.30.0/24 comment="Bot block list" list=BlockList
add address=80.66.75.0/24 comment="Bot block list" list=BlockList
add address=80.66.77.0/24 comment="Bot block list" list=BlockList
add address=80.76.49.0/24 comment="Bot block list" list=BlockList
add address=80.76.51.0/24 comment="Bot block list" list=BlockList
add address=80.94.92.0/24 comment="Bot block list" list=BlockList
add address=80.94.95.0/24 comment="Bot block list" list=BlockList
add address=80.208.192.0/20 comment="Bot block list" list=BlockList
add address=80.244.11.0/24 comment="Bot block list" list=BlockList
add address=81.94.150.0/24 comment="Bot block list" list=BlockList
add address=81.94.159.0/24 comment="Bot block list" list=BlockList
add address=81.161.230.0/24 comment="Bot block list" list=BlockList
add address=81.161.238.0/24 comment="Bot block list" list=BlockList
add address=82.115.223.0/24 comment="Bot block list" list=BlockList
add address=82.135.156.0/23 comment="Bot block list" list=BlockList
add address=82.135.228.0/22 comment="Bot block list" list=BlockList
add address=83.97.73.0/24 comment="Bot block list" list=BlockList
add address=83.137.153.0/24 comment="Bot block list" list=BlockList
add address=83.137.156.0/24 comment="Bot block list" list=BlockList
add address=83.175.0.0/18 comment="Bot block list" list=BlockList
add address=83.218.218.0/24 comment="Bot block list" list=BlockList
add address=83.222.190.0/23 comment="Bot block list" list=BlockList
add address=83.222.190.0/24 comment="Bot block list" list=BlockList
add address=83.222.191.0/24 comment="Bot block list" list=BlockList
add address=84.38.133.0/24 comment="Bot block list" list=BlockList
add address=84.238.160.0/22 comment="Bot block list" list=BlockList
add address=85.31.47.0/24 comment="Bot block list" list=BlockList
add address=85.114.120.0/21 comment="Bot block list" list=BlockList
add address=85.121.39.0/24 comment="Bot block list" list=BlockList
add address=85.158.148.0/24 comment="Bot block list" list=BlockList
add address=85.158.149.0/24 comment="Bot block list" list=BlockList
add address=85.158.151.0/24 comment="Bot block list" list=BlockList
add address=85.203.26.0/24 comment="Bot block list" list=BlockList
add address=85.209.11.0/24 comment="Bot block list" list=BlockList
add address=85.209.133.0/24 comment="Bot block list" list=BlockList
add address=86.104.195.0/24 comment="Bot block list" list=BlockList
add address=86.104.222.0/23 comment="Bot block list" list=BlockList
add address=86.104.224.0/23 comment="Bot block list" list=BlockList
add address=86.105.2.0/24 comment="Bot block list" list=BlockList
add address=86.105.6.0/24 comment="Bot block list" list=BlockList
add address=86.105.176.0/24 comment="Bot block list" list=BlockList
add address=86.105.178.0/24 comment="Bot block list" list=BlockList
add address=86.105.182.0/24 comment="Bot block list" list=BlockList
add address=86.105.184.0/23 comment="Bot block list" list=BlockList
add address=86.105.186.0/24 comment="Bot block list" list=BlockList
add address=86.105.229.0/24 comment="Bot block list" list=BlockList
add address=86.105.230.0/24 comment="Bot block list" list=BlockList
add address=86.105.242.0/23 comment="Bot block list" list=BlockList
add address=86.106.10.0/24 comment="Bot block list" list=BlockList
add address=86.106.13.0/24 comment="Bot block list" list=BlockList
add address=86.106.14.0/23 comment="Bot block list" list=BlockList
add address=86.106.94.0/23 comment="Bot block list" list=BlockList
add address=86.106.105.0/24 comment="Bot block list" list=BlockList
add address=86.106.106.0/23 comment="Bot block list" list=BlockList
add address=86.106.109.0/24 comment="Bot block list" list=BlockList
add address=86.106.110.0/23 comment="Bot block list" list=BlockList
add address=86.106.114.0/23 comment="Bot block list" list=BlockList
add address=86.106.118.0/24 comment="Bot block list" list=BlockList
add address=86.106.138.0/23 comment="Bot block list" list=BlockList
add address=86.106.140.0/23 comment="Bot block list" list=BlockList
add address=86.106.174.0/23 comment="Bot block list" list=BlockList
add address=86.107.72.0/24 comment="Bot block list" list=BlockList
add address=86.107.193.0/24 comment="Bot block list" list=BlockList
add address=86.107.194.0/23 comment="Bot block list" list=BlockList
add address=87.120.84.0/24 comment="Bot block list" list=BlockList
add address=87.120.112.0/22 comment="Bot block list" list=BlockList
add address=87.120.116.0/23 comment="Bot block list" list=BlockList
add address=87.120.120.0/23 comment="Bot block list" list=BlockList
add address=87.120.125.0/24 comment="Bot block list" list=BlockList
add address=87.120.126.0/23 comment="Bot block list" list=BlockList
add address=87.121.86.0/24 comment="Bot block list" list=BlockList
add address=87.121.105.0/24 comment="Bot block list" list=BlockList
add address=87.229.22.0/24 comment="Bot block list" list=BlockList
add address=87.229.110.0/24 comment="Bot block list" list=BlockList
add address=87.246.7.0/24 comment="Bot block list" list=BlockList
add address=87.247.158.0/23 comment="Bot block list" list=BlockList
add address=87.251.79.0/24 comment="Bot block list" list=BlockList
add address=89.32.43.0/24 comment="Bot block list" list=BlockList
add address=89.32.170.0/24 comment="Bot block list" list=BlockList
add address=89.32.202.0/24 comment="Bot block list" list=BlockList
add address=89.33.46.0/23 comment="Bot block list" list=BlockList
add address=89.33.116.0/24 comment="Bot block list" list=BlockList
add address=89.33.134.0/24 comment="Bot block list" list=BlockList
add address=89.33.198.0/23 comment="Bot block list" list=BlockList
add address=89.33.200.0/23 comment="Bot block list" list=BlockList
add address=89.33.206.0/24 comment="Bot block list" list=BlockList
add address=89.33.250.0/23 comment="Bot block list" list=BlockList
add address=89.33.254.0/23 comment="Bot block list" list=BlockList
add address=89.34.0.0/24 comment="Bot block list" list=BlockList
add address=89.34.4.0/24 comment="Bot block list" list=BlockList
add address=89.34.102.0/24 comment="Bot block list" list=BlockList
add address=89.34.104.0/23 comment="Bot block list" list=BlockList
add address=89.35.54.0/24 comment="Bot block list" list=BlockList
add address=89.35.89.0/24 comment="Bot block list" list=BlockList
add address=89.35.90.0/24 comment="Bot block list" list=BlockList
add address=89.36.38.0/23 comment="Bot block list" list=BlockList
add address=89.36.136.0/24 comment="Bot block list" list=BlockList
add address=89.36.138.0/23 comment="Bot block list" list=BlockList
add address=89.36.141.0/24 comment="Bot block list" list=BlockList
add address=89.37.96.0/24 comment="Bot block list" list=BlockList
add address=89.37.129.0/24 comment="Bot block list" list=BlockList
add address=89.37.130.0/23 comment="Bot block list" list=BlockList
add address=89.37.132.0/23 comment="Bot block list" list=BlockList
add address=89.37.134.0/24 comment="Bot block list" list=BlockList
add address=89.38.240.0/24 comment="Bot block list" list=BlockList
add address=89.39.69.0/24 comment="Bot block list" list=BlockList
add address=89.39.212.0/24 comment="Bot block list" list=BlockList
add address=89.39.215.0/24 comment="Bot block list" list=BlockList
/ip firewall raw
add action=drop chain=prerouting comment="drop the blocklist" in-interface=pppoe-out1 src-address-list=BlockList
