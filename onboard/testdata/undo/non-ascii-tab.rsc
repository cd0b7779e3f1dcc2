:log warning "wgboot: rolling back run t1"
/ip firewall filter remove [find where comment="wgboot:t1 harden-w\C3\A4n\t\E2\82\AC"]
/user set [find where name="w\C3\A4n\t\E2\82\AC"] address=192.168.88.0/24
/ip firewall filter remove [find where comment="wgboot:t1 api-allow"]
/ip firewall filter remove [find where comment="wgboot:t1 wg-accept"]
/ip firewall address-list remove [find where comment="wgboot:t1 vpn-list"]
/interface wireguard peers remove [find where comment="wgboot:t1 wg-peer"]
/ip address remove [find where comment="wgboot:t1 wg-address"]
/interface wireguard remove [find where comment="wgboot:t1 wg-interface"]
/system scheduler remove [find where comment="wgboot:t1 undo-timer"]
/system scheduler remove [find where comment="wgboot:t1 undo-boot"]
/system script remove [find where comment="wgboot:t1 undo"]
