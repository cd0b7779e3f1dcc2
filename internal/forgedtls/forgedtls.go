// Package forgedtls is a test stand-in for an attacker on the path to a
// router. Its api-ssl port answers every ClientHello with a TLS
// handshake_failure alert (seven bytes, what RouterOS sends when api-ssl has
// no certificate, and what anyone on the path can send instead). Its plain
// API port, 8728 on the same address, logs in anyone and records every word
// it receives, so a test can prove that no password crossed the network in
// clear.
//
// It listens on loopback only and is imported by tests only.
package forgedtls

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-routeros/routeros/v3/proto"
)

// Alert is a TLS 1.2 record holding a fatal handshake_failure (40) alert.
var Alert = []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}

// PlainPort is the port wgboot falls back to for a certificate-less
// api-ssl: the plain API's fixed default.
const PlainPort = 8728

// Router is the fake: SSL is its api-ssl address, Plain its plain API one.
type Router struct {
	SSL, Plain string

	lns []net.Listener
	wg  sync.WaitGroup

	mu     sync.Mutex // guards following
	words  []string   // every word received on the plain port, in order
	alerts int        // api-ssl connections answered with the alert
	conns  []net.Conn
	closed bool
}

// Start listens on a random 127.x.y.z (api-ssl on a random port, the plain
// API on 8728) and serves until the test ends.
func Start(tb testing.TB) *Router {
	tb.Helper()
	r := &Router{}
	var err error
	for range 20 {
		ip := netip.AddrFrom4([4]byte{127, byte(2 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(253))})
		var plain, ssl net.Listener
		if plain, err = net.Listen("tcp", netip.AddrPortFrom(ip, PlainPort).String()); err != nil {
			continue
		}
		if ssl, err = net.Listen("tcp", netip.AddrPortFrom(ip, 0).String()); err != nil {
			plain.Close()
			continue
		}
		r.lns = []net.Listener{ssl, plain}
		r.SSL, r.Plain = ssl.Addr().String(), plain.Addr().String()
		break
	}
	if r.lns == nil {
		tb.Fatalf("forgedtls: no loopback address to listen on: %v", err)
	}
	r.serve(r.lns[0], r.alert)
	r.serve(r.lns[1], r.api)
	tb.Cleanup(r.Close)
	return r
}

func (r *Router) serve(ln net.Listener, handle func(net.Conn)) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			if r.closed {
				r.mu.Unlock()
				c.Close()
				return
			}
			r.conns = append(r.conns, c)
			r.mu.Unlock()
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
}

// alert reads the ClientHello's record and answers with the alert.
func (r *Router) alert(c net.Conn) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	if _, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint16(hdr[3:]))); err != nil {
		return
	}
	r.mu.Lock()
	r.alerts++
	r.mu.Unlock()
	c.Write(Alert)
}

// api records every word and answers every sentence with !done (an id for
// an add), echoing its .tag: a router that lets anyone in.
func (r *Router) api(c net.Conn) {
	w := proto.NewWriter(c)
	for {
		var sentence []string
		for {
			word, err := readWord(c)
			if err != nil {
				return
			}
			if word == "" {
				break
			}
			r.mu.Lock()
			r.words = append(r.words, word)
			r.mu.Unlock()
			sentence = append(sentence, word)
		}
		if len(sentence) == 0 {
			continue
		}
		w.BeginSentence()
		w.WriteWord("!done")
		if strings.HasSuffix(sentence[0], "/add") {
			w.WriteWord("=ret=*1")
		}
		for _, word := range sentence {
			if strings.HasPrefix(word, ".tag=") {
				w.WriteWord(word)
			}
		}
		if err := w.EndSentence(); err != nil {
			return
		}
	}
}

// readWord reads one length-prefixed API word ("" ends a sentence).
func readWord(r io.Reader) (string, error) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:1]); err != nil {
		return "", err
	}
	var n, extra int
	switch l := b[0]; {
	case l&0x80 == 0:
		n = int(l)
	case l&0xC0 == 0x80:
		n, extra = int(l&^0xC0), 1
	case l&0xE0 == 0xC0:
		n, extra = int(l&^0xE0), 2
	case l&0xF0 == 0xE0:
		n, extra = int(l&^0xF0), 3
	default:
		n, extra = 0, 4
	}
	if extra > 0 {
		if _, err := io.ReadFull(r, b[:extra]); err != nil {
			return "", err
		}
		for _, x := range b[:extra] {
			n = n<<8 | int(x)
		}
	}
	if n > 1<<20 {
		return "", fmt.Errorf("forgedtls: word of %d bytes", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf), nil
}

// Words returns every word received on the plain port so far.
func (r *Router) Words() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.words)
}

// Passwords returns the received words that carry a password.
func (r *Router) Passwords() []string {
	var out []string
	for _, w := range r.Words() {
		if strings.HasPrefix(w, "=password=") {
			out = append(out, w)
		}
	}
	return out
}

// Alerts is how many api-ssl handshakes were answered with the alert.
func (r *Router) Alerts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.alerts
}

// Close stops both listeners and every connection.
func (r *Router) Close() {
	for _, ln := range r.lns {
		ln.Close()
	}
	r.mu.Lock()
	r.closed = true
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
