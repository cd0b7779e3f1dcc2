package onboard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wgboot/wgboot/routeros/rsc"

	"github.com/wgboot/wgboot/vpn"
)

// readVia parses the wg-quick file of Options.Via.
func readVia(path string) (vpn.QuickConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return vpn.QuickConfig{}, fmt.Errorf("onboard: --via: %w", err)
	}
	q, err := vpn.ParseQuick(b)
	if err != nil {
		return q, fmt.Errorf("onboard: --via %s: %w", path, err)
	}
	if err := q.Validate(); err != nil {
		return q, fmt.Errorf("onboard: --via %s: %w", path, err)
	}
	return q, nil
}

// ViaRouter is the router's address inside the tunnel a wg-quick file
// describes: the first single address of its AllowedIPs (wgboot writes
// the router's tunnel address /32 there), else the first address of the
// first prefix. A front end uses it as --router when only --via is given.
func ViaRouter(path string) (string, error) {
	q, err := readVia(path)
	if err != nil {
		return "", err
	}
	for _, p := range q.Peer.AllowedIPs {
		if p.IsSingleIP() {
			return p.Addr().String(), nil
		}
	}
	p := q.Peer.AllowedIPs[0].Masked()
	return p.Addr().Next().String(), nil
}

// upVia brings up, in process (netstack: no root, no interface), the
// tunnel that Options.Via describes, and sends every dial of this engine
// through it: the router is reached with nothing but the config a
// technician or team member was given.
func (e *Engine) upVia(ctx context.Context) error {
	q, err := readVia(e.o.Via)
	if err != nil {
		return err
	}
	ep, err := e.viaEndpoint(ctx, q.Peer.Endpoint)
	if err != nil {
		return err
	}
	newLocal := e.o.NewLocal
	if newLocal == nil {
		newLocal = func(string) (vpn.Backend, error) { return vpn.NewNetstack(e.logf), nil }
	}
	lb, err := newLocal(vpn.KindNetstack)
	if err != nil {
		return fmt.Errorf("onboard: local WireGuard: %w", err)
	}
	ka := q.Peer.PersistentKeepalive
	if ka == 0 {
		ka = defaultKeepSec * time.Second
	}
	cfg := vpn.Config{PrivateKey: q.Interface.PrivateKey, Address: q.Interface.Address[0], Peer: vpn.Peer{PublicKey: q.Peer.PublicKey,
		PresharedKey: q.Peer.PresharedKey, Endpoint: ep, AllowedIPs: q.Peer.AllowedIPs, Keepalive: ka}}
	if err := lb.Up(ctx, cfg); err != nil {
		lb.Close()
		return fmt.Errorf("onboard: bring up the tunnel of %s: %w", e.o.Via, err)
	}
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	if _, err := lb.WaitHandshake(hctx); err != nil {
		lb.Close()
		return fmt.Errorf("onboard: no WireGuard handshake with %s (the endpoint of %s): the router does not know this key any more (removed or rotated), "+
			"or UDP %d does not get through: %w", ep, e.o.Via, ep.Port(), err)
	}
	e.local, e.viaTunnel = lb, true
	e.o.Dial = lb.DialContext
	e.emit(Event{Step: StepConnect, Kind: KindInfo, Message: "tunnel up through " + ep.String() + " (" + e.o.Via + ")"})
	return nil
}

// viaEndpoint resolves the config's endpoint; --verify-endpoint (a host or
// host:port) replaces it, as it does for the onboarding's own tunnel.
func (e *Engine) viaEndpoint(ctx context.Context, endpoint string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("onboard: --via %s: endpoint %q: %w", e.o.Via, endpoint, err)
	}
	if v := e.o.Settings.VerifyEndpoint; v != "" {
		if ap, err := netip.ParseAddrPort(v); err == nil {
			return ap, nil
		}
		host = strings.Trim(v, "[]")
	}
	var p uint16
	if _, err := fmt.Sscan(port, &p); err != nil || p == 0 {
		return netip.AddrPort{}, fmt.Errorf("onboard: --via %s: endpoint port %q", e.o.Via, port)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), p), nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return netip.AddrPort{}, fmt.Errorf("onboard: --via %s: resolve the endpoint %s: %w", e.o.Via, host, err)
	}
	return netip.AddrPortFrom(addrs[0].Unmap(), p), nil
}

// viaSplit takes out of ops, when this engine came in through Options.Via,
// the removals that cut that tunnel (the WireGuard interface, its address,
// its peers): sent through the tunnel, the first would end the session and
// strand the rest. finishVia hands them to the router instead.
func (e *Engine) viaSplit(ops []JournalOp) (now, later []JournalOp) {
	if e.o.Via == "" {
		return ops, nil
	}
	for _, o := range ops {
		if o.Verb == "add" && (tunnelOp(&o) || strings.HasPrefix(o.Key, peerKeyPrefix)) {
			later = append(later, o)
		} else {
			now = append(now, o)
		}
	}
	return now, later
}

// finishVia has the router remove later by itself, a few seconds after
// this session ends: a scheduler tagged "wgboot:<run> finish" whose script
// removes them in reverse order, then itself. It is the one way to remove
// the tunnel a session runs through.
func (e *Engine) finishVia(ctx context.Context, j *Journal, later []JournalOp, undone []string) ([]string, error) {
	if len(later) == 0 {
		return undone, nil
	}
	// Built as lines by the one writer (rsc quoting, ids checked) and
	// parsed back before it is sent, like the undo script: a script the
	// router cannot parse would leave the tunnel for good.
	ops := make([]op, len(later))
	for i := range later {
		ops[i] = later[i].op()
	}
	if err := checkIDs(ops); err != nil {
		return undone, fmt.Errorf("onboard: hand the tunnel's removal to the router: %w", err)
	}
	lines := []string{":log warning " + rsc.Quote("wgboot: removing the tunnel of run "+j.RunID)}
	for i := len(ops) - 1; i >= 0; i-- {
		lines = append(lines, ops[i].inverse(j.RunID)...)
	}
	lines = append(lines, removeLine("/system scheduler", findTag(j.RunID, "finish")))
	src := strings.Join(lines, "\n") + "\n"
	if _, err := rsc.ParseScript(src); err != nil {
		return undone, fmt.Errorf("onboard: hand the tunnel's removal to the router: the script does not parse: %w", err)
	}
	_, err := e.cl.Run(ctx, "/system/scheduler/add", "=name=wgboot-finish-"+j.RunID, "=interval=3s",
		"=on-event="+src, "=comment="+tag(j.RunID, "finish"))
	if err != nil {
		return undone, fmt.Errorf("onboard: hand the tunnel's removal to the router: %w", err)
	}
	for _, o := range later {
		o.Sent, o.Undone = true, true
		j.Ops = append(j.Ops, o)
		undone = append(undone, o.Desc)
	}
	e.emit(Event{Step: StepRollback, Kind: KindInfo, Message: "the router removes the tunnel this session runs through (" + strconv.Itoa(len(later)) + " items) by itself in a few seconds"})
	return undone, nil
}
