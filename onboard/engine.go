package onboard

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/vpn"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Named deadlines. Each bounds one kind of wait; ctx may cut them shorter.
const (
	callTimeout      = 10 * time.Second // each API call
	handshakeTimeout = 20 * time.Second // first WireGuard handshake
	wanProbeTimeout  = 3 * time.Second  // "the WAN gets no answer" probe
)

// Options configure an Engine.
type Options struct {
	Router      string // host[:port]
	Plain       bool   // api 8728 instead of api-ssl 8729
	User        string
	Password    string // from WGBOOT_PASSWORD or a prompt, never a flag
	Fingerprint string // pinned api-ssl certificate (hex SHA-256)
	TOFU        bool   // trust the certificate on first use (recorded in StateDir)
	StateDir    string
	Settings    Settings
	Dial        routeros.DialFunc                      // nil: net.Dialer (tests: loopback)
	NewLocal    func(kind string) (vpn.Backend, error) // nil: vpn.New
	Prompter    Prompter                               // nil: every question gets its default
	Sink        Sink                                   // nil: events are dropped
	Now         func() time.Time                       // nil: time.Now
	Logf        func(format string, args ...any)       // nil: discard

	// WANProbe is the host:port of the API as seen from the WAN, dialled
	// after hardening to confirm it no longer answers. Empty: Router, when
	// the router address is one of its WAN addresses; otherwise no probe.
	WANProbe string
	// RunID names this run in every tag; empty: random.
	RunID string
	// NewKey makes the technician's WireGuard key; nil: a random key.
	NewKey func() (wgtypes.Key, error)
	// Timeout bounds each API call; zero means 10s.
	Timeout time.Duration
	// LocalRoutes lists the networks this computer already routes, which
	// the VPN subnet must avoid; nil: vpn.LocalRoutes (the routing table).
	LocalRoutes func() ([]netip.Prefix, error)
	// ProveRemote, when set, proves the tunnel from outside with a phone
	// before the Gate (see ProveRemote).
	ProveRemote *ProveRemote
	// Via is a wg-quick file: Connect brings its tunnel up in process and
	// reaches Router (the API inside the tunnel, see ViaRouter) through it.
	Via string
}

// session is the part of routeros.Client the engine uses; tests may wrap it.
type session interface {
	Run(ctx context.Context, words ...string) (*routeros.Reply, error)
	Batch(ctx context.Context, cmds ...[]string) ([]*routeros.Reply, []error)
	Close() error
}

var _ session = (*routeros.Client)(nil)

// Engine runs one onboarding against one router. Its methods are not safe
// for concurrent use: a front end drives it from one goroutine.
type Engine struct {
	o    Options
	addr string // host:port of the API
	host string
	logf func(string, ...any)
	now  func() time.Time

	fingerprint string
	pinFile     string // the known hosts file fingerprint came from ("" for --fingerprint)
	offered     bool   // the plain-API certificate creation was offered once
	cl          session
	orig        session // the session on the original path, once cl goes through the tunnel
	viaTunnel   bool    // cl goes through the tunnel
	router      *Router
	plan        *planned
	public      *Plan
	key         wgtypes.Key // technician's private key: never logged
	run         string
	local       vpn.Backend
	verifyEP    netip.AddrPort
	routerPub   wgtypes.Key
	provenFrom  string // where a phone proved the tunnel from outside
	// The router's clock as last read (clockRouter) and the local time of
	// that reading: the scheduler's times are estimated from them.
	clockRouter, clockLocal time.Time
	clockOld                bool // the clock printed mmm/dd/yyyy (before 7.10)
	// rollbackEnded: a final rollback event (done or failed) went out
	// since Rollback began; Rollback sends one itself when not.
	rollbackEnded bool

	mu     sync.Mutex // guards following
	closed bool
}

