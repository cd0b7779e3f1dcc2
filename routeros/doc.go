// Package routeros is wgboot's typed client for the RouterOS v7 API
// (api on TCP 8728, api-ssl on TCP 8729).
//
// It dials the router itself (through an injected DialFunc), verifies TLS
// by a pinned certificate fingerprint or a CA pool and never without
// either, logs in with deadlines on the connection, and runs commands one
// at a time ([Client.Run]) or pipelined on one connection ([Client.Batch]:
// every command tagged, one write, one round trip, replies told apart by
// tag). Typed helpers ([Client.Add], [Client.Set]) and their command
// builders ([AddCmd], [SetCmd], [CommandPath]) turn CLI menu paths such as
// "/ip firewall filter" into API words. [KnownHosts] is the
// trust-on-first-use store of router certificate fingerprints.
//
// The word codec is the API's own: github.com/go-routeros/routeros/v3/proto
// writes the sentences; replies are read by a small reader of this package
// because the library's reader rejects the bare reason word of a !fatal
// reply and starts a goroutine per read. The library's Client is not used:
// its sync mode ignores contexts and its async mode is broken upstream, so
// there is no library logger to silence either.
//
// Out of scope: the pre-6.43 challenge login, /listen and other streaming
// commands (follow, follow-only), /cancel, reconnecting by itself (a client
// whose stream may be out of step is marked broken and must be redialled),
// and any decision about what to change on a router (package onboard).
package routeros
