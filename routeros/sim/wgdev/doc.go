// Package wgdev is one simulated RouterOS WireGuard interface for rossim:
// a wireguard-go device whose tunnel side is a gVisor network stack (the
// router's /ip address entries on the interface live there, and rossim's
// API listens there through ListenTCP) and whose UDP side is one socket
// per listen address, so that several simulated routers share a port
// number on different loopback addresses in one process.
//
// The UDP receive path is where the simulated router's firewall meets
// WireGuard: Options.Admit decides the first packet of each flow (local
// socket, remote address and port); an admitted flow is remembered until
// ResetFlows, while a refused one is asked again on its next packet, as
// RouterOS keeps no connection for a dropped packet. Options.Latency
// holds every received packet back by the same delay without blocking the
// socket, and Counters counts what passed and what was dropped.
//
// Out of scope: routing between interfaces (the stack answers only for
// its own addresses; everything else goes back into the tunnel), the
// router's other firewall chains for traffic inside the tunnel (rossim
// checks connections it accepts itself), fwmark, and roaming across
// listen sockets beyond replying from the socket a packet came in on.
// Private and preshared keys are never logged or put in errors.
package wgdev