// New checks o and returns an engine. It does no I/O.
func New(o Options) (*Engine, error) {
	if o.Router == "" {
		return nil, errors.New("onboard: no router given: use --router HOST[:PORT]")
	}
	if o.User == "" {
		o.User = "admin"
	}
	e := &Engine{o: o, logf: o.Logf, now: o.Now}
	if e.logf == nil {
		e.logf = func(string, ...any) {}
	}
	if e.now == nil {
		e.now = time.Now
	}
	port := "8729"
	if o.Plain {
		port = "8728"
	}
	host, p, err := net.SplitHostPort(o.Router)
	if err != nil {
		host, p = strings.Trim(o.Router, "[]"), port
	}
	e.host, e.addr = host, net.JoinHostPort(host, p)
	if o.Settings.ConfirmTimeout == 0 {
		e.o.Settings.ConfirmTimeout = 5 * time.Minute
	}
	if o.Settings.Local == "" {
		e.o.Settings.Local = "auto"
	}
	e.run = o.RunID
	if e.run == "" {
		// 128 bits: no two runs anywhere share an id, so a journal or a
		// tag found by run id is this run's.
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("onboard: run id: %w", err)
		}
		e.run = hex.EncodeToString(b[:])
	}
	return e, nil
}

// RunID is the id this run tags its objects with.
func (e *Engine) RunID() string { return e.run }

// Addr is the API address (host:port) the engine talks to.
func (e *Engine) Addr() string { return e.addr }

func (e *Engine) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	if ev.Step == StepRollback && (ev.Kind == KindDone || ev.Kind == KindFailed) {
		e.rollbackEnded = true
	}
	if e.o.Sink != nil {
		e.o.Sink(ev)
	}
}

func (e *Engine) confirm(ctx context.Context, q Question) (bool, error) {
	if e.o.Prompter == nil {
		return q.Default, nil
	}
	return e.o.Prompter.Confirm(ctx, q)
}

func (e *Engine) timeout() time.Duration {
	if e.o.Timeout > 0 {
		return e.o.Timeout
	}
	return callTimeout
}

// Connect reaches the router, settles trust in its certificate (pinned,
// known from an earlier run, or trusted on first use), logs in and checks
// that it runs RouterOS 7 with WireGuard.
func (e *Engine) Connect(ctx context.Context) error {
	start := e.now()
	e.emit(Event{Step: StepConnect, Kind: KindStarted, Message: "connecting to " + e.addr})
	if err := e.connect(ctx); err != nil {
		e.emit(Event{Step: StepConnect, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{What: err.Error(), Try: connectHint(err)}})
		return err
	}
	e.emit(Event{Step: StepConnect, Kind: KindDone, Message: "logged in to " + e.addr + " as " + e.o.User, Elapsed: e.now().Sub(start)})
	return nil
}

func connectHint(err error) string {
	switch {
	case errors.Is(err, routeros.ErrAuth):
		return "check the user name and the password in WGBOOT_PASSWORD"
	case errors.Is(err, routeros.ErrRefused):
		return "enable the API service under /ip service, or use --plain for port 8728"
	case errors.Is(err, routeros.ErrFiltered):
		return "the router did not answer: check the address, and that the firewall and /ip service address allow this computer"
	case errors.As(err, new(*pinnedTLSError)):
		return "a TLS alert is not authenticated: someone on the network path may have forged it, " +
			"or api-ssl lost its certificate: check /ip service and /certificate on the router from its console or LAN; " +
			"wgboot never falls back to the plain API for a pinned router"
	case errors.Is(err, routeros.ErrNoCertificate):
		return "give the api-ssl service a certificate on the router (/certificate add name=api common-name=router; " +
			"/certificate sign api; /ip service set api-ssl certificate=api); the plain API sends the password unencrypted"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "check the router address: " + dns.Name + " does not resolve (a typo, or this computer's DNS does not know it); give its IP address or the right name in --router"
	}
	return ""
}

func (e *Engine) connect(ctx context.Context) error {
	if e.o.Via != "" && e.local == nil {
		if err := e.upVia(ctx); err != nil {
			return err
		}
	}
	if !e.o.Plain {
		if err := e.trust(ctx); err != nil {
			return err
		}
	}
	cl, err := e.dial(ctx, e.addr, e.o.Dial)
	if err != nil {
		if perr := e.pinned(e.addr, err); perr != nil {
			return perr
		}
		if e.o.Via == "" && (errors.Is(err, routeros.ErrFiltered) || errors.Is(err, routeros.ErrRefused)) {
			if terr := e.connectViaTunnel(ctx); terr == nil {
				return nil
			} else if !errors.Is(terr, errNoTunnel) {
				return fmt.Errorf("onboard: connect to %s: %w; through the tunnel: %w", e.addr, err, terr)
			}
		}
		return fmt.Errorf("onboard: connect to %s: %w", e.addr, err)
	}
	e.cl = cl
	return nil
}

