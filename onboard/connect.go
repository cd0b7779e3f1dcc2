// Connecting: dialing the router over api-ssl (pinned or CA-verified), plain only when asked,
// or through a recorded tunnel; the trust question and the certificate offer.

package onboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/vpn"
)

// Connect reaches the router, settles trust in its certificate (pinned,
// known from an earlier run, or trusted on first use), logs in and checks
// that it runs RouterOS 7 with WireGuard.
func (e *Engine) Connect(ctx context.Context) error {
	start := e.now()
	e.emit(Event{Step: StepConnect, Kind: KindStarted, Message: "connecting to " + e.addr})
	if err := e.connect(ctx); err != nil {
		e.emit(Event{Step: StepConnect, Kind: KindFailed, Message: err.Error(), Err: Describe(err)})
		return err
	}
	e.st.Connected = true
	e.emit(Event{Step: StepConnect, Kind: KindDone, Message: "logged in to " + e.addr + " as " + e.o.User, Elapsed: e.now().Sub(start)})
	return nil
}

// Describe is the FailureInfo of an error reaching the router (Connect's):
// its kind, what the technician can try and, for a changed certificate,
// the red stop every front end shows.
func Describe(err error) *FailureInfo {
	info := failure(err, err.Error(), connectHint(err))
	if addr, _, _, ok := CertificateChange(err); ok {
		info.What, info.Diagnostics = "STOP: the certificate of "+addr+" changed since it was first trusted.", err.Error()
	}
	return info
}

func connectHint(err error) *Hint {
	switch {
	case errors.Is(err, routeros.ErrAuth):
		return hint("check the user name and the password in ", SettingPassword)
	case errors.Is(err, routeros.ErrRefused):
		return hint("enable the API service under /ip service, or use ", SettingPlain, " for port 8728")
	case errors.Is(err, routeros.ErrFiltered):
		return hint("the router did not answer: check the address, and that the firewall and /ip service address allow this computer")
	case errors.As(err, new(*pinnedTLSError)):
		return hint("a TLS alert is not authenticated: someone on the network path may have forged it, " +
			"or api-ssl lost its certificate: check /ip service and /certificate on the router from its console or LAN; " +
			"wgboot never falls back to the plain API for a pinned router")
	case errors.Is(err, routeros.ErrNoCertificate):
		return hint("give the api-ssl service a certificate on the router (/certificate add name=api common-name=router; " +
			"/certificate sign api; /ip service set api-ssl certificate=api); the plain API sends the password unencrypted")
	}
	if addr, got, file, ok := CertificateChange(err); ok {
		// A red stop in every front end: the only way on is by hand, after
		// checking the router's console.
		return hint("Someone may be intercepting the connection, or the router's certificate was replaced. " +
			"On the router's console run /certificate print detail; only if its fingerprint is " + got +
			", remove the line for " + addr + " from " + file + " and connect again.")
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return hint("check the router address: "+dns.Name+" does not resolve (a typo, or this computer's DNS does not know it); give its IP address or the right name in ", SettingRouter)
	}
	return nil
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
