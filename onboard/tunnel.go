// The tunnel: bringing the local peer up, proving the API answers through it, and probing
// the WAN path from outside before and after hardening.

package onboard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/vpn"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// verifyEndpoint is where this run sends WireGuard packets.
func (e *Engine) verifyEndpoint(ctx context.Context) (netip.AddrPort, string, error) {
	d := e.plan.Decision
	v := e.o.Settings.VerifyEndpoint
	if v == "" {
		v = e.host
	}
	host, port := v, strconv.Itoa(d.ListenPort)
	if h, p, err := net.SplitHostPort(v); err == nil {
		host, port = h, p
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, host, fmt.Errorf("onboard: --verify-endpoint %q: bad port", v)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return netip.AddrPort{}, host, fmt.Errorf("onboard: resolve %s: %w", host, err)
		}
		addr = ips[0]
	}
	return netip.AddrPortFrom(addr.Unmap(), uint16(pn)), host, nil
}

// tunnelUp brings up the technician's peer and waits for the handshake. It
// returns how the tunnel was reached: "wan" or "lan".
func (e *Engine) tunnelUp(ctx context.Context, a *applyRun) (string, error) {
	d := e.plan.Decision
	start := e.now()
	e.emit(Event{Step: StepTunnel, Kind: KindStarted, Message: "bringing up the local WireGuard peer"})
	pub := e.routerPub
	if pub == (wgtypes.Key{}) {
		// The read that rode with the changes came back empty.
		rep, err := e.cl.Run(ctx, "/interface/wireguard/print", "?name="+d.IfName, "=.proplist=public-key")
		if err != nil || len(rep.Re) == 0 {
			return "", fmt.Errorf("onboard: read the router's WireGuard public key: %w", err)
		}
		if pub, err = wgtypes.ParseKey(rep.Re[0]["public-key"]); err != nil {
			return "", fmt.Errorf("onboard: the router's WireGuard public key %q: %w", rep.Re[0]["public-key"], err)
		}
		e.routerPub = pub
	}
	ep, host, err := e.verifyEndpoint(ctx)
	if err != nil {
		return "", err
	}
	e.verifyEP = ep
	newLocal := e.o.NewLocal
	if newLocal == nil {
		newLocal = func(kind string) (vpn.Backend, error) { return vpn.New(kind, e.logf) }
	}
	b, err := newLocal(e.o.Settings.Local)
	if err != nil {
		return "", fmt.Errorf("onboard: local WireGuard (%s): %w", e.o.Settings.Local, err)
	}
	e.local = b
	cfg := vpn.Config{PrivateKey: e.key, Address: d.LocalAddr, Peer: vpn.Peer{PublicKey: pub, Endpoint: ep,
		AllowedIPs: []netip.Prefix{netip.PrefixFrom(d.RouterAddr.Addr(), 32)}, Keepalive: defaultKeepSec * time.Second}}
	if err := b.Up(ctx, cfg); err != nil {
		return "", fmt.Errorf("onboard: bring up the local WireGuard peer: %w", err)
	}
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	st, err := b.WaitHandshake(hctx)
	if err != nil {
		return "", withKind(ErrorNoHandshake, fmt.Errorf("onboard: no WireGuard handshake with %s within %s: %w", ep, handshakeTimeout, err))
	}
	via := e.provenVia(ctx, host)
	e.st.ProvenVia = via
	e.emit(Event{Step: StepTunnel, Kind: KindDone, Message: "handshake with " + ep.String() + " (" + via + ")",
		Handshake: &Handshake{Done: true, Age: st.Age(e.now()), Rx: st.Rx, Tx: st.Tx, Endpoint: ep.String()}, Elapsed: e.now().Sub(start)})
	return via, nil
}