var errNoTunnel = errors.New("onboard: no tunnel recorded for this router")

// pinnedTLSError is a TLS handshake that did not complete with a router
// whose certificate is pinned. It is an error and never a reason to reach
// the router another way: the alert that reads "no certificate" is seven
// unauthenticated bytes anyone on the path can send.
type pinnedTLSError struct {
	addr, fp, from string
	err            error
}

func (p *pinnedTLSError) Error() string {
	return fmt.Sprintf("onboard: api-ssl on %s did not complete TLS; it was pinned to %s (%s); nothing was sent: %v", p.addr, p.fp, p.from, p.err)
}

func (p *pinnedTLSError) Unwrap() error { return p.err }

// pinned turns an error dialling a pinned router at addr into what the
// technician acts on: a failed handshake is a *pinnedTLSError, a
// certificate that differs from the known hosts line says so (Changed).
// Other errors give nil.
func (e *Engine) pinned(addr string, err error) error {
	if e.o.Plain || e.fingerprint == "" {
		return nil
	}
	from := "--fingerprint"
	if e.pinFile != "" {
		from = "recorded in " + e.pinFile
	}
	if fe, ok := errors.AsType[*routeros.FingerprintError](err); ok && e.pinFile != "" && !fe.Changed {
		// The line to check and remove is the router address's, also
		// when the certificate came through the tunnel.
		fe.Changed, fe.File, fe.Addr = true, e.pinFile, e.addr
		return fmt.Errorf("onboard: %w", fe)
	}
	if errors.Is(err, routeros.ErrHandshake) {
		return &pinnedTLSError{addr: addr, fp: e.fingerprint, from: from, err: err}
	}
	return nil
}

// connectViaTunnel reaches a router whose original path gives no answer
// (the WAN was closed by an earlier run) through the tunnel that run
// recorded: the technician's key from the wg-quick file, the endpoint this
// machine used then.
func (e *Engine) connectViaTunnel(ctx context.Context) error {
	j, err := ReadJournal(e.o.StateDir, e.addr)
	if err != nil || j == nil || j.Tunnel == nil || j.Tunnel.ConfigPath == "" {
		return errNoTunnel
	}
	b, err := os.ReadFile(j.Tunnel.ConfigPath)
	if err != nil {
		return fmt.Errorf("onboard: read %s: %w", j.Tunnel.ConfigPath, err)
	}
	qc, err := vpn.ParseQuick(b)
	if err != nil {
		return fmt.Errorf("onboard: %s: %w", j.Tunnel.ConfigPath, err)
	}
	if len(qc.Interface.Address) == 0 {
		return fmt.Errorf("onboard: %s has no Address", j.Tunnel.ConfigPath)
	}
	epa, err := netip.ParseAddrPort(j.Tunnel.VerifyEndpoint)
	if err != nil {
		return fmt.Errorf("onboard: recorded tunnel endpoint %q: %w", j.Tunnel.VerifyEndpoint, err)
	}
	if v := e.o.Settings.VerifyEndpoint; v != "" {
		if ap, err := netip.ParseAddrPort(v); err == nil {
			epa = ap
		} else if a, err := netip.ParseAddr(v); err == nil {
			epa = netip.AddrPortFrom(a, epa.Port())
		}
	}
	newLocal := e.o.NewLocal
	if newLocal == nil {
		newLocal = func(kind string) (vpn.Backend, error) { return vpn.New(kind, e.logf) }
	}
	lb, err := newLocal(e.o.Settings.Local)
	if err != nil {
		return fmt.Errorf("onboard: local WireGuard: %w", err)
	}
	cfg := vpn.Config{PrivateKey: qc.Interface.PrivateKey, Address: qc.Interface.Address[0], Peer: vpn.Peer{PublicKey: qc.Peer.PublicKey, Endpoint: epa,
		AllowedIPs: qc.Peer.AllowedIPs, Keepalive: defaultKeepSec * time.Second}}
	if err := lb.Up(ctx, cfg); err != nil {
		lb.Close()
		return fmt.Errorf("onboard: bring up the tunnel: %w", err)
	}
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	if _, err := lb.WaitHandshake(hctx); err != nil {
		lb.Close()
		return fmt.Errorf("onboard: no handshake through the recorded tunnel: %w", err)
	}
	cl, err := e.dial(ctx, j.Tunnel.RouterAddr, lb.DialContext)
	if err != nil {
		lb.Close()
		if perr := e.pinned(j.Tunnel.RouterAddr, err); perr != nil {
			err = perr
		}
		return fmt.Errorf("onboard: API through the tunnel: %w", err)
	}
	e.local, e.cl, e.viaTunnel = lb, cl, true
	e.emit(Event{Step: StepConnect, Kind: KindInfo, Message: e.addr + " gives no answer (the WAN is closed): connected through the tunnel to " + j.Tunnel.RouterAddr})
	return nil
}

