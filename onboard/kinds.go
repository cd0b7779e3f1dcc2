// Error kinds: what kind of failure an error from the engine is, with a message and a hint in
// words that name no front end's controls (a setting is a Setting, said by each front end).

package onboard

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/wgboot/wgboot/routeros"
)

// ErrorKind says what kind of failure an error is, so a front end acts on
// it (a field to go back to, a red stop, another subnet) without matching
// its text. KindOf finds it in any error the engine returns.
type ErrorKind string

// The kinds of failure. ErrorOther is any error of none of the others.
const (
	ErrorOther               ErrorKind = "other"
	ErrorWrongCredentials    ErrorKind = "wrong-credentials"    // the router refused the user or the password
	ErrorCertificateChanged  ErrorKind = "certificate-changed"  // not the certificate first trusted: a red stop
	ErrorCertificateMismatch ErrorKind = "certificate-mismatch" // not the pinned fingerprint
	ErrorTLS                 ErrorKind = "tls"                  // api-ssl did not complete TLS with a pinned router
	ErrorNoCertificate       ErrorKind = "no-certificate"       // api-ssl has no certificate
	ErrorRefused             ErrorKind = "refused"              // nothing listens on the API port
	ErrorUnreachable         ErrorKind = "unreachable"          // no answer: down, or filtered
	ErrorBadAddress          ErrorKind = "bad-address"          // the router's name does not resolve
	ErrorTimeout             ErrorKind = "timeout"              // the router stopped answering in time
	ErrorInterrupted         ErrorKind = "interrupted"          // the run was cancelled (ctrl+c)
	ErrorSubnetOverlap       ErrorKind = "subnet-overlap"       // the VPN subnet is in use (ErrSubnetOverlap)
	ErrorNoHandshake         ErrorKind = "no-handshake"         // no WireGuard handshake through the new tunnel
	ErrorDeclined            ErrorKind = "declined"             // no at the Gate: rolled back on request (ErrDeclined)
	ErrorWindowRanOut        ErrorKind = "window-ran-out"       // the safety net fired before wgboot confirmed
)

// errorKinds lists every kind but ErrorOther's absence of one, in order.
var errorKinds = []ErrorKind{ErrorOther, ErrorWrongCredentials, ErrorCertificateChanged, ErrorCertificateMismatch, ErrorTLS,
	ErrorNoCertificate, ErrorRefused, ErrorUnreachable, ErrorBadAddress, ErrorTimeout, ErrorInterrupted, ErrorSubnetOverlap,
	ErrorNoHandshake, ErrorDeclined, ErrorWindowRanOut}

// kindWords are each kind's message and hint.
var kindWords = map[ErrorKind]struct {
	msg  string
	hint *Hint
}{
	ErrorOther: {"wgboot could not finish.", hint("read the message above; the diagnostics say more")},
	ErrorWrongCredentials: {"The router refused the user name or the password.",
		hint("check ", SettingUser, " and ", SettingPassword)},
	ErrorCertificateChanged: {"STOP: the router's certificate changed since it was first trusted.",
		hint("someone may be intercepting the connection, or the router's certificate was replaced: on the router's console run /certificate print detail, and only if its fingerprint is the new one, forget the old one and connect again")},
	ErrorCertificateMismatch: {"The router's certificate does not match the pinned fingerprint.",
		hint("check the router's certificate with /certificate print detail on its console, then correct ", SettingFingerprint)},
	ErrorTLS: {"The router's api-ssl did not complete TLS.",
		hint("a TLS alert is not authenticated: someone on the network path may have forged it, or api-ssl lost its certificate: check /ip service and /certificate on the router from its console or LAN")},
	ErrorNoCertificate: {"The router's api-ssl service has no certificate.",
		hint("give the api-ssl service a certificate on the router (/certificate add name=api common-name=router; /certificate sign api; /ip service set api-ssl certificate=api)")},
	ErrorRefused: {"Nothing listens on the router's API port.",
		hint("enable the API service under /ip service, or use ", SettingPlain, " for port 8728")},
	ErrorUnreachable: {"The router did not answer.",
		hint("check ", SettingRouter, ", and that the firewall and /ip service address allow this computer")},
	ErrorBadAddress: {"The router's name does not resolve.",
		hint("give its IP address or the right name in ", SettingRouter)},
	ErrorTimeout: {"The router stopped answering in time.",
		hint("check the link to the router and run wgboot again; anything armed is undone by the router itself")},
	ErrorInterrupted: {"The run was interrupted.", hint("run wgboot again; anything armed was rolled back or is undone by the router itself")},
	ErrorSubnetOverlap: {"The VPN subnet overlaps a network in use.",
		hint("choose another ", SettingSubnet, ", or leave it empty to pick a free one")},
	ErrorNoHandshake: {"No WireGuard handshake through the new tunnel.",
		hint("no WireGuard handshake usually means the UDP port is blocked or forwarded elsewhere on the way (CGNAT, a router in front): try ",
			SettingVerifyEndpoint, " with an address on the router's LAN")},
	ErrorDeclined: {"Not onboarded: you declined to close the API on the WAN, so every change was rolled back.",
		hint("run wgboot again and answer yes at the Gate")},
	ErrorWindowRanOut: {"The safety net ran out before wgboot confirmed: the router rolled itself back.",
		hint("rerun with a longer ", SettingConfirmTimeout)},
}

