// Package firewall is the one RouterOS firewall evaluator of wgboot: the
// simulator (routeros/sim) asks it whether each new TCP connection and
// WireGuard flow reaches the router, and the onboarding engine asks it
// whether a planned ruleset keeps the API reachable before applying it.
//
// The model is the input path of RouterOS v7 for the first packet of a
// flow: raw prerouting, then nat dstnat (new connections only), then
// filter input. Rules are walked top to bottom; the first terminal rule
// decides; jump/return walk user chains; a built-in chain with no matching
// rule accepts. log, passthrough, add-src/dst-to-address-list and
// fasttrack-connection count and continue. A dstnat that moves the
// destination off the router's addresses diverts the packet (the API does
// not see it); a port change on a local address continues into input.
//
// Modelled matchers: protocol, src-/dst-port, port, src-/dst-address,
// src-/dst-address-list, in-interface, in-interface-list (with the
// built-in lists all, none, dynamic, static), out-interface(-list) (never
// on input), connection-state, connection-nat-state, src-/dst-address-type
// and ipsec-policy (our packets never come through IPsec). Every matcher
// accepts a leading "!".
//
// Out of scope, and how it shows: matchers that depend on rates, history
// or packet contents (limit, dst-limit, connection-limit, connection-rate,
// tcp-flags, layer7, content, time, ...), address-list entries that are
// DNS names, malformed values, and jump loops (RouterOS refuses them; a
// nesting deeper than 16 is cut). A rule that reaches any of these is
// assumed to match unless its action is accept, notrack or return, and the
// verdict is marked Uncertain with a Note: the evaluator never reports a
// packet as allowed on a guess. Also out of scope: the forward and output
// chains, mangle, srcnat, connection tracking timeouts, bridge firewall,
// and the separate IPv6 ruleset (pass the ruleset of the packet's family).
//
// ValidateRule reproduces RouterOS's value checks on add/set with the
// router's trap text. Texts taken from field reports of real routers:
// "input does not match any value of action/protocol", "failure: no target
// chain specified" (jump without jump-target), "failure: ports can be
// specified if proto is tcp,udp,udp-lite,dccp,sctp", "missing value(s) of
// argument(s) chain" (a CHR 7.22 probe), "value of range expects range of ip
// addresses" (bad src-/dst-address). Not verified on a router: "value of
// range out of range (0..65535)" (from a third-party emulator), "invalid
// value for argument X" for other port syntax errors, and the "input does
// not match any value of X" text for connection-state, dst-address-type,
// ipsec-policy and booleans. An empty value counts as unset and is not
// checked, although the API refuses an empty address.
package firewall
