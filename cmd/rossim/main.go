// Command rossim runs a simulated RouterOS v7 router (package
// routeros/sim) on loopback addresses, for tests and demos of wgboot.
//
//	rossim --config examples/soho-defconf.rsc \
//	  --listen ether1=127.0.1.1,src=203.0.113.50 \
//	  --listen bridge=127.0.1.2,src=192.168.88.10 --ready-json
//
// It runs until SIGINT or SIGTERM, then writes --state-out and exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wgboot/wgboot/routeros/sim"
)

// version is rossim's own version (set with -ldflags "-X main.version=...").
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type options struct {
	sim       sim.Options
	wiring    string // how the export was wired when no --listen or --dynamic-address said so
	version   bool
	readyJSON bool
	stateOut  string
	verbose   bool
}

// parseFlags reads the command line; the password comes from --password
// or, better (argv is visible to other users), ROSSIM_PASSWORD.
func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (*options, error) {
	fs := flag.NewFlagSet("rossim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var config, cert string
	var listens, dyns, traps listFlag
	fs.StringVar(&config, "config", "", "RouterOS export `file` to start from (default: a bare router)")
	fs.StringVar(&o.sim.Version, "routeros-version", "7.20.6", "RouterOS `version` to emulate")
	fs.BoolVar(&o.version, "version", false, "print rossim's own version and exit")
	fs.StringVar(&cert, "cert", "auto", "api-ssl certificate: auto (self-signed) or none (handshake fails, as on a router without one)")
	fs.Var(&listens, "listen", "`IFACE=ADDR[,src=IP]`: bind services on loopback ADDR as interface IFACE, seen from IP (repeatable)")
	fs.Var(&dyns, "dynamic-address", "`IFACE=CIDR`: a dynamic address on IFACE, as DHCP or PPPoE gives (repeatable)")
	fs.StringVar(&o.sim.User, "user", "admin", "administrator `name`")
	fs.StringVar(&o.sim.Password, "password", "", "administrator `password` (prefer ROSSIM_PASSWORD: argv is visible to other users)")
	fs.BoolVar(&o.readyJSON, "ready-json", false, "print one JSON line on stdout when every listener is up")
	fs.StringVar(&o.stateOut, "state-out", "", "write the final configuration as export text to `file` on exit")
	fs.Float64Var(&o.sim.ClockSpeed, "clock-speed", 1, "simulated clock speed (schedulers)")
	fs.DurationVar(&o.sim.Latency, "latency", 0, "added to every API reply and WireGuard packet")
	fs.IntVar(&o.sim.DropAfterCommands, "drop-after-commands", 0, "sever every API connection right after the `N`th command (0: never)")
	fs.Var(&traps, "trap-on", "answer command `PATH` (e.g. /ip/firewall/filter/add) with a trap (repeatable)")
	fs.BoolVar(&o.verbose, "v", false, "log diagnostics to stderr")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("rossim: unexpected argument %q", fs.Arg(0))
	}
	if pw := getenv("ROSSIM_PASSWORD"); pw != "" && o.sim.Password == "" {
		o.sim.Password = pw
	}
	if cert != "auto" && cert != "none" {
		return nil, fmt.Errorf("rossim: --cert must be auto or none, not %q", cert)
	}
	o.sim.Cert = cert
	if config != "" {
		b, err := os.ReadFile(config)
		if err != nil {
			return nil, fmt.Errorf("rossim: read config: %w", err)
		}
		o.sim.Config = string(b)
	}
	for _, l := range listens {
		li, err := parseListen(l)
		if err != nil {
			return nil, err
		}
		o.sim.Listen = append(o.sim.Listen, li)
	}
	for _, d := range dyns {
		iface, cidr, ok := strings.Cut(d, "=")
		p, err := netip.ParsePrefix(cidr)
		if !ok || iface == "" || err != nil {
			return nil, fmt.Errorf("rossim: --dynamic-address %q: want IFACE=CIDR, e.g. ether1=203.0.113.7/24", d)
		}
		o.sim.DynamicAddresses = append(o.sim.DynamicAddresses, sim.DynamicAddress{Iface: iface, Prefix: p})
	}
	o.sim.TrapOn = traps
	if config != "" && len(listens) == 0 && len(dyns) == 0 {
		versionGiven := false
		fs.Visit(func(f *flag.Flag) { versionGiven = versionGiven || f.Name == "routeros-version" })
		if v := sim.ConfigVersion(o.sim.Config); v != "" && !versionGiven {
			o.sim.Version = v // a copy of a router runs at its version
		}
		autoWire(&o, stderr)
	}
	return &o, nil
}

// wanClient is where the internet side's traffic comes from when rossim
// wires an export itself (a documentation address, RFC 5737).
var wanClient = netip.MustParseAddr("203.0.113.99")

