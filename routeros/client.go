package routeros

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-routeros/routeros/v3/proto"
)

// DefaultTimeout bounds each phase of Dial (connect, TLS handshake, login)
// and each call when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// DialFunc opens a connection, like net.Dialer.DialContext. Production
// passes a net.Dialer or a tunnel's DialContext; tests pass loopback.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Config says how to reach and log in to a router.
type Config struct {
	Addr string // host:port
	// TLS selects api-ssl. The peer is verified by Fingerprint, by
	// RootCAs, or by both; one of them is required.
	TLS bool
	// Fingerprint is the SHA-256 of the router's leaf certificate DER, in
	// hex; colons, spaces and upper case are accepted.
	Fingerprint string
	// RootCAs verifies the router's certificate chain and name (ServerName
	// or the host of Addr, IP SANs included) when no Fingerprint is given.
	RootCAs *x509.CertPool
	// ServerName overrides the name checked against the certificate with
	// RootCAs; empty means the host part of Addr.
	ServerName string

	User, Password string
	// Dial opens the TCP connection; nil means a net.Dialer.
	Dial DialFunc
	// Timeout is the deadline for each phase of Dial and for each call
	// (Run, Batch, helpers) unless ctx has an earlier one; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Logf receives one line per command sent (passwords and keys
	// redacted) and per reply; nil discards.
	Logf func(format string, args ...any)
}

// Stats counts what a client cost on the wire, for benchmarks and the
// engine's summary.
type Stats struct {
	TCPHandshakes int64 // TCP connections opened
	TLSHandshakes int64 // TLS handshakes completed
	// RoundTrips counts sequential request/reply exchanges, login
	// included: a Run is one, and so is a whole Batch.
	RoundTrips int64
	Commands   int64 // sentences sent
}

type counters struct {
	tcp, tls, rtt, cmds atomic.Int64
}

// Client is a logged-in RouterOS API session. Its methods are safe for
// concurrent use; calls are serialised on the one connection (use Batch
// to put several commands in flight at once).
//
// After a transport error, a timeout, a cancelled context, a malformed
// reply or !fatal, the client is broken: every later call returns
// ErrBroken and the caller must Close it and Dial again. A !trap reply
// (a *DeviceError that is not Fatal) leaves the session usable.
type Client struct {
	addr    string
	user    string
	timeout time.Duration
	logf    func(format string, args ...any)
	conn    net.Conn
	stats   *counters

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex // guards following
	r       *sentenceReader
	bw      *bufio.Writer // holds a whole batch so it leaves in one write
	w       proto.Writer
	nextTag uint64
	broken  error
}

