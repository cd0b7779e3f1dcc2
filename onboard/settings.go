package onboard

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ErrDeclined says the technician declined the "harden" question (the
// Gate) and wants the router left as it was: Apply then undoes every change
// it made (the router's export is as before; the events say so, their
// State ends RolledBack) and returns an error wrapping ErrDeclined, failed
// at StepHarden. A Prompter answers the Gate with a plain "no" (false, nil);
// returning ErrDeclined itself means the same.
var ErrDeclined = errors.New("onboard: you declined to close the API on the WAN: wgboot rolls every change back")

// Bounds of the automatic rollback timer: below a minute the tunnel may not
// be proven in time on a slow link; above an hour a mistake locks the router
// out for too long.
const (
	MinConfirmTimeout = time.Minute
	MaxConfirmTimeout = time.Hour
)

// maxHostLen is the longest DNS name (RFC 1035, text form without the final dot).
const maxHostLen = 253

// Validate checks the settings before anything is read from or written to a
// router, so that a typo is refused naming its flag instead of ending up in
// the technician's wg-quick file. Zero values ("let the engine choose") are
// valid. The error names the flag to fix.
func (s Settings) Validate() error {
	if s.Subnet != "" {
		if err := checkSubnet(s.Subnet); err != nil {
			return err
		}
	}
	if s.ListenPort < 0 || s.ListenPort > 65535 {
		return fmt.Errorf("onboard: --listen-port %d is not a port number: give 1..65535, or leave it out for 13231 or the next free port", s.ListenPort)
	}
	if s.Endpoint != "" {
		if err := checkHostPort(s.Endpoint); err != nil {
			return fmt.Errorf("onboard: --endpoint %q: %w; give the router's public host name or address, optionally with :PORT (like wg.example.com or 203.0.113.7:13231)", clip(s.Endpoint), err)
		}
	}
	if s.VerifyEndpoint != "" {
		if err := checkHostPort(s.VerifyEndpoint); err != nil {
			return fmt.Errorf("onboard: --verify-endpoint %q: %w; give a host name or address this computer reaches the router at, optionally with :PORT", clip(s.VerifyEndpoint), err)
		}
	}
	switch s.Local {
	case "", "auto", "kernel", "netstack":
	default:
		return fmt.Errorf("onboard: --local must be auto, kernel or netstack, not %q", clip(s.Local))
	}
	if s.ConfirmTimeout != 0 && (s.ConfirmTimeout < MinConfirmTimeout || s.ConfirmTimeout > MaxConfirmTimeout) {
		return fmt.Errorf("onboard: --confirm-timeout %s is out of range: give 1m to 1h (the router undoes everything after it unless wgboot confirms)", s.ConfirmTimeout)
	}
	return nil
}

// Validate checks the options a front end collected before any dial:
// the router address, the settings, and that a pinned fingerprint and
// trust-on-first-use are not both asked for. New does not call it (tests
// dial names of their own); front ends do.
func (o Options) Validate() error {
	if err := ValidateRouter(o.Router); err != nil {
		return err
	}
	if o.Fingerprint != "" && o.TOFU {
		return errors.New("onboard: --fingerprint and --tofu exclude each other: pin the fingerprint, or trust on first use")
	}
	return o.Settings.Validate()
}

// ValidateRouter checks the --router value (HOST[:PORT]) before any dial: a
// host name that cannot exist (over-long, non-ASCII, spaces) is refused here
// instead of as a DNS failure.
func ValidateRouter(router string) error {
	if router == "" {
		return errors.New("onboard: no router given: use --router HOST[:PORT]")
	}
	if err := checkRouter(router); err != nil {
		return fmt.Errorf("onboard: --router %q: %w; give the router's address or host name, optionally with :PORT (like 192.168.88.1 or router.example.com:8729)", clip(router), err)
	}
	return nil
}

// checkSubnet accepts a private IPv4 prefix from /16 to /30; the router
// takes .1 and the technician .2 of it.
func checkSubnet(v string) error {
	p, err := netip.ParsePrefix(strings.TrimSpace(v))
	switch {
	case err != nil:
		return fmt.Errorf("onboard: --subnet %q is not a prefix: give a private IPv4 prefix like 10.77.0.0/24", clip(v))
	case !p.Addr().Is4():
		return fmt.Errorf("onboard: --subnet %s is not IPv4: give a private IPv4 prefix like 10.77.0.0/24", p)
	case p.Bits() < 16 || p.Bits() > 30:
		return fmt.Errorf("onboard: --subnet %s: give a prefix from /16 to /30 (like 10.77.0.0/24), so that it holds .1 for the router and .2 for you", p)
	}
	m := p.Masked()
	private := false
	for _, r := range []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16")} {
		if r.Contains(m.Addr()) && r.Bits() <= m.Bits() {
			private = true
		}
	}
	if !private {
		return fmt.Errorf("onboard: --subnet %s is not a private range (10/8, 172.16/12, 192.168/16): give one like 10.77.0.0/24", p)
	}
	return nil
}

// checkHostPort accepts HOST, HOST:PORT, an IP address, [IPv6]:PORT or a
// bare IPv6 address.
func checkHostPort(v string) error {
	host, port := v, ""
	if _, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil && !strings.Contains(strings.Trim(v, "[]"), "%") {
		return nil
	}
	if strings.HasPrefix(v, "[") || strings.Count(v, ":") == 1 {
		h, p, err := net.SplitHostPort(v)
		if err != nil {
			return errors.New("not HOST or HOST:PORT")
		}
		host, port = h, p
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not 1..65535", clip(port))
		}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return errors.New("an address with a zone cannot be used")
		}
		return nil
	}
	return checkHostName(host)
}

// checkHostName applies the DNS name rules (RFC 1123 labels). Names with
// non-ASCII letters must be given in their xn-- (punycode) form: neither
// RouterOS nor wg-quick resolves the Unicode form.
func checkHostName(h string) error {
	if h == "" {
		return errors.New("no host")
	}
	if len(h) > maxHostLen {
		return fmt.Errorf("the host name is %d characters long, the most a DNS name can have is %d", len(h), maxHostLen)
	}
	for _, r := range h {
		switch {
		case r == ' ' || r == '\t':
			return errors.New("a host name has no spaces")
		case r > 0x7e:
			return errors.New("a host name with non-ASCII letters must be given in its xn-- (punycode) form")
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("label %q of the host name must have 1 to 63 characters", clip(l))
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q of the host name starts or ends with a hyphen", clip(l))
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("the host name has the character %q, which no host name has", c)
			}
		}
	}
	return nil
}

// clip shortens a value echoed in an error so a 10k-character typo does not
// flood the terminal.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return strings.ToValidUTF8(s[:60], "") + "…"
}
