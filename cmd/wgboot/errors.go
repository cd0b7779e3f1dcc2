package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/wgboot/wgboot/internal/safetext"
	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros"
)

// The engine's errors are chains ("onboard: connect to X: routeros:
// connection refused by X: ...: dial tcp X: connect: connection refused"):
// right for --debug and for a ticket, noise for a technician. The CLI
// prints them in words: package prefixes dropped, Go's network errors
// said plainly (or dropped when the sentence before already says it).

// pkgPrefix is a package's "name: " at the start of the text or of a
// clause of it.
var pkgPrefix = regexp.MustCompile(`(^|: |; |\()(?:onboard|routeros|fleet|rsc|sim|vpn|firewall|tui|wgboot): `)

// netTail is the text of a *net.OpError, always last in a chain:
// "dial tcp 127.0.0.1:1: connect: connection refused",
// "read tcp 10.0.0.2:5555->10.0.0.1:8729: i/o timeout".
var netTail = regexp.MustCompile(`(?:^|: )(?:dial|read|write) (?:tcp|udp)[46]?(?:: | (?:[^ ]*->)?([^ ]+?): )(.*)$`)

// lookupTail is a failed name lookup: "lookup r.invalid on 127.0.0.53:53: no such host".
var lookupTail = regexp.MustCompile(`lookup ([^ :]+)(?: on [^ ]+)?: (no such host|server misbehaving|i/o timeout)`)

// netWords are Go's network error texts in words, and the words that say
// the same already (then the tail is dropped).
var netWords = []struct{ cause, words, said string }{
	{"connection refused", "nothing listens on %s (connection refused)", "refused"},
	{"i/o timeout", "%s did not answer in time", "did not answer"},
	{"operation timed out", "%s did not answer in time", "did not answer"},
	{"no route to host", "there is no route to %s: check the address and this computer's network", "no route"},
	{"network is unreachable", "this computer has no network route to %s", "unreachable"},
	{"connection reset by peer", "%s closed the connection (reset)", "reset"},
	{"broken pipe", "%s closed the connection", "closed the connection"},
}

// cutByTimeout is connectTimeoutError's text at the end of a chain.
var cutByTimeout = regexp.MustCompile(`([^ ]+) did not answer within ([^ ]+) \(--connect-timeout\)$`)

// technicianText renders an error's text for a technician.
func technicianText(s string) string {
	if m := cutByTimeout.FindStringSubmatch(s); m != nil {
		// What routeros adds around it names its own deadline, not the
		// one that cut the attempt.
		return fmt.Sprintf("%s did not answer the connection attempt within %s (--connect-timeout): the host may be down, "+
			"or a firewall may drop the API port; check the address, or give a longer --connect-timeout", m[1], m[2])
	}
	if m := lookupTail.FindStringSubmatchIndex(s); m != nil {
		name := s[m[2]:m[3]]
		head := strings.TrimSuffix(s[:m[0]], ": ")
		head = strings.TrimSuffix(head, "dial tcp")
		words := "the name " + name + " does not resolve (a typo, or this computer's DNS does not know it)"
		if strings.Contains(head, "does not resolve") {
			s = strings.TrimSuffix(strings.TrimSpace(head), ":")
		} else {
			s = join(strings.TrimSuffix(strings.TrimSpace(head), ":"), words)
		}
	} else if m := netTail.FindStringSubmatchIndex(s); m != nil {
		head := s[:m[0]]
		addr, cause := "", s[m[4]:m[5]]
		if m[2] >= 0 {
			addr = s[m[2]:m[3]]
		}
		if addr == "" {
			addr = "the router"
		}
		words := ""
		for _, w := range netWords {
			if strings.HasSuffix(cause, w.cause) {
				words = fmt.Sprintf(w.words, addr)
				if strings.Contains(head, w.said) {
					words = ""
				}
				break
			}
			words = cause
		}
		s = join(head, words)
	}
	s = strings.ReplaceAll(s, "context deadline exceeded", "timed out")
	s = strings.ReplaceAll(s, "context canceled", "interrupted")
	for {
		t := pkgPrefix.ReplaceAllString(s, "$1")
		if t == s {
			break
		}
		s = t
	}
	return s
}

func join(head, tail string) string {
	switch {
	case head == "":
		return tail
	case tail == "":
		return head
	}
	return head + ": " + tail
}