// Dial connects to cfg.Addr, verifies TLS when cfg.TLS, and logs in.
//
// Errors: ErrRefused (nothing listens), ErrFiltered (no answer, or
// connected but silent, before the deadline), ErrNoCertificate (api-ssl
// without a certificate), *FingerprintError (pin mismatch), ErrAuth
// (wrong user or password; also wraps the *DeviceError).
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Addr == "" {
		return nil, errors.New("routeros: no router address given")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var pin string
	if cfg.TLS {
		if cfg.Fingerprint != "" {
			var err error
			if pin, err = NormalizeFingerprint(cfg.Fingerprint); err != nil {
				return nil, err
			}
		} else if cfg.RootCAs == nil {
			return nil, fmt.Errorf("routeros: api-ssl to %s needs the router's certificate "+
				"fingerprint or a CA to verify it; probe it first (trust on first use) and "+
				"compare with /certificate print detail on the router", cfg.Addr)
		}
	}
	stats := new(counters)
	conn, err := dialTCP(ctx, cfg.Dial, cfg.Addr, timeout)
	if err != nil {
		return nil, err
	}
	stats.tcp.Add(1)
	if cfg.TLS {
		tc := tls.Client(conn, clientTLSConfig(cfg, pin))
		if err := handshake(ctx, tc, cfg.Addr, timeout); err != nil {
			conn.Close()
			return nil, err
		}
		stats.tls.Add(1)
		conn = tc
	}
	c := newClient(conn, cfg, timeout, stats)
	if err := c.login(ctx, cfg.User, cfg.Password); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func newClient(conn net.Conn, cfg Config, timeout time.Duration, stats *counters) *Client {
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bw := bufio.NewWriterSize(conn, 64<<10)
	return &Client{
		addr:    cfg.Addr,
		user:    cfg.User,
		timeout: timeout,
		logf:    logf,
		conn:    conn,
		stats:   stats,
		r:       newSentenceReader(conn),
		bw:      bw,
		w:       proto.NewWriter(bw),
	}
}

func dialTCP(ctx context.Context, dial DialFunc, addr string, timeout time.Duration) (net.Conn, error) {
	if dial == nil {
		dial = new(net.Dialer).DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := dial(dctx, "tcp", addr)
	if err != nil {
		return nil, dialError(ctx, addr, timeout, err)
	}
	return conn, nil
}

func dialError(ctx context.Context, addr string, timeout time.Duration, err error) error {
	switch {
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("routeros: connect to %s: %w", addr, ctx.Err())
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w by %s: nothing listens there; check the address and port, and "+
			"that the api/api-ssl service is enabled under /ip service: %w", ErrRefused, addr, err)
	case isTimeout(err):
		return fmt.Errorf("%w: %s did not answer the connection attempt within %s; the host "+
			"may be down or a firewall may drop the API port: %w", ErrFiltered, addr, timeout, err)
	}
	return fmt.Errorf("routeros: connect to %s: %w", addr, err)
}

// silentError is the "connected but nothing came back" case: on a real
// router a firewall drop makes connect time out, but /ip service
// "address" (and rossim) accept and then stay silent.
func silentError(addr, phase string, timeout time.Duration, err error) error {
	return fmt.Errorf("%w: connected to %s but got no %s within %s; a firewall rule may drop "+
		"the API port, or /ip service \"address\" may not allow this source: %w",
		ErrFiltered, addr, phase, timeout, err)
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// deadline is the earlier of ctx's deadline and now+timeout.
func deadline(ctx context.Context, timeout time.Duration) time.Time {
	d := time.Now().Add(timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

func (c *Client) login(ctx context.Context, user, password string) error {
	replies, errs := c.do(ctx, [][]string{{"/login", "=name=" + user, "=password=" + password}})
	err := errs[0]
	if de, ok := deviceError(err); ok && !de.Fatal {
		return &authError{user: user, addr: c.addr, dev: de}
	}
	if errors.Is(err, ErrTimeout) {
		return silentError(c.addr, "reply to login", c.timeout, err)
	}
	if err != nil {
		return fmt.Errorf("routeros: login to %s: %w", c.addr, err)
	}
	if _, ok := replies[0].Done["ret"]; ok {
		c.markBroken(errors.New("challenge login"))
		return fmt.Errorf("routeros: %s asks for the pre-6.43 challenge login; wgboot needs RouterOS 7", c.addr)
	}
	return nil
}

// Stats returns the client's counters so far (Dial's handshakes and login
// included).
func (c *Client) Stats() Stats {
	return Stats{
		TCPHandshakes: c.stats.tcp.Load(),
		TLSHandshakes: c.stats.tls.Load(),
		RoundTrips:    c.stats.rtt.Load(),
		Commands:      c.stats.cmds.Load(),
	}
}

// Close closes the connection. A call in progress returns ErrClosed.
// Close is safe to call more than once.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.closeErr = c.conn.Close()
		if errors.Is(c.closeErr, net.ErrClosed) {
			c.closeErr = nil // hangUp closed it already
		}
	})
	return c.closeErr
}

// Run sends one command (the command word first, e.g.
// "/ip/firewall/filter/print", then attribute and query words) and waits
// for its !done. A !trap returns the partial reply and a *DeviceError.
func (c *Client) Run(ctx context.Context, words ...string) (*Reply, error) {
	replies, errs := c.do(ctx, [][]string{words})
	return replies[0], errs[0]
}

// Batch sends every command at once, each tagged, in one write, and
// reads until each has its !done: one round trip for the whole batch.
// Replies and errors are indexed like cmds; a !trap fails only its own
// command. A transport error, timeout or !fatal fails every command not
// yet complete and breaks the client. Commands may not carry their own
// .tag word.
func (c *Client) Batch(ctx context.Context, cmds ...[]string) ([]*Reply, []error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	return c.do(ctx, cmds)
}

// aLongTimeAgo is a deadline in the past: setting it wakes a blocked
// read or write at once (the net/http trick for cancellation).
var aLongTimeAgo = time.Unix(1, 0)

// do writes cmds pipelined, each with its .tag, and reads their replies.
//
// Long because: the pipelined send, the tagged receive loop and the
// cancellation that wakes both share one connection state and its lock.
func (c *Client) do(ctx context.Context, cmds [][]string) ([]*Reply, []error) {
	replies := make([]*Reply, len(cmds))
	errs := make([]error, len(cmds))
	fail := func(err error) ([]*Reply, []error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return replies, errs
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return fail(ErrClosed)
	}
	if c.broken != nil {
		return fail(fmt.Errorf("%w (%v)", ErrBroken, c.broken))
	}
	if err := ctx.Err(); err != nil {
		return fail(fmt.Errorf("routeros: %w", err))
	}

	tags := make([]string, len(cmds))
	names := make([]string, len(cmds))
	for i, words := range cmds {
		if err := checkCommand(words); err != nil {
			errs[i] = err
			continue
		}
		c.nextTag++
		tags[i] = strconv.FormatUint(c.nextTag, 10)
		names[i] = words[0]
	}
	d := newDemux(tags, names)
	if d.left == 0 {
		return replies, errs
	}

	if err := c.conn.SetDeadline(deadline(ctx, c.timeout)); err != nil {
		return fail(c.markBroken(fmt.Errorf("routeros: set deadline: %w", err)))
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		c.conn.SetDeadline(aLongTimeAgo)
	})
	defer func() {
		if !stop() {
			// The callback runs or ran: wait for it while holding mu, so
			// its past deadline cannot land on the next call's I/O.
			<-fired
		}
	}()

	for i, words := range cmds {
		if tags[i] == "" {
			continue
		}
		c.logf("routeros: -> %s .tag=%s", redact(words), tags[i])
		c.w.BeginSentence()
		for _, w := range words {
			c.w.WriteWord(w)
		}
		c.w.WriteWord(".tag=" + tags[i])
		if err := c.w.EndSentence(); err != nil {
			return fail(c.markBroken(c.ioError(ctx, err)))
		}
		c.stats.cmds.Add(1)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(c.markBroken(c.ioError(ctx, err)))
	}
	c.stats.rtt.Add(1)

	c.r.startReply()
	for d.left > 0 {
		s, err := c.r.ReadSentence()
		if err != nil {
			err = c.markBroken(c.ioError(ctx, err))
			d.failPending(err)
			break
		}
		if err := d.feed(s); err != nil {
			if errors.Is(err, ErrTooLarge) {
				err = c.hangUp(err)
			}
			c.markBroken(err)
			if !IsFatal(err) {
				d.failPending(err)
			}
			break
		}
		if s.Word == "!done" {
			i := d.tags[s.Tag]
			c.logf("routeros: <- .tag=%s %d rows, error: %v", s.Tag, len(d.replies[i].Re), d.errs[i])
		}
	}
	for i := range cmds {
		if tags[i] != "" {
			replies[i], errs[i] = d.replies[i], d.errs[i]
		}
	}
	return replies, errs
}

