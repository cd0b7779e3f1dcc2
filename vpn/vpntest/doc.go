// Package vpntest provides twins of the technician's WireGuard peer for
// tests of code that uses vpn.Backend (the onboarding engine):
//
//   - Fake, a scripted vpn.Backend that records what it was asked and
//     answers from its fields, for tests that need no packets at all
//     (a handshake that never comes, an Up that fails);
//   - RouterPeer, a netstack WireGuard peer standing in for the router, for
//     tests that need a real tunnel but no RouterOS (rossim, in
//     routeros/sim, covers those).
//
// Out of scope: anything RouterOS; timing or loss simulation.
package vpntest
