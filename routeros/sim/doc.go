// Package sim is rossim, a RouterOS v7 simulator for tests.
//
// A Router speaks the real API protocol (plain and TLS) on loopback
// addresses, keeps a state model of the menus wgboot touches (interfaces,
// addresses, routes, firewall filter/nat/raw, address lists, services,
// users, WireGuard, scheduler, scripts, files, certificates, log), loads and
// writes RouterOS export text, enforces its own input firewall on every new
// connection and WireGuard flow (through package firewall), runs real
// WireGuard devices (package wgdev) with the API served inside the tunnel,
// fires schedulers on a simulated clock, and injects faults (latency,
// severed connections, traps).
//
// Out of scope: forwarding and NAT of transit traffic, IPv6 traffic (IPv6
// menus are stored and exported only), every menu that wgboot does not
// depend on (kept as generic items: loaded, printable, editable and
// exported back unchanged), the CLI/SSH/WinBox front ends, and binary
// backups (a backup file holds the export text).
package sim