// autoWire wires the export the way `wgboot demo --config` does: its WAN
// and LAN (sim.FindWiring) on free loopback addresses, the WAN's DHCP or
// PPPoE address given. An export whose WAN cannot be told keeps the one
// ether1 listener; one that does not parse fails in sim.Start with its line.
func autoWire(o *options, stderr io.Writer) {
	w, err := sim.FindWiring(o.sim.Config)
	if err != nil {
		var ce *sim.ConfigError
		if !errors.As(err, &ce) {
			fmt.Fprintf(stderr, "rossim: %v; listening as ether1\n", err)
		}
		return
	}
	o.sim.Listen = append(o.sim.Listen, sim.Listen{Iface: w.WAN[0], Src: wanClient})
	if w.LAN != "" {
		o.sim.Listen = append(o.sim.Listen, sim.Listen{Iface: w.LAN, Src: w.LANClient})
	}
	o.sim.DynamicAddresses = w.Dynamic
	o.wiring = w.String()
}

// parseListen reads IFACE=ADDR[,src=IP]; an empty ADDR picks a free 127.x address.
func parseListen(s string) (sim.Listen, error) {
	bad := func(why string) (sim.Listen, error) {
		return sim.Listen{}, fmt.Errorf("rossim: --listen %q: %s (want IFACE=ADDR[,src=IP], e.g. ether1=127.0.1.1,src=203.0.113.50)", s, why)
	}
	iface, rest, _ := strings.Cut(s, "=")
	if iface == "" {
		return bad("no interface")
	}
	l := sim.Listen{Iface: iface}
	parts := strings.Split(rest, ",")
	if parts[0] != "" {
		a, err := netip.ParseAddr(parts[0])
		if err != nil {
			return bad("address is not an IP address")
		}
		if !a.IsLoopback() {
			return bad("address must be a loopback address (127.0.0.0/8 or ::1)")
		}
		l.Addr = a
	}
	for _, p := range parts[1:] {
		v, ok := strings.CutPrefix(p, "src=")
		if !ok {
			return bad("unknown option " + p)
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return bad("src is not an IP address")
		}
		l.Src = a
	}
	return l, nil
}

// ready is the --ready-json line.
type ready struct {
	Version     string       `json:"routeros_version"`
	Listen      []readyEntry `json:"listen"`
	Fingerprint string       `json:"fingerprint"`
	// WireGuard maps each running WireGuard interface to its UDP port on every listen address.
	WireGuard map[string]uint16 `json:"wireguard,omitempty"`
	// Wiring is how rossim wired the export itself (no --listen or
	// --dynamic-address given), in the keys of a "# wgboot-example:" line.
	Wiring string `json:"wiring,omitempty"`
}

type readyEntry struct {
	Iface  string `json:"iface"`
	Addr   string `json:"addr"`
	API    uint16 `json:"api"`
	APISSL uint16 `json:"api_ssl"`
	// SSH, Winbox and WWW only greet; absent when not bound.
	SSH    uint16 `json:"ssh,omitempty"`
	Winbox uint16 `json:"winbox,omitempty"`
	WWW    uint16 `json:"www,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr, os.Getenv)
	if err != nil {
		return err
	}
	if o.version {
		fmt.Fprintf(stdout, "rossim %s (emulates RouterOS %s by default)\n", version, "7.20.6")
		return nil
	}
	if o.verbose {
		o.sim.Logf = func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) }
	}
	r, err := sim.Start(ctx, o.sim)
	if err != nil {
		return err
	}
	info := r.Info()
	if o.readyJSON {
		rd := ready{Version: o.sim.Version, Fingerprint: info.Fingerprint, WireGuard: info.WireGuard, Wiring: o.wiring}
		for _, l := range info.Listen {
			rd.Listen = append(rd.Listen, readyEntry{Iface: l.Iface, Addr: l.Addr.String(), API: l.API, APISSL: l.APISSL,
				SSH: l.SSH, Winbox: l.Winbox, WWW: l.WWW})
		}
		b, _ := json.Marshal(rd)
		fmt.Fprintln(stdout, string(b))
	} else {
		if o.wiring != "" {
			fmt.Fprintf(stderr, "rossim: wired from the export: %s\n", o.wiring)
		}
		for _, l := range info.Listen {
			fmt.Fprintf(stderr, "rossim: %s on %s: api %d, api-ssl %d\n", l.Iface, l.Addr, l.API, l.APISSL)
		}
		if info.Fingerprint != "" {
			fmt.Fprintf(stderr, "rossim: api-ssl certificate sha256 %s\n", info.Fingerprint)
		}
	}
	<-ctx.Done()
	var errs []error
	if o.stateOut != "" {
		// The export holds WireGuard private keys: owner-only.
		if err := writeFile(o.stateOut, r.Export()); err != nil {
			errs = append(errs, err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- r.Close() }()
	select {
	case err := <-done:
		errs = append(errs, err)
	case <-time.After(10 * time.Second):
		errs = append(errs, errors.New("rossim: close timed out"))
	}
	return errors.Join(errs...)
}

func writeFile(name, text string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("rossim: state-out: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("rossim: state-out: %w", err)
	}
	return f.Close()
}