func (e *Engine) dial(ctx context.Context, addr string, dial routeros.DialFunc) (*routeros.Client, error) {
	return routeros.Dial(ctx, routeros.Config{
		Addr: addr, TLS: !e.o.Plain, Fingerprint: e.fingerprint,
		User: e.o.User, Password: e.o.Password, Dial: dial, Timeout: e.timeout(),
		Logf: e.logf,
	})
}

// trust settles the fingerprint to pin: the flag, the known hosts file, or
// a first-use probe the technician (or --tofu) accepts.
func (e *Engine) trust(ctx context.Context) error {
	if e.o.Fingerprint != "" {
		fp, err := routeros.NormalizeFingerprint(e.o.Fingerprint)
		if err != nil {
			return fmt.Errorf("onboard: --fingerprint: %w", err)
		}
		e.fingerprint = fp
		return nil
	}
	kh := routeros.NewKnownHosts(e.o.StateDir)
	fp, ok, err := kh.Lookup(e.addr)
	if err != nil {
		return fmt.Errorf("onboard: known hosts: %w", err)
	}
	if ok {
		// A recorded router is pinned: the dial checks its certificate
		// (see pinned for a changed one). No probe first: a failed
		// handshake with a pinned router is an error, never a question,
		// and once the WAN is closed the pin also serves the dial through
		// the tunnel (the same router's certificate) without waiting on
		// the closed address twice.
		e.fingerprint, e.pinFile = fp, kh.Path()
		return nil
	}
	got, err := routeros.Fingerprint(ctx, e.addr, e.o.Dial)
	if err != nil {
		if errors.Is(err, routeros.ErrNoCertificate) {
			return e.offerCertificate(ctx, err)
		}
		return fmt.Errorf("onboard: read the certificate of %s: %w", e.addr, err)
	}
	if !e.o.TOFU {
		yes, err := e.confirm(ctx, Question{ID: QTrustFingerprint, Title: "Trust the router's certificate?",
			Detail: fmt.Sprintf("%s presents a certificate with SHA-256 fingerprint %s. Compare it with /certificate print detail on the router.", e.addr, got)})
		if err != nil {
			return err
		}
		if !yes {
			return fmt.Errorf("onboard: the certificate of %s was not trusted: pass --fingerprint %s after checking it on the router, or --tofu", e.addr, got)
		}
	}
	if err := kh.Add(e.addr, got); err != nil {
		return fmt.Errorf("onboard: %w", err)
	}
	e.emit(Event{Step: StepConnect, Kind: KindInfo, Message: "trusted certificate " + got + " (recorded in " + kh.Path() + ")"})
	e.fingerprint = got
	return nil
}