// flagName is a setting an engine hint names, as the command line sets it.
func flagName(s onboard.Setting) string {
	if s == onboard.SettingPassword {
		return "WGBOOT_PASSWORD"
	}
	return "--" + string(s)
}

// technicianMessage is err for a technician (technicianText).
func technicianMessage(err error) string {
	return technicianText(err.Error())
}

// printChain writes err's full cause chain, one wrapped error per line,
// for --debug.
func printChain(w io.Writer, err error) {
	var walk func(e error, depth int)
	walk = func(e error, depth int) {
		for e != nil {
			fmt.Fprintf(w, "debug: %s%T: %s\n", strings.Repeat("  ", depth), e, e)
			if j, ok := e.(interface{ Unwrap() []error }); ok {
				for _, x := range j.Unwrap() {
					walk(x, depth+1)
				}
				return
			}
			e = errors.Unwrap(e)
		}
	}
	walk(err, 0)
}

// connectTimeoutError is a connection attempt --connect-timeout cut short.
// It is a timeout to the routeros package (net.Error), which reports it
// as no answer (routeros.ErrFiltered).
type connectTimeoutError struct {
	addr  string
	after time.Duration
}

func (c *connectTimeoutError) Error() string {
	return fmt.Sprintf("%s did not answer within %s (--connect-timeout)", c.addr, c.after)
}
func (c *connectTimeoutError) Timeout() bool   { return true }
func (c *connectTimeoutError) Temporary() bool { return false }

var _ net.Error = (*connectTimeoutError)(nil)

// withConnectTimeout bounds each TCP connection attempt of dial by d.
func withConnectTimeout(d time.Duration, dial routeros.DialFunc) routeros.DialFunc {
	if dial == nil {
		dial = new(net.Dialer).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		dctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		mine, _ := dctx.Deadline()
		c, err := dial(dctx, network, addr)
		if err == nil || ctx.Err() != nil {
			return c, err
		}
		// The socket's deadline can fire a moment before the context
		// says so: a timeout at our deadline is ours too, unless the
		// caller's own deadline came first.
		var ne net.Error
		timedOut := errors.Is(dctx.Err(), context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(mine.Add(-50*time.Millisecond))
		if parent, ok := ctx.Deadline(); timedOut && (!ok || parent.After(mine)) {
			return nil, &connectTimeoutError{addr: addr, after: d}
		}
		return c, err
	}
}

// printError prints the error main returns with, once: not when the event
// sink showed it already as a failed step (with its hint), nor when it
// only counts failures reported above (fleet). --debug adds the chain.
func (a *app) printError(err error) {
	defer func() {
		if a.debug {
			printChain(safetext.NewWriter(a.Stderr), err)
		}
	}()
	var done reportedError
	if errors.As(err, &done) {
		return
	}
	msg := technicianMessage(err)
	try := ""
	if s := a.sink; s != nil {
		s.mu.Lock()
		shown, hint, printed := s.failed, s.try, !s.json
		s.mu.Unlock()
		if shown != "" {
			switch {
			case msg == shown && printed:
				return
			case strings.HasSuffix(msg, ": "+shown) && printed:
				// The outer error says what it adds; the cause is above.
				msg = strings.TrimSuffix(msg, ": "+shown)
			case msg == shown || strings.HasSuffix(msg, ": "+shown):
				try = hint // --json: the hint went to stdout only
			}
		}
	}
	// Errors quote the router (trap messages, names): shown, not obeyed.
	fmt.Fprintln(a.Stderr, "wgboot: "+safetext.Text(msg))
	if try != "" {
		fmt.Fprintln(a.Stderr, "try: "+safetext.Text(try))
	}
}

// reportedError is a failure already printed in full (the fleet summary):
// main only sets the exit code.
type reportedError struct{ err error }

func (r reportedError) Error() string { return r.err.Error() }
func (r reportedError) Unwrap() error { return r.err }

// connectTimeout applies --connect-timeout to o's dial.
func (a *app) connectTimeout(o *onboard.Options) {
	d := a.common.ConnectTimeout
	if d <= 0 {
		return
	}
	o.Dial = withConnectTimeout(d, o.Dial)
	if d > routeros.DefaultTimeout && o.Timeout < d {
		// routeros bounds each phase of its dial by the call timeout too.
		o.Timeout = d
	}
}

func checkConnectTimeout(d time.Duration) error {
	if d < 100*time.Millisecond || d > 2*time.Minute {
		return badInput("--connect-timeout %s: give 100ms to 2m (default 10s)", d)
	}
	return nil
}