// isWANHost reports whether host is reached over the WAN: one of the
// router's WAN addresses, or the host of Options.WANProbe.
func (e *Engine) isWANHost(host string) bool {
	if e.o.WANProbe != "" {
		if h, _, err := net.SplitHostPort(e.o.WANProbe); err == nil && h == host {
			return true
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, w := range e.plan.Decision.WANs {
		for _, p := range w.Addrs {
			if p.Addr() == a {
				return true
			}
		}
	}
	return false
}

// verify opens the run's one new API session through the tunnel (TLS
// pinned to the same certificate), logs in and reads the identity; the
// same round trip restarts the confirm window for the harden question.
// The session then becomes the engine's; the original one stays open as a
// fallback until Close.
func (e *Engine) verify(ctx context.Context, a *applyRun) error {
	d := e.plan.Decision
	start := e.now()
	addr := net.JoinHostPort(d.RouterAddr.Addr().String(), strconv.Itoa(int(d.UsePort)))
	e.emit(Event{Step: StepVerify, Kind: KindStarted, Message: "new API session through the tunnel to " + addr})
	cl, err := e.dial(ctx, addr, e.local.DialContext)
	if err != nil {
		return &stepError{step: StepVerify, err: fmt.Errorf("onboard: API through the tunnel (%s): %w", addr, err),
			try: "the API did not answer through the tunnel: check /ip service address and the user's allowed address"}
	}
	ext, fire, err := e.extendWords(ctx, a)
	if err != nil {
		cl.Close()
		return &stepError{step: StepVerify, err: err}
	}
	reps, errs := cl.Batch(ctx, append([][]string{{"/system/identity/print"}}, ext...)...)
	if errs[0] != nil {
		cl.Close()
		return &stepError{step: StepVerify, err: fmt.Errorf("onboard: read through the tunnel: %w", errs[0]),
			try: "the API did not answer through the tunnel: check /ip service address and the user's allowed address"}
	}
	if e.orig == nil {
		e.orig = e.cl
	} else if e.cl != nil {
		e.cl.Close()
	}
	e.cl, e.viaTunnel = cl, true
	e.emit(Event{Step: StepVerify, Kind: KindDone, Message: "the API answered through the tunnel (" + first(rowsOf(reps[0]))["name"] + ")", Elapsed: e.now().Sub(start)})
	if err := e.extended(a, StepHarden, fire, reps[1:], errs[1:]); err != nil {
		return &stepError{step: StepHarden, err: err, hint: longerWindow}
	}
	return nil
}

// tunnelAddr is the API address inside the tunnel.
func (e *Engine) tunnelAddr() string {
	d := e.plan.Decision
	return net.JoinHostPort(d.RouterAddr.Addr().String(), strconv.Itoa(int(d.UsePort)))
}

// wanProbe confirms a new WAN connection gets no answer, when this run can
// reach the router over the WAN: its own address is a WAN address, or the
// handshake sent to it came in on the WAN (via).
func (e *Engine) wanProbe(ctx context.Context, via string) error {
	target := e.o.WANProbe
	if target == "" && via == "lan" && e.isWANHost(e.host) {
		// The router saw this run's handshake arrive on the LAN although it
		// was sent to a WAN address: so would a probe sent from here, and
		// the LAN keeps its API (finding 66).
		e.emit(Event{Step: StepReverify, Kind: KindInfo, Message: "this run reached the router's WAN address " + e.host +
			" from the LAN (the router saw it arrive there), so a probe from here tests the LAN: the WAN drop rests on the firewall evaluator"})
		return nil
	}
	if target == "" && (e.isWANHost(e.host) || via == "wan" && e.verifiedAtHost()) {
		target = e.addr
	}
	if target == "" {
		e.emit(Event{Step: StepReverify, Kind: KindInfo, Message: "this run reached the router from the LAN: the WAN drop rests on the firewall evaluator"})
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, wanProbeTimeout)
	defer cancel()
	cl, err := routeros.Dial(pctx, routeros.Config{Addr: target, TLS: !e.o.Plain, Fingerprint: e.fingerprint,
		User: e.o.User, Password: e.o.Password, Dial: e.o.Dial, Timeout: wanProbeTimeout, Logf: e.logf})
	if err == nil {
		cl.Close()
		return fmt.Errorf("onboard: the API still answers a new connection from the WAN at %s", target)
	}
	e.emit(Event{Step: StepReverify, Kind: KindDone, Message: "a new WAN connection to " + target + " gets no answer"})
	return nil
}

// configPath is where the technician's wg-quick file goes: next to the
// journal, named so that `wg-quick up FILE` takes it (an interface name of
// at most 15 characters: the interface's name and the start of the run id,
// which is 32 hex digits whole).
func (e *Engine) configPath(ifName string) string {
	run := e.run
	if len(run) > 8 {
		run = run[:8]
	}
	return filepath.Join(filepath.Dir(journalPath(e.o.StateDir, e.addr)), vpn.QuickFileName(ifName+"-"+run))
}

// recordTunnel writes the technician's wg-quick file and records the
// tunnel in the journal, so a later run can come back through it when the
// original path is closed.
func (e *Engine) recordTunnel(a *applyRun) error {
	d := e.plan.Decision
	endpoint := net.JoinHostPort(d.Endpoint, strconv.Itoa(d.ListenPort))
	qc := vpn.QuickFromConfig(vpn.Config{PrivateKey: e.key, Address: d.LocalAddr, Peer: vpn.Peer{PublicKey: e.routerPub,
		AllowedIPs: []netip.Prefix{netip.PrefixFrom(d.RouterAddr.Addr(), 32)}, Keepalive: defaultKeepSec * time.Second}}, endpoint)
	path := ""
	if e.o.StateDir != "" {
		path = e.configPath(d.IfName)
		if err := vpn.WriteQuick(path, qc); err != nil {
			return fmt.Errorf("onboard: write the technician's config: %w", err)
		}
	}
	a.j.Tunnel = &TunnelInfo{RouterAddr: e.tunnelAddr(), VerifyEndpoint: e.verifyEP.String(), ConfigPath: path}
	e.save(a)
	return nil
}