// offerCertificate explains a certificate-less api-ssl and, only on an
// explicit yes to a Danger question, creates and signs a self-signed
// certificate over the plain API. The alert that brought us here proves
// nothing (anyone on the path can send it), so the password then crosses
// the network in clear: never for a pinned router, never twice, and never
// on a front end's automatic yes (they refuse Danger questions).
func (e *Engine) offerCertificate(ctx context.Context, cause error) error {
	if e.o.Fingerprint != "" || e.fingerprint != "" {
		return &pinnedTLSError{addr: e.addr, fp: cmp.Or(e.fingerprint, e.o.Fingerprint), from: "--fingerprint", err: cause}
	}
	kh := routeros.NewKnownHosts(e.o.StateDir)
	if fp, ok, err := kh.Lookup(e.addr); err != nil || ok {
		if err != nil {
			return fmt.Errorf("onboard: known hosts: %w", err)
		}
		return &pinnedTLSError{addr: e.addr, fp: fp, from: "recorded in " + kh.Path(), err: cause}
	}
	if e.offered {
		return fmt.Errorf("onboard: api-ssl on %s still refuses TLS after wgboot set a certificate on it over the plain API; "+
			"someone on the path may be forging the alert: check /ip service on the router from its console: %w", e.addr, cause)
	}
	e.offered = true
	plainAddr := net.JoinHostPort(e.host, "8728")
	howto := "/certificate add name=api common-name=router; /certificate sign api; /ip service set api-ssl certificate=api"
	yes, err := e.confirm(ctx, Question{ID: QCreateCertificate, Danger: true,
		Title: "Send the password unencrypted to create a certificate?",
		Detail: fmt.Sprintf("api-ssl on %s refused TLS with a handshake_failure alert. A router whose api-ssl has no certificate "+
			"sends that alert, but anyone on the network path can forge it. wgboot can log in over the plain API (%s): "+
			"your password then crosses the network UNENCRYPTED. It would create a self-signed certificate named wgboot-api "+
			"and set it on api-ssl. Say yes only on a network you trust end to end (the router's LAN, a direct cable); "+
			"otherwise create the certificate at the router's console: %s.", e.addr, plainAddr, howto)})
	if err != nil {
		return err
	}
	if !yes {
		return fmt.Errorf("onboard: %w: create one on the router (%s), or use --plain on a network you trust", cause, howto)
	}
	plain, err := routeros.Dial(ctx, routeros.Config{Addr: plainAddr, User: e.o.User, Password: e.o.Password, Dial: e.o.Dial, Timeout: e.timeout(), Logf: e.logf})
	if err != nil {
		return fmt.Errorf("onboard: create a certificate over the plain API: %w", err)
	}
	defer plain.Close()
	id, err := plain.Add(ctx, "/certificate", routeros.Args{{Key: "name", Value: "wgboot-api"}, {Key: "common-name", Value: e.host}, {Key: "days-valid", Value: "3650"}})
	if err != nil {
		return fmt.Errorf("onboard: create a certificate: %w", err)
	}
	if _, err := plain.Run(ctx, "/certificate/sign", "=.id="+id); err != nil {
		return fmt.Errorf("onboard: sign the certificate: %w", err)
	}
	if err := plain.Set(ctx, "/ip/service", "api-ssl", routeros.Args{{Key: "certificate", Value: "wgboot-api"}}); err != nil {
		return fmt.Errorf("onboard: set the certificate on api-ssl: %w", err)
	}
	e.emit(Event{Step: StepConnect, Kind: KindInfo, Message: "created certificate wgboot-api for api-ssl"})
	return e.trust(ctx)
}

// Inspect reads everything the plan needs in one batch of prints. The
// checklist goes out as it is decided, one progress Event per group of
// facts, and comes back whole.
func (e *Engine) Inspect(ctx context.Context) ([]Fact, error) {
	if e.cl == nil {
		return nil, errors.New("onboard: inspect before connect")
	}
	start := e.now()
	e.emit(Event{Step: StepInspect, Kind: KindStarted, Message: "reading the router"})
	r, err := inspect(ctx, e.cl)
	if err != nil {
		e.emit(Event{Step: StepInspect, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{What: err.Error()}})
		return nil, err
	}
	e.router = r
	if r.Clock != nil {
		e.noteClock(r.Clock)
	}
	var facts []Fact
	for _, g := range r.factGroups() {
		facts = append(facts, g...)
		e.emit(Event{Step: StepInspect, Kind: KindProgress, Message: g[0].Name, Facts: g})
	}
	if !r.hasWireGuard() {
		err := fmt.Errorf("onboard: the router runs RouterOS %s, which has no WireGuard (wgboot needs RouterOS 7.1 or later): upgrade to RouterOS 7.1 or later first", r.Version)
		try := "upgrade to RouterOS 7.1 or later (/system package update), then run wgboot again; nothing was changed"
		if r.versionHasWireGuard() {
			// A recent RouterOS that refused the print: not an upgrade matter.
			err = fmt.Errorf("onboard: the router (RouterOS %s) refused to list /interface wireguard: check the user's group policies (read, write)", r.Version)
			try = "fix the user's permissions and run wgboot again; nothing was changed"
		}
		e.emit(Event{Step: StepInspect, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{What: err.Error(), Try: try}})
		return facts, err
	}
	e.emit(Event{Step: StepInspect, Kind: KindDone, Message: "read " + r.Identity, Elapsed: e.now().Sub(start)})
	return facts, nil
}

