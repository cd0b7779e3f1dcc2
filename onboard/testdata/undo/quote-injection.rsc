:log warning "wgboot: rolling back run t1"
/ip firewall filter remove [find where comment="wgboot:t1 harden-x\" ; /user add name=evil group=full ; :put \""]
/user set [find where name="x\" ; /user add name=evil group=full ; :put \""] address=192.168.88.0/24
/ip firewall filter remove [find where comment="wgboot:t1 api-allow"]
/ip firewall filter remove [find where comment="wgboot:t1 wg-accept"]
/ip firewall address-list remove [find where comment="wgboot:t1 vpn-list"]
/interface wireguard peers remove [find where comment="wgboot:t1 wg-peer"]
/ip address remove [find where comment="wgboot:t1 wg-address"]
/interface wireguard remove [find where comment="wgboot:t1 wg-interface"]
/system scheduler remove [find where comment="wgboot:t1 undo-timer"]
/system scheduler remove [find where comment="wgboot:t1 undo-boot"]
/system script remove [find where comment="wgboot:t1 undo"]