// checkCommand rejects what would corrupt the session: an empty command,
// a command word that is not a path, or a caller's own .tag.
func checkCommand(words []string) error {
	if len(words) == 0 || !strings.HasPrefix(words[0], "/") {
		return fmt.Errorf("routeros: a command starts with its path word (like /ip/address/print), got %q", words)
	}
	for _, w := range words[1:] {
		if strings.HasPrefix(w, ".tag=") {
			return fmt.Errorf("routeros: %s: .tag is set by the client, do not pass it", words[0])
		}
		if w == "" {
			return fmt.Errorf("routeros: %s: empty word would end the sentence early", words[0])
		}
	}
	return nil
}

// ioError names what a failed read or write means for the technician.
func (c *Client) ioError(ctx context.Context, err error) error {
	switch {
	case c.closed.Load():
		return ErrClosed
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("routeros: %w", ctx.Err())
	case isTimeout(err):
		return fmt.Errorf("%w from %s within %s: %w", ErrTimeout, c.addr, c.timeout, err)
	case errors.Is(err, errProtocol):
		return err
	case errors.Is(err, ErrTooLarge):
		return c.hangUp(err)
	}
	return fmt.Errorf("routeros: connection to %s lost: %w", c.addr, err)
}

// hangUp closes the connection under a reply that passed a bound: the
// router may still be sending, and reading on (or leaving it to fill the
// socket buffers) would only cost more. The client stays open and broken,
// so later calls say why.
func (c *Client) hangUp(err error) error {
	c.conn.Close()
	return fmt.Errorf("%w; the session was closed so that a broken or hostile router cannot exhaust "+
		"this computer's memory (no RouterOS sends this)", err)
}

func (c *Client) markBroken(err error) error {
	if c.broken == nil {
		c.broken = err
	}
	return err
}

// redact hides secrets in a command for logging.
func redact(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = w
		for _, k := range []string{"=password=", "=private-key=", "=preshared-key=", "=passphrase=", "=secret="} {
			if strings.HasPrefix(w, k) {
				out[i] = k + "<redacted>"
			}
		}
	}
	return strings.Join(out, " ")
}
