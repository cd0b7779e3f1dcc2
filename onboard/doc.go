// Package onboard is the wgboot engine: it connects to a RouterOS 7 router,
// inspects it in one batch of prints, decides and checks a plan (pure
// functions of the snapshot, checked with the firewall evaluator), arms an
// auto-rollback on the router, applies the plan, proves the API through the
// WireGuard tunnel, closes the API on the WAN and commits.
//
// The engine never prints: it reports typed Events to a Sink and asks
// questions through a Prompter, so the headless CLI and the TUI render the
// same stream.
//
// Out of scope: rendering (cmd/wgboot, tui), the API wire protocol
// (routeros), firewall semantics (firewall), the local WireGuard peer (vpn).
// RouterOS 6 is refused, not supported.
package onboard