// Router returns the last snapshot read by Inspect (nil before).
func (e *Engine) Router() *Router { return e.router }

func inspect(ctx context.Context, cl session) (*Router, error) {
	cmds := make([][]string, len(inspectQueries))
	for i, q := range inspectQueries {
		cmds[i] = q.words()
	}
	replies, errs := cl.Batch(ctx, cmds...)
	rows := make([][]Row, len(replies))
	for i, rep := range replies {
		if rep == nil {
			continue
		}
		for _, m := range rep.Re {
			rows[i] = append(rows[i], Row(m))
		}
	}
	if len(errs) != len(cmds) {
		errs = make([]error, len(cmds))
	}
	// A broken session fails every print: report the first failure.
	for _, err := range errs {
		var de *routeros.DeviceError
		if err != nil && !errors.As(err, &de) {
			return nil, fmt.Errorf("onboard: inspect: %w", err)
		}
	}
	r, err := buildRouter(rows, errs)
	if err != nil {
		return nil, err
	}
	if err := readNamedLists(ctx, cl, r); err != nil {
		return nil, err
	}
	return r, nil
}

// hasWireGuard reports whether the router can run WireGuard: RouterOS 7.1
// or later (7.0.x had none), with the /interface wireguard menu.
func (r *Router) hasWireGuard() bool {
	return r.versionHasWireGuard() && !slices.Contains(r.Missing, "/interface/wireguard/print")
}

// versionHasWireGuard reports whether the version is 7.1 or later (or
// unknown).
func (r *Router) versionHasWireGuard() bool {
	major, minor := r.MajorVersion(), r.minorVersion()
	return major == 0 || major > 7 || major == 7 && minor >= 1
}

// minorVersion returns the RouterOS minor version (20 for "7.20.6").
func (r *Router) minorVersion() int {
	_, rest, ok := strings.Cut(strings.TrimSpace(r.Version), ".")
	if !ok {
		return 0
	}
	return atoi(rest)
}

// factGroups is the inspect checklist in the order it is decided: the
// router, its API services, its WAN side and public endpoint, how the API
// is exposed now, the WireGuard it already has and wgboot's own objects.
func (r *Router) factGroups() [][]Fact {
	var gs [][]Fact
	sys := []Fact{{Name: "Identity", Value: r.Identity}, {Name: "RouterOS", Value: r.Version}}
	if !r.versionHasWireGuard() {
		sys[1].Warning = "this RouterOS has no WireGuard: upgrade to RouterOS 7.1 or later"
	}
	if r.Board != "" {
		sys = append(sys, Fact{Name: "Board", Value: r.Board})
	}
	gs = append(gs, sys)

	var svcs []string
	for _, s := range r.apiServices() {
		v := fmt.Sprintf("%s %d", s.Name, s.Port)
		if s.Address != "" {
			v += " from " + s.Address
		}
		svcs = append(svcs, v)
	}
	api := Fact{Name: "API services", Value: strings.Join(svcs, ", ")}
	if len(svcs) == 0 {
		api.Value, api.Warning = "none enabled", "enable api-ssl under /ip service"
	}
	gs = append(gs, []Fact{api})

	wans, _ := wansOf(r)
	wan := Fact{Name: "WAN interfaces"}
	var parts []string
	for _, w := range wans {
		var as []string
		for _, p := range append(slices.Clone(w.Addrs), w.Addr6...) {
			as = append(as, p.String())
		}
		if len(as) == 0 {
			as = []string{"no address"}
		}
		parts = append(parts, w.Name+" "+strings.Join(as, ", "))
	}
	wan.Value = strings.Join(parts, "; ")
	if len(wans) == 0 {
		wan.Value, wan.Warning = "none found", "no WAN interface list and no default route: wgboot cannot tell the WAN from the LAN; add the WAN interface to the interface list WAN"
	}
	gs = append(gs, []Fact{wan, r.endpointFact(wans)})

	d := &decision{API: r.apiServices(), WANs: wans}
	var exposure []Fact
	fw := r.compiled()
	probes, _ := d.probesOn(r, fw)
	for _, p := range probes {
		if p.Kind != "wan-api" && p.Kind != "wan-api-src" && p.Kind != "wan-api6" {
			continue
		}
		v := fw.eval(p)
		f := Fact{Name: "API exposure now: " + p.Label, Value: verdictText(v) + " " + decidedBy(r, p, v)}
		if v.Action == "accept" {
			f.Warning = "the API answers from the WAN" + sources(r, p, v) + ": wgboot closes it after the tunnel is proven"
		}
		exposure = append(exposure, f)
	}
	if len(exposure) > 0 {
		gs = append(gs, exposure)
	}

	wg := Fact{Name: "WireGuard interfaces", Value: "none"}
	var wgs []string
	for _, w := range r.WireGuard {
		v := w["name"] + " (UDP " + w["listen-port"]
		if wgbootTagged(w) {
			v += ", wgboot's"
		}
		wgs = append(wgs, v+")")
	}
	if len(wgs) > 0 {
		wg.Value = strings.Join(wgs, ", ")
	}
	if !r.hasWireGuard() {
		wg.Value = "not available"
	}
	var tagged int
	for _, rows := range [][]Row{r.WireGuard, r.Peers, r.Addresses, r.Filter, r.Filter6, r.AddressLists, r.Schedulers, r.Scripts} {
		for _, row := range rows {
			if wgbootTagged(row) {
				tagged++
			}
		}
	}
	f := Fact{Name: "wgboot objects", Value: fmt.Sprint(tagged)}
	if r.armedRun() != "" {
		f.Warning = "an earlier wgboot run " + r.armedRun() + " is still armed: it will roll back by itself, or run wgboot rollback"
	}
	return append(gs, []Fact{wg, f})
}

