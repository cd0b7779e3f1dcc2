package routeros

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wgboot/wgboot/internal/safetext"
)

// Sentinel errors, checked with errors.Is. Each documents what a
// technician can do about it.
var (
	// ErrAuth means the router refused the user name or password. The
	// returned error also wraps the router's *DeviceError.
	ErrAuth = errors.New("routeros: login refused")

	// ErrRefused means nothing listens on the API port: the service is
	// disabled under /ip service, or the port or address is wrong.
	ErrRefused = errors.New("routeros: connection refused")

	// ErrFiltered means the router did not answer before the deadline
	// while connecting: a firewall rule drops the packets, /ip service
	// "address" does not allow this source (the connection then opens but
	// stays silent), or the host is down.
	ErrFiltered = errors.New("routeros: no answer before the deadline")

	// ErrTimeout means a command sent on an open session got no complete
	// reply before the deadline. The client is then broken.
	ErrTimeout = errors.New("routeros: no reply before the deadline")

	// ErrNoCertificate means the router's api-ssl service has no
	// certificate. RouterOS then offers only anonymous Diffie-Hellman
	// cipher suites, which Go's TLS does not implement, so the handshake
	// fails. Fix: create and sign a certificate on the router and set it on
	// the api-ssl service (wgboot can do that over the plain API, port
	// 8728, with the technician's consent).
	ErrNoCertificate = errors.New("routeros: the router's api-ssl service has no certificate")

	// ErrBroken means an earlier error left the session's stream possibly
	// out of step (a timeout, a cancelled call, a malformed reply, !fatal).
	// The client must be closed and dialled again.
	ErrBroken = errors.New("routeros: session broken by an earlier error, dial again")

	// ErrClosed means the client was closed.
	ErrClosed = errors.New("routeros: client closed")

	// ErrUnknownHost is returned by KnownHosts.Check for a router whose
	// fingerprint was never recorded.
	ErrUnknownHost = errors.New("routeros: router not in known hosts")
)

// DeviceError is an error reported by the router: a !trap reply (the
// command failed, the session goes on) or a !fatal reply (the router
// closes the session).
type DeviceError struct {
	// Message is the router's text, e.g. "no such item (4)".
	Message string
	// Category is the trap category (0 missing item or command, 1
	// argument value failure, 2 execution interrupted, 3 scripting
	// failure, 4 general failure, 5 API failure, 6 TTY failure, 7 :return
	// value), or -1 when the router sent none.
	Category int
	// Fatal is true for !fatal: the router closed the session.
	Fatal bool
	// Command is the command word the reply answers, e.g.
	// "/ip/firewall/filter/add" (empty for an untagged !fatal).
	Command string
}

// Error renders the router's message as one line with its control
// characters escaped: it is shown to the technician, and a router is not
// trusted to send only text.
func (e *DeviceError) Error() string {
	var b strings.Builder
	b.WriteString("routeros: ")
	if e.Command != "" {
		b.WriteString(safetext.Line(e.Command))
		b.WriteString(": ")
	}
	if e.Fatal {
		b.WriteString("router closed the session: ")
	} else {
		b.WriteString("router said: ")
	}
	b.WriteString(safetext.Line(e.Message))
	return b.String()
}

// FingerprintError means the router's certificate is not the one expected:
// either a pin given by the technician does not match, or (Changed) the
// certificate differs from the one recorded in the known hosts file.
type FingerprintError struct {
	Addr      string // router address as dialled
	Want, Got string // lowercase hex SHA-256 of the certificate DER
	// Changed is true when Want came from the known hosts file.
	Changed bool
	// File is the known hosts file holding Want (when Changed).
	File string
}

func (e *FingerprintError) Error() string {
	if e.Changed {
		return fmt.Sprintf("routeros: the certificate of %s CHANGED since it was first trusted "+
			"(recorded %s, now %s): someone may be intercepting the connection, or the router's "+
			"certificate was replaced; check on the router with /certificate print detail "+
			"(fingerprint) and, only if it matches the new value, remove the line for %s from %s",
			e.Addr, e.Want, e.Got, e.Addr, e.File)
	}
	return fmt.Sprintf("routeros: the certificate of %s does not match the pinned fingerprint "+
		"(want %s, got %s); check the router's certificate with /certificate print detail",
		e.Addr, e.Want, e.Got)
}

// authError is a refused login; it wraps ErrAuth and the router's error.
type authError struct {
	user, addr string
	dev        *DeviceError
}

func (e *authError) Error() string {
	return fmt.Sprintf("routeros: login as %q to %s refused: %s; check the user name and the "+
		"password (WGBOOT_PASSWORD), and that the user's group has the api and read/write policies",
		e.user, e.addr, e.dev.Message)
}

func (e *authError) Unwrap() []error { return []error{ErrAuth, e.dev} }

func deviceError(err error) (*DeviceError, bool) {
	var de *DeviceError
	ok := errors.As(err, &de)
	return de, ok
}

// IsNotFound reports whether err is a router error saying an item, menu
// or command does not exist ("no such item", "no such command").
func IsNotFound(err error) bool {
	de, ok := deviceError(err)
	if !ok || de.Fatal {
		return false
	}
	return de.Category == 0 || strings.HasPrefix(de.Message, "no such ")
}

// IsPermission reports whether err is a router error saying the user's
// group lacks a policy ("not enough permissions").
func IsPermission(err error) bool {
	de, ok := deviceError(err)
	return ok && strings.Contains(de.Message, "not enough permissions")
}

// IsAlreadyExists reports whether err is a router error refusing a
// duplicate ("failure: already have such entry").
func IsAlreadyExists(err error) bool {
	de, ok := deviceError(err)
	return ok && strings.Contains(de.Message, "already have")
}

// IsInvalidArgument reports whether err is a router error about an
// argument: a bad value (category 1) or an unknown parameter.
func IsInvalidArgument(err error) bool {
	de, ok := deviceError(err)
	if !ok || de.Fatal {
		return false
	}
	return de.Category == 1 || strings.HasPrefix(de.Message, "unknown parameter") ||
		strings.HasPrefix(de.Message, "invalid value")
}

// IsInterrupted reports whether err is a router error saying the command
// was interrupted (category 2, e.g. after /cancel).
func IsInterrupted(err error) bool {
	de, ok := deviceError(err)
	return ok && !de.Fatal && de.Category == 2
}

// IsFatal reports whether err is a !fatal reply: the router closed the
// session.
func IsFatal(err error) bool {
	de, ok := deviceError(err)
	return ok && de.Fatal
}
