package onboard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// ProveRemote asks Apply to prove the tunnel from outside before the
// Gate (the harden question): a peer for a phone is added, Show hands its
// config to the front end (a QR code: it holds the private key, so it goes
// to the technician's screen only), and the run waits until the router
// sees that peer's handshake come from an address outside its own
// networks (the phone on mobile data).
type ProveRemote struct {
	Name string        // the phone peer's name; "" = "phone"
	Wait time.Duration // how long to wait; 0 = 3 minutes (at most half the confirm window)
	Keep bool          // keep the phone's peer after the proof (a second device), else remove it
	Show func(*NewPeer)
}

// outsideOf says whether a, where the router saw a handshake come from,
// is outside: not on any network of the router's own addresses, and not
// private, CGNAT, loopback or link-local space unless a WAN address of the
// router is itself in such space (a modem in front forwards from there).
// why says what a is when it is not outside.
func (r *Router) outsideOf(a netip.Addr, wans []wanIface) (ok bool, why string) {
	a = a.Unmap()
	for _, rows := range [][]Row{r.Addresses, r.Addresses6} {
		for _, ad := range rows {
			if p, ok := ifacePrefix(ad["address"]); ok && p.Masked().Contains(a) {
				return false, fmt.Sprintf("%s is on the router's own network %s (%s)", a, p.Masked(), ad["interface"])
			}
		}
	}
	if !internalSpace(a) {
		return true, ""
	}
	for _, w := range wans {
		for _, p := range w.Addrs {
			if internalSpace(p.Addr()) && !a.IsLoopback() && !a.IsLinkLocalUnicast() {
				return true, ""
			}
		}
	}
	return false, fmt.Sprintf("%s is private address space and the router's WAN is not: the handshake came from inside", a)
}

// internalSpace is address space that is not the internet's.
func internalSpace(a netip.Addr) bool {
	return a.IsPrivate() || cgnat.Contains(a) || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified()
}

// proveOutside runs ProveRemote during Apply, after the tunnel carried the
// API and before the Gate. The phone's peer is a journal op of this run,
// so a failure or a rollback removes it. It returns "outside" on proof.
func (e *Engine) proveOutside(ctx context.Context, a *applyRun, via string) (string, error) {
	pr := e.o.ProveRemote
	if pr == nil {
		return via, nil
	}
	name := pr.Name
	if name == "" {
		name = "phone"
	}
	if err := ValidatePeerName(name); err != nil {
		return via, err
	}
	d := e.plan.Decision
	s := &wgSetup{run: e.run, iface: d.IfName, port: d.ListenPort, pub: e.routerPub, routerAddr: d.RouterAddr}
	rep, err := e.cl.Run(ctx, "/interface/wireguard/peers/print", "?interface="+d.IfName, "=.proplist=.id,name,interface,allowed-address,comment")
	if err != nil {
		return via, fmt.Errorf("onboard: read the peers of %s: %w", d.IfName, err)
	}
	key := peerKeyPrefix + name
	// The armed undo on the router learns of the phone's peer first: a run
	// cut off from here on (the router's timer fires) leaves nothing behind.
	src, err := undoScript(e.run, append(slices.Clone(e.plan.Ops), op{Key: key, Menu: "/interface wireguard peers", Verb: "add"}))
	if err != nil {
		return via, fmt.Errorf("onboard: add the phone's peer to the armed rollback: nothing was changed: %w", err)
	}
	var cmds [][]string
	if id := a.j.Net.Timer; id != "" {
		cmds = append(cmds, []string{"/system/scheduler/set", "=numbers=" + id, "=on-event=" + src})
	}
	if id := a.j.Net.Script; id != "" {
		cmds = append(cmds, []string{"/system/script/set", "=numbers=" + id, "=source=" + src})
	}
	if len(cmds) > 0 {
		_, errs := e.cl.Batch(ctx, cmds...)
		for _, err := range errs {
			if err != nil {
				return via, fmt.Errorf("onboard: add the phone's peer to the armed rollback: %w", err)
			}
		}
	}
	a.j.Ops = append(a.j.Ops, JournalOp{Key: key, Step: StepVerify, Menu: "/interface wireguard peers", Verb: "add", Desc: "peer " + name + " (proof from outside)", Sent: true})
	e.save(a)
	endpoint := net.JoinHostPort(d.Endpoint, strconv.Itoa(d.ListenPort))
	np, err := e.addPeer(ctx, s, &Router{Peers: rowsOf(rep)}, name, endpoint, false)
	if err != nil {
		return via, err
	}
	a.j.Ops[len(a.j.Ops)-1].Done, a.j.Ops[len(a.j.Ops)-1].ID = true, np.id
	e.save(a)
	if pr.Show != nil {
		pr.Show(np)
	}
	wait := pr.Wait
	if wait <= 0 {
		wait = 3 * time.Minute
	}
	if half := e.o.Settings.ConfirmTimeout / 2; wait > half {
		wait = half // the armed rollback must not fire while the phone is awaited
	}
	e.emit(Event{Step: StepVerify, Kind: KindStarted, Message: fmt.Sprintf("waiting up to %s for %s's handshake from outside: scan the QR code with the WireGuard app on mobile data (Wi-Fi off)", wait.Round(time.Second), name)})
	start := e.now()
	from, err := e.awaitOutside(ctx, np, wait)
	if err != nil {
		return via, err
	}
	e.provenFrom = from.String()
	e.st.ProvenVia = "outside"
	e.emit(Event{Step: StepVerify, Kind: KindDone, Message: "proven from outside: " + name + "'s handshake came from " + from.String(), Elapsed: e.now().Sub(start)})
	if !pr.Keep {
		if _, err := e.cl.Run(ctx, "/interface/wireguard/peers/remove", "=numbers="+np.id); err != nil {
			return via, fmt.Errorf("onboard: remove the peer %s after the proof: %w", name, err)
		}
		a.j.Ops[len(a.j.Ops)-1].Undone = true
		if np.ConfigPath != "" {
			removeQuiet(np.ConfigPath)
		}
	}
	// The wait took part of the confirm window: restart it for the Gate.
	if err := e.extend(ctx, a, StepVerify, e.cl); err != nil {
		return via, err
	}
	return "outside", nil
}

// awaitOutside polls the router for np's handshake until one comes from
// outside, and refuses the ones that do not.
func (e *Engine) awaitOutside(ctx context.Context, np *NewPeer, wait time.Duration) (netip.Addr, error) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	wans := e.plan.Decision.WANs
	seen := ""
	why := "no handshake came"
	for {
		rep, err := e.cl.Run(wctx, "/interface/wireguard/peers/print", "?.id="+np.id, "=.proplist=last-handshake,current-endpoint-address")
		if err == nil && len(rep.Re) > 0 && rep.Re[0]["last-handshake"] != "" {
			if a, perr := netip.ParseAddr(rep.Re[0]["current-endpoint-address"]); perr == nil {
				ok, w := e.router.outsideOf(a, wans)
				if ok {
					return a.Unmap(), nil
				}
				if a.String() != seen {
					seen, why = a.String(), w
					e.emit(Event{Step: StepVerify, Kind: KindWarning, Message: "a handshake, but not from outside: " + w + "; turn Wi-Fi off on the phone and use mobile data"})
				}
			}
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return netip.Addr{}, ctx.Err()
			}
			return netip.Addr{}, fmt.Errorf("onboard: the tunnel was not proven from outside within %s: %s", wait.Round(time.Second), why)
		case <-time.After(time.Second):
		}
	}
}