// endpointFact says which public name or address the technician's config
// will use, and warns when that address cannot be reached from the
// internet (CGNAT, private).
func (r *Router) endpointFact(wans []wanIface) Fact {
	f := Fact{Name: "Public endpoint"}
	if isTrue(r.Cloud["ddns-enabled"]) && r.Cloud["dns-name"] != "" {
		f.Value = r.Cloud["dns-name"] + " (IP cloud DDNS)"
		return f
	}
	for _, w := range wans {
		if len(w.Addrs) == 0 {
			continue
		}
		a := w.Addrs[0].Addr()
		f.Value = a.String() + " (" + w.Name + ")"
		switch {
		case cgnat.Contains(a):
			f.Warning = "the WAN address is in the carrier-grade NAT range 100.64.0.0/10: the router is not reachable from the internet; ask the provider for a public address, or give a reachable name with --endpoint"
		case slices.ContainsFunc(private, func(p netip.Prefix) bool { return p.Contains(a) }):
			f.Warning = "the WAN address is private: another router in front must forward UDP to this one; give its public name with --endpoint"
		}
		return f
	}
	f.Value = "unknown"
	f.Warning = "the router has no WAN address to publish: give the public name with --endpoint"
	return f
}

// armedRun returns the run id of an armed undo scheduler, or "".
func (r *Router) armedRun() string {
	for _, s := range r.Schedulers {
		if c := s["comment"]; strings.HasPrefix(c, tagPrefix) && strings.HasSuffix(c, " undo-timer") {
			return strings.TrimSuffix(strings.TrimPrefix(c, tagPrefix), " undo-timer")
		}
	}
	return ""
}

// onboardedRun returns the run id of a committed onboarding (a tagged
// WireGuard interface), or "".
func (r *Router) onboardedRun() string {
	for _, w := range r.WireGuard {
		if c := w["comment"]; strings.HasPrefix(c, tagPrefix) && strings.HasSuffix(c, " wg-interface") {
			return strings.TrimSuffix(strings.TrimPrefix(c, tagPrefix), " wg-interface")
		}
	}
	return ""
}

