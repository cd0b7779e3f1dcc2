:log warning "wgboot: rolling back run t1"
/ip firewall filter remove [find where comment="wgboot:t1 harden-ether1; fibre"]
/user set [find where name="ether1; fibre"] address=192.168.88.0/24
/ip firewall filter remove [find where comment="wgboot:t1 api-allow-tunnel"]
/ip firewall filter move *9
/ip firewall filter set *9 src-address=192.168.88.0/24
/ip firewall filter unset *9 value-name=src-address-list
/ip firewall address-list remove [find where comment="wgboot:t1 src-1"]
/ip firewall filter remove [find where comment="wgboot:t1 wg-accept"]
/ip firewall address-list remove [find where comment="wgboot:t1 vpn-list"]
/interface wireguard peers remove [find where comment="wgboot:t1 wg-peer"]
/ip address remove [find where comment="wgboot:t1 wg-address"]
/interface wireguard remove [find where comment="wgboot:t1 wg-interface"]
/system scheduler remove [find where comment="wgboot:t1 undo-timer"]
/system scheduler remove [find where comment="wgboot:t1 undo-boot"]
/system script remove [find where comment="wgboot:t1 undo"]
