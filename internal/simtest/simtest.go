// Package simtest is the test harness that starts rossim (routeros/sim)
// from an examples/*.rsc config for the tests of other packages: it wires
// the example's WAN and LAN listeners on random loopback addresses, dials
// them with the routeros client, reads the router's export without its
// timestamped header, and drives an engine to its plan (Plan). Build
// builds a command once for tests that run the binary.
//
// It imports neither onboard nor anything above it: onboard's own
// in-package tests use it, and a package they import cannot import onboard
// (an import cycle). Plan therefore names the engine by its methods.
package simtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/sim"
)

// Example is one examples/*.rsc file and its "# wgboot-example:" wiring
// (the interfaces the harness treats as WAN and LAN, the dynamic addresses
// and a client address inside the LAN).
type Example struct {
	Name   string // the file name without .rsc
	Config string // the export text
	sim.Wiring
}

// ParseExample reads the wiring of config. On a malformed wiring line it
// returns the error and the example unwired (Name and Config set), which
// is what fuzz inputs want.
func ParseExample(name, config string) (Example, error) {
	ex := Example{Name: name, Config: config}
	w, err := sim.ParseWiring(config)
	if err != nil {
		return ex, fmt.Errorf("%s: %w", name, err)
	}
	ex.Wiring = w
	return ex, nil
}

// LoadExample reads the example at path (relative to the test's package
// directory); an unreadable file or a malformed wiring line fails t.
func LoadExample(t testing.TB, path string) Example {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ParseExample(strings.TrimSuffix(filepath.Base(path), ".rsc"), string(b))
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// Named loads examples/NAME.rsc of this module, wherever the test runs.
func Named(t testing.TB, name string) Example {
	t.Helper()
	return LoadExample(t, filepath.Join(ExamplesDir(t), name+".rsc"))
}

// Examples loads every file matching the glob patterns, in order. The
// first pattern must match (the examples themselves); the others may not
// (a package's own testdata configs).
func Examples(t testing.TB, patterns ...string) []Example {
	t.Helper()
	var out []Example
	for i, pat := range patterns {
		paths, err := filepath.Glob(pat)
		if err != nil || i == 0 && len(paths) == 0 {
			t.Fatalf("no examples at %s: %v", pat, err)
		}
		for _, p := range paths {
			out = append(out, LoadExample(t, p))
		}
	}
	return out
}

// ExamplesDir is the module's examples directory, found from the test's
// working directory (its package directory) upwards.
func ExamplesDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "examples")
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("simtest: no go.mod above the test's directory")
		}
		dir = up
	}
}

// Loopback returns a random 127.x.y.z address so parallel tests (and
// packages) do not collide on ports.
func Loopback() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(2 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(253))})
}

// WANClient is the source address the router sees on its WAN listener: a
// documentation address outside every example's LAN.
var WANClient = netip.MustParseAddr("203.0.113.99")

// Options are a test package's choices for the routers it starts.
type Options struct {
	// User and Password of the administrator (User "" is admin).
	User, Password string
	// Quiet keeps the simulator's log out of the test's output (it is
	// always kept out of benchmarks').
	Quiet bool
	// Sim changes the simulator's options last: version, clock speed,
	// faults (TrapOn, DropAfterCommands), listeners.
	Sim func(*sim.Options)
}

// Router is a running rossim for one example.
type Router struct {
	Sim      *sim.Router
	Example  Example
	WAN, LAN netip.Addr // listen addresses of the two sides (zero when the example has none)
	Info     sim.Info
	// User and Password log in to the router (Dial).
	User, Password string
}

// Start starts rossim for ex with a listener on the example's first WAN
// interface (seen from WANClient) and one on its LAN (seen from the LAN's
// client address), each on its own loopback address; t's cleanup closes it.
func Start(t testing.TB, ex Example, opts Options) *Router {
	t.Helper()
	rt := &Router{Example: ex, User: opts.User, Password: opts.Password}
	if rt.User == "" {
		rt.User = "admin"
	}
	o := sim.Options{Config: ex.Config, DynamicAddresses: ex.Dynamic, User: rt.User, Password: opts.Password, Logf: t.Logf}
	if _, bench := t.(*testing.B); bench || opts.Quiet {
		o.Logf = nil
	}
	if len(ex.WAN) > 0 {
		rt.WAN = Loopback()
		o.Listen = append(o.Listen, sim.Listen{Iface: ex.WAN[0], Addr: rt.WAN, Src: WANClient})
	}
	if ex.LAN != "" {
		rt.LAN = Loopback()
		o.Listen = append(o.Listen, sim.Listen{Iface: ex.LAN, Addr: rt.LAN, Src: ex.LANClient})
	}
	if opts.Sim != nil {
		opts.Sim(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := sim.Start(ctx, o)
	if err != nil {
		t.Fatalf("%s: sim.Start: %v", ex.Name, err)
	}
	t.Cleanup(func() { r.Close() })
	rt.Sim, rt.Info = r, r.Info()
	return rt
}

// Reach is the address the technician uses: the LAN side when there is one.
func (rt *Router) Reach() netip.Addr {
	if rt.LAN.IsValid() {
		return rt.LAN
	}
	return rt.WAN
}

// Port is the api port (plain) or api-ssl port at addr; 0 when the service
// is off there or addr is not one of the router's.
func (rt *Router) Port(addr netip.Addr, plain bool) uint16 {
	for _, l := range rt.Info.Listen {
		if l.Addr == addr {
			if plain {
				return l.API
			}
			return l.APISSL
		}
	}
	return 0
}

// APIAddr is host:port of api-ssl (or api when plain) at addr.
func (rt *Router) APIAddr(addr netip.Addr, plain bool) string {
	return netip.AddrPortFrom(addr, rt.Port(addr, plain)).String()
}

// Export is the router's export without its header comments (they hold
// the time), so two exports compare equal when the configuration is.
func (rt *Router) Export() string { return ExportBody(rt.Sim.Export()) }

// ExportBody is export text without its comment lines.
func ExportBody(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Dial opens a new API session at addr as the router's user: api-ssl pinned to the
// router's certificate, or the plain API when plain. Zero timeout is the
// client's default.
func (rt *Router) Dial(ctx context.Context, addr netip.Addr, plain bool, timeout time.Duration) (*routeros.Client, error) {
	cfg := routeros.Config{Addr: rt.APIAddr(addr, plain), User: rt.User, Password: rt.Password, Timeout: timeout}
	if !plain {
		cfg.TLS, cfg.Fingerprint = true, rt.Info.Fingerprint
	}
	return routeros.Dial(ctx, cfg)
}

// Answers reports whether a new API session at addr logs in (see Dial);
// the session is closed again.
func (rt *Router) Answers(ctx context.Context, addr netip.Addr, plain bool, timeout time.Duration) error {
	cl, err := rt.Dial(ctx, addr, plain, timeout)
	if err != nil {
		return err
	}
	return cl.Close()
}