// Plan decides and checks the plan for s. It changes nothing on the router.
// A router that is already onboarded gives a plan with Noop set.
func (e *Engine) Plan(ctx context.Context, s Settings) (*Plan, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if e.router == nil {
		if _, err := e.Inspect(ctx); err != nil {
			return nil, err
		}
	}
	if run := e.router.armedRun(); run != "" {
		// An earlier run lost the router before committing. Its journal (or
		// its tags) says what it did: undo it, then plan afresh.
		yes, err := e.confirm(ctx, Question{ID: QRollbackEarlier, Title: "Roll back the unfinished run " + run + "?",
			Detail: "An earlier wgboot run on this router did not finish; its automatic rollback is still armed. wgboot can undo it now and start again.", Default: true})
		if err != nil {
			return nil, err
		}
		if yes {
			if err := e.Rollback(ctx); err != nil {
				return nil, err
			}
			if _, err := e.Inspect(ctx); err != nil {
				return nil, err
			}
		}
	}
	e.emit(Event{Step: StepPlan, Kind: KindStarted, Message: "deciding the plan"})
	p, err := e.makePlan(s)
	if err != nil {
		e.emit(Event{Step: StepPlan, Kind: KindFailed, Message: err.Error(), Plan: p, Err: &FailureInfo{What: err.Error(), Try: "nothing was changed on the router"}})
		return p, err
	}
	for _, w := range p.Warnings {
		e.emit(Event{Step: StepPlan, Kind: KindWarning, Message: w})
	}
	msg := fmt.Sprintf("%d changes", len(p.Changes))
	if p.Noop {
		msg = "already onboarded: nothing to change"
	}
	e.emit(Event{Step: StepPlan, Kind: KindDone, Message: msg, Plan: p})
	return p, nil
}

func (e *Engine) makePlan(s Settings) (*Plan, error) {
	r := e.router
	if run := r.armedRun(); run != "" {
		return nil, fmt.Errorf("onboard: an earlier wgboot run %s is still armed on the router: wait for its automatic rollback or run wgboot rollback first", run)
	}
	if s.ConfirmTimeout == 0 {
		s.ConfirmTimeout = e.o.Settings.ConfirmTimeout
	}
	if s.Local == "" {
		s.Local = e.o.Settings.Local
	}
	if run := r.onboardedRun(); run != "" {
		return noopPlan(r, run, s), nil
	}
	if e.key == (wgtypes.Key{}) {
		gen := e.o.NewKey
		if gen == nil {
			gen = wgtypes.GeneratePrivateKey
		}
		k, err := gen()
		if err != nil {
			return nil, fmt.Errorf("onboard: generate the technician's key: %w", err)
		}
		e.key = k
	}
	local, warn := e.localRoutes()
	d, err := decide(r, decideInput{RunID: e.run, User: e.o.User, Plain: e.o.Plain, Host: e.host, Settings: s, LocalRoutes: local})
	if err != nil {
		return nil, err
	}
	if warn != "" {
		d.Warnings = append(d.Warnings, warn)
	}
	pl, p, err := makePlan(r, d, s, e.key.PublicKey().String())
	if p != nil {
		e.public = p
	}
	if err != nil {
		return p, err
	}
	addOldValues(r, e.run, pl, p)
	e.plan = pl
	return p, nil
}

// localRoutes reads the networks this computer routes. Failing to read
// them is not fatal (the router's networks are still avoided), but the
// plan says so.
func (e *Engine) localRoutes() ([]netip.Prefix, string) {
	f := e.o.LocalRoutes
	if f == nil {
		f = vpn.LocalRoutes
	}
	ps, err := f()
	if err != nil {
		return nil, fmt.Sprintf("could not read this computer's routes (%v): the VPN subnet avoids the router's networks only; check it is not a network this computer uses", err)
	}
	return ps, ""
}

// noopPlan describes an onboarded router: no changes, the verdicts as they are.
func noopPlan(r *Router, run string, s Settings) *Plan {
	p := &Plan{Settings: s, Noop: true}
	for _, w := range r.WireGuard {
		if wgbootTagged(w) {
			p.Settings.ListenPort = atoi(w["listen-port"])
		}
	}
	for _, a := range r.AddressLists {
		if a["list"] == vpnList && strings.HasSuffix(a["comment"], " vpn-list") {
			p.Settings.Subnet = a["address"]
		}
	}
	p.Warnings = append(p.Warnings, "the router was onboarded by wgboot run "+run+": nothing to change (wgboot rollback undoes it)")
	return p
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return n
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// Close ends the API session and the local peer.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	if e.cl != nil {
		errs = append(errs, e.cl.Close())
	}
	if e.orig != nil {
		errs = append(errs, e.orig.Close())
	}
	if e.local != nil {
		errs = append(errs, e.local.Close())
	}
	return errors.Join(errs...)
}
