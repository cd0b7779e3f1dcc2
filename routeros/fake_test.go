package routeros

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-routeros/routeros/v3/proto"
)

// TestMain fails the package when goroutines of this package (clients,
// fakes, context.AfterFunc callbacks) outlive the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		// Goroutines of closed connections need a moment to return; this
		// waits for them, it asserts nothing about timing.
		var leaked []string
		for range 200 {
			if leaked = ourGoroutines(); len(leaked) == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "wgboot/routeros.") && !strings.Contains(g, "routeros.TestMain") {
			out = append(out, g)
		}
	}
	return out
}

// loopback returns a random 127.x.y.z so parallel test packages do not
// collide on ports.
func loopback() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(1 + mrand.IntN(254)), byte(1 + mrand.IntN(254)), byte(1 + mrand.IntN(254))})
}

func listenLoopback(t testing.TB) net.Listener {
	t.Helper()
	for range 10 {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(loopback(), 0).String())
		if err == nil {
			return ln
		}
	}
	t.Fatal("no loopback address to listen on")
	return nil
}

// fakeRouter is a RouterOS API server for tests, built on the library's
// proto.Writer and this package's word reader. Zero fields mean: user
// admin with an empty password, every command answered with a bare !done.
type fakeRouter struct {
	User, Password string
	// Handle answers one command (without its .tag); each reply is a
	// sentence's words, the reply word first. nil means {{"!done"}}.
	Handle func(words []string) [][]string
	// Silent accepts connections and reads, but never answers (a
	// filtered port as rossim shows it).
	Silent bool
	// Latency delays every reply by this much after its command arrived;
	// commands that arrive together are answered together (pipelining).
	Latency time.Duration
	// Gather collects the first this many commands after login, then
	// answers them all at once, last command first, their sentences
	// interleaved. Later commands are answered normally.
	Gather int
	// SelfSigned serves TLS with a fresh self-signed certificate for the
	// listening address (left in cert).
	SelfSigned bool

	cert *x509.Certificate

	ln net.Listener
	wg sync.WaitGroup

	mu       sync.Mutex // guards following
	cmds     [][]string // every command received, .tag removed
	conns    []net.Conn
	accepted int
}

// start listens on a random loopback address and serves until the test
// ends.
func (f *fakeRouter) start(t testing.TB) string {
	t.Helper()
	f.ln = listenLoopback(t)
	if f.SelfSigned {
		ip := netip.MustParseAddrPort(f.ln.Addr().String()).Addr()
		kp, cert := selfSigned(t, ip)
		f.cert = cert
		f.ln = tls.NewListener(f.ln, &tls.Config{Certificates: []tls.Certificate{kp}})
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := f.ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.accepted++
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer c.Close()
				f.serve(c)
			}()
		}
	}()
	t.Cleanup(f.close)
	return f.ln.Addr().String()
}

func (f *fakeRouter) close() {
	f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

func (f *fakeRouter) commands() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.cmds)
}

type outgoing struct {
	due   time.Time
	sents [][]string // words, tag included
}

func (f *fakeRouter) serve(c net.Conn) {
	if f.Silent {
		io.Copy(io.Discard, c)
		return
	}
	r := newSentenceReader(c)
	w := proto.NewWriter(c)
	out := make(chan outgoing, 64)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for o := range out {
			time.Sleep(time.Until(o.due))
			for _, s := range o.sents {
				w.BeginSentence()
				for _, word := range s {
					w.WriteWord(word)
				}
				if err := w.EndSentence(); err != nil {
					c.Close()
					return
				}
				if s[0] == "!fatal" {
					c.Close()
					return
				}
			}
		}
	}()
	defer func() {
		close(out)
		<-writerDone
	}()

	loggedIn := false
	gathering := f.Gather > 0
	var gathered [][][]string
	for {
		words, err := r.readWords()
		if err != nil {
			return
		}
		var tag string
		words = slices.DeleteFunc(words, func(w string) bool {
			if t, ok := strings.CutPrefix(w, ".tag="); ok {
				tag = t
				return true
			}
			return false
		})
		f.mu.Lock()
		f.cmds = append(f.cmds, words)
		f.mu.Unlock()
		var replies [][]string
		switch {
		case words[0] == "/login":
			replies = f.login(words)
			loggedIn = len(replies) == 1
		case !loggedIn:
			replies = [][]string{{"!fatal", "not logged in"}}
		case f.Handle != nil:
			replies = f.Handle(words)
		default:
			replies = [][]string{{"!done"}}
		}
		for i := range replies {
			if tag != "" && replies[i][0] != "!fatal" {
				replies[i] = append(slices.Clone(replies[i]), ".tag="+tag)
			}
		}
		if gathering && loggedIn && words[0] != "/login" {
			gathered = append(gathered, replies)
			if len(gathered) < f.Gather {
				continue
			}
			replies = interleaveReversed(gathered)
			gathering = false
		}
		select {
		case out <- outgoing{due: time.Now().Add(f.Latency), sents: replies}:
		case <-writerDone:
			return
		}
	}
}

// interleaveReversed answers the last command first and alternates
// between commands sentence by sentence.
func interleaveReversed(per [][][]string) [][]string {
	var out [][]string
	for i := 0; ; i++ {
		any := false
		for j := len(per) - 1; j >= 0; j-- {
			if i < len(per[j]) {
				out = append(out, per[j][i])
				any = true
			}
		}
		if !any {
			return out
		}
	}
}

func (f *fakeRouter) login(words []string) [][]string {
	user, pass := "admin", ""
	if f.User != "" {
		user, pass = f.User, f.Password
	}
	if slices.Contains(words, "=name="+user) && slices.Contains(words, "=password="+pass) {
		return [][]string{{"!done"}}
	}
	return [][]string{{"!trap", "=message=invalid user name or password (6)"}, {"!done"}}
}

// selfSigned makes a router-like self-signed certificate for ip.
func selfSigned(t testing.TB, ip netip.Addr) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "router"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{ip.AsSlice()},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, cert
}

func dialFake(t testing.TB, ctx context.Context, cfg Config) *Client {
	t.Helper()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
