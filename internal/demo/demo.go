// Package demo starts the simulated router behind `wgboot demo`: rossim with
// the default SOHO configuration (a hAP ac2 with defconf), its WAN (ether1)
// and LAN (bridge) each bound to a random loopback address, so anyone can
// walk the whole wizard with no hardware. With a technician's own export
// (`wgboot demo --config`), rossim loads that instead and its WAN and LAN
// are found in it: a rehearsal on a copy of the real router.
//
// Out of scope: the wizard itself (package tui) and the command line
// (cmd/wgboot). The configuration is a copy of examples/soho-defconf.rsc,
// kept equal to it by a test (go:embed cannot reach outside the package).
package demo

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros/sim"
	"github.com/wgboot/wgboot/vpn"
)

// Config is the router's configuration: examples/soho-defconf.rsc.
//
//go:embed soho-defconf.rsc
var Config string

// Sources the router sees: a LAN client in defconf's 192.168.88.0/24, an
// internet client on the WAN, and the WAN address the DHCP client would get.
var (
	lanClient = netip.MustParseAddr("192.168.88.10")
	wanClient = netip.MustParseAddr("203.0.113.99")
	wanPrefix = netip.MustParsePrefix("203.0.113.7/24")
)

// startTimeout bounds bringing the simulated router up.
const startTimeout = 30 * time.Second

// Options configure the demo router.
type Options struct {
	// Config is a technician's own export to rehearse on; empty: the
	// embedded factory configuration (Config). Its WAN and LAN are found
	// in it (sim.FindWiring), or read from its "# wgboot-example:" line.
	Config string
	// Addr picks the loopback addresses; nil: random 127.x.y.z addresses,
	// so several demos and tests can run side by side.
	Addr func() netip.Addr
	// Logf receives the simulator's diagnostics; nil discards them (the
	// wizard owns the terminal).
	Logf func(format string, args ...any)
}

// Router is a running demo router.
type Router struct {
	Sim         *sim.Router
	LAN, WAN    netip.AddrPort // api-ssl on each side; LAN is WAN when the export has no LAN
	Fingerprint string         // of the api-ssl certificate
	// Wiring is how the router is wired: which interfaces are the WAN and
	// the LAN, and the WAN's DHCP or PPPoE address.
	Wiring sim.Wiring
}

// Start brings the demo router up. Close it when done.
func Start(ctx context.Context, o Options) (*Router, error) {
	pick := o.Addr
	if pick == nil {
		pick = randomLoopback
	}
	lan, wan := pick(), pick()
	for wan == lan {
		wan = pick()
	}
	so := sim.Options{
		Config: Config,
		Listen: []sim.Listen{
			{Iface: "ether1", Addr: wan, Src: wanClient},
			{Iface: "bridge", Addr: lan, Src: lanClient},
		},
		DynamicAddresses: []sim.DynamicAddress{{Iface: "ether1", Prefix: wanPrefix}},
		Logf:             o.Logf,
	}
	wiring := sim.Wiring{WAN: []string{"ether1"}, LAN: "bridge", Dynamic: so.DynamicAddresses, LANClient: lanClient}
	if o.Config != "" {
		w, err := sim.FindWiring(o.Config)
		if err != nil {
			var ce *sim.ConfigError
			if !errors.As(err, &ce) {
				// An export that does not load says so first, with its line.
				if r, lerr := sim.Start(ctx, sim.Options{Config: o.Config, Listen: []sim.Listen{{Iface: "ether1", Addr: wan}}}); lerr != nil {
					err = lerr
				} else {
					r.Close()
				}
			}
			return nil, fmt.Errorf("demo: %w", err)
		}
		wiring = w
		so.Config, so.DynamicAddresses, so.Version = o.Config, w.Dynamic, sim.ConfigVersion(o.Config)
		so.Listen = []sim.Listen{{Iface: w.WAN[0], Addr: wan, Src: wanClient}}
		if w.LAN != "" {
			so.Listen = append(so.Listen, sim.Listen{Iface: w.LAN, Addr: lan, Src: w.LANClient})
		}
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	r, err := sim.Start(ctx, so)
	if err != nil {
		return nil, fmt.Errorf("demo: start the simulated router: %w", err)
	}
	d := &Router{Sim: r, Fingerprint: r.Info().Fingerprint, Wiring: wiring}
	for _, l := range r.Info().Listen {
		switch l.Addr {
		case lan:
			d.LAN = netip.AddrPortFrom(lan, l.APISSL)
		case wan:
			d.WAN = netip.AddrPortFrom(wan, l.APISSL)
		}
	}
	if wiring.LAN == "" {
		// An access point or CPE: the technician reaches it from its WAN side.
		d.LAN = d.WAN
	}
	if (d.LAN.Port() == 0 || d.WAN.Port() == 0) && o.Config != "" {
		r.Close()
		return nil, fmt.Errorf("demo: api-ssl is off in this export (or not reachable on %s): wgboot reaches a router over api-ssl; "+
			"switch it on, on the router and in the export (/ip service set api-ssl disabled=no), and run the demo again", wiring.WAN[0])
	}
	if d.LAN.Port() == 0 || d.WAN.Port() == 0 {
		r.Close()
		return nil, fmt.Errorf("demo: the simulated router has no api-ssl listener (LAN %v, WAN %v)", d.LAN, d.WAN)
	}
	return d, nil
}

// Engine returns the engine options that fit the demo: the technician
// stands on the LAN, the tunnel is proven from the WAN side (where a remote
// technician will come from), and after hardening the wizard checks that
// the WAN gets no API answer. The local peer is netstack: no root needed.
// The wizard fills in the connection itself.
func (d *Router) Engine(logf func(string, ...any)) onboard.Options {
	return onboard.Options{
		Settings: onboard.Settings{
			VerifyEndpoint: d.WAN.Addr().String(),
			Local:          vpn.KindNetstack,
			LANKeepsAPI:    true,
			ConfirmTimeout: 5 * time.Minute,
		},
		WANProbe: d.WAN.String(),
		NewLocal: func(string) (vpn.Backend, error) { return vpn.NewNetstack(logf), nil },
		Logf:     logf,
	}
}

// Describe says where the demo router is, for the technician: the WAN and
// LAN interfaces, the loopback address each is on, and the WAN's address.
func (d *Router) Describe() string {
	w := d.Wiring
	s := fmt.Sprintf("WAN %s on %s", w.WAN[0], d.WAN.Addr())
	for _, a := range w.Dynamic {
		if a.Iface == w.WAN[0] {
			s += fmt.Sprintf(" (address %s, as its DHCP or PPPoE client would get)", a.Prefix)
		}
	}
	if w.LAN != "" {
		s += fmt.Sprintf(", LAN %s on %s (you are %s there)", w.LAN, d.LAN.Addr(), w.LANClient)
	} else {
		s += ", no LAN: you reach it from the WAN side"
	}
	return s + "."
}

// Close stops the router.
func (d *Router) Close() error { return d.Sim.Close() }

func randomLoopback() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(2 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(253))})
}