// Message is the kind in one sentence for a technician.
func (k ErrorKind) Message() string { return kindWords[k].msg }

// Hint is what a technician can try for a failure of this kind (a copy:
// the caller may change it).
func (k ErrorKind) Hint() *Hint { return kindWords[k].hint.with("") }

// kindError gives err a kind without changing its text.
type kindError struct {
	kind ErrorKind
	err  error
}

func (k *kindError) Error() string { return k.err.Error() }
func (k *kindError) Unwrap() error { return k.err }

// withKind is err with kind k (KindOf); errors.Is and the text are err's.
func withKind(k ErrorKind, err error) error { return &kindError{kind: k, err: err} }

// KindOf is the kind of err: "" for nil, ErrorOther when none fits. The
// technician's own choices (a no at the Gate, an interrupt) come before
// what they caused.
func KindOf(err error) ErrorKind {
	if err == nil {
		return ""
	}
	switch {
	case errors.Is(err, ErrDeclined):
		return ErrorDeclined
	case errors.Is(err, context.Canceled):
		return ErrorInterrupted
	}
	if ke, ok := errors.AsType[*kindError](err); ok {
		return ke.kind
	}
	fe, isFP := errors.AsType[*routeros.FingerprintError](err)
	switch {
	case errors.Is(err, errFired):
		return ErrorWindowRanOut
	case errors.Is(err, ErrSubnetOverlap):
		return ErrorSubnetOverlap
	case errors.Is(err, routeros.ErrAuth):
		return ErrorWrongCredentials
	case isFP && fe.Changed:
		return ErrorCertificateChanged
	case isFP:
		return ErrorCertificateMismatch
	case errors.As(err, new(*pinnedTLSError)), errors.Is(err, routeros.ErrHandshake):
		return ErrorTLS
	case errors.Is(err, routeros.ErrNoCertificate):
		return ErrorNoCertificate
	case errors.Is(err, routeros.ErrRefused):
		return ErrorRefused
	case errors.As(err, new(*net.DNSError)):
		return ErrorBadAddress
	case errors.Is(err, routeros.ErrFiltered):
		return ErrorUnreachable
	case errors.Is(err, routeros.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return ErrorTimeout
	}
	return ErrorOther
}

// CertificateChange is the changed certificate err reports: the address,
// the fingerprint it has now and the file that holds the one first
// trusted. ok is false when err is no such change.
func CertificateChange(err error) (addr, got, file string, ok bool) {
	fe, isFP := errors.AsType[*routeros.FingerprintError](err)
	if !isFP || !fe.Changed {
		return "", "", "", false
	}
	return fe.Addr, fe.Got, fe.File, true
}

// Setting names a setting a hint asks the technician to change. Each front
// end says it its own way: the command line by its flag, the wizard by its
// field.
type Setting string

// The settings hints name.
const (
	SettingRouter         Setting = "router"          // the router's address
	SettingUser           Setting = "user"            // the API user
	SettingPassword       Setting = "password"        // the API password
	SettingPlain          Setting = "plain"           // the plain API (8728) instead of api-ssl
	SettingFingerprint    Setting = "fingerprint"     // the pinned certificate fingerprint
	SettingSubnet         Setting = "subnet"          // Settings.Subnet
	SettingListenPort     Setting = "listen-port"     // Settings.ListenPort
	SettingEndpoint       Setting = "endpoint"        // Settings.Endpoint
	SettingVerifyEndpoint Setting = "verify-endpoint" // Settings.VerifyEndpoint
	SettingConfirmTimeout Setting = "confirm-timeout" // Settings.ConfirmTimeout
)

// String is the setting in the engine's own words, for a front end that
// names none.
func (s Setting) String() string {
	switch s {
	case SettingPlain:
		return "the plain API"
	case SettingUser:
		return "the user name"
	}
	return "the " + strings.ReplaceAll(string(s), "-", " ") + " setting"
}

// Hint is what a technician can try, with the settings it names kept
// apart: Text says it with a front end's names for them.
type Hint struct {
	// Parts are the words around the settings: Parts[0], Settings[0],
	// Parts[1], … (one more part than settings).
	Parts    []string  `json:"parts"`
	Settings []Setting `json:"settings,omitempty"`
}

// hint makes a Hint of words (string) and settings (Setting) in order.
func hint(words ...any) *Hint {
	h := &Hint{Parts: []string{""}}
	for _, w := range words {
		switch w := w.(type) {
		case string:
			h.Parts[len(h.Parts)-1] += w
		case Setting:
			h.Settings = append(h.Settings, w)
			h.Parts = append(h.Parts, "")
		}
	}
	return h
}

// Text is the hint with each setting named by name (nil: Setting.String).
func (h *Hint) Text(name func(Setting) string) string {
	if h == nil {
		return ""
	}
	if name == nil {
		name = Setting.String
	}
	var b strings.Builder
	for i, p := range h.Parts {
		b.WriteString(p)
		if i < len(h.Settings) {
			b.WriteString(name(h.Settings[i]))
		}
	}
	return b.String()
}

// with is a copy of h with more words at its end (nil for nil).
func (h *Hint) with(words string) *Hint {
	if h == nil {
		return nil
	}
	c := &Hint{Parts: append([]string(nil), h.Parts...), Settings: append([]Setting(nil), h.Settings...)}
	c.Parts[len(c.Parts)-1] += words
	return c
}
