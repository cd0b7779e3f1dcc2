package sim

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-routeros/routeros/v3"
	"github.com/go-routeros/routeros/v3/proto"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// rawConn speaks the wire protocol directly, for what the sync client cannot do.
type rawConn struct {
	nc net.Conn
	w  proto.Writer
	r  proto.Reader
}

func rawDial(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return &rawConn{nc: nc, w: proto.NewWriter(nc), r: proto.NewReader(nc)}
}

func (c *rawConn) send(t *testing.T, words ...string) {
	t.Helper()
	c.w.BeginSentence()
	for _, w := range words {
		c.w.WriteWord(w)
	}
	if err := c.w.EndSentence(); err != nil {
		t.Fatal(err)
	}
}

// read returns the next reply as "word tag k=v ..." with sorted attributes.
func (c *rawConn) read(t *testing.T) string {
	t.Helper()
	s, err := c.r.ReadSentence()
	if err != nil {
		t.Fatal(err)
	}
	var kv []string
	for _, p := range s.List {
		kv = append(kv, p.Key+"="+p.Value)
	}
	sort.Strings(kv)
	out := s.Word
	if s.Tag != "" {
		out += " @" + s.Tag
	}
	if len(kv) > 0 {
		out += " " + strings.Join(kv, " ")
	}
	return out
}

func TestProtocolSentences(t *testing.T) {
	tests := []struct {
		name    string
		version string
		login   bool
		send    [][]string
		want    []string
	}{
		{"not logged in", "", false, [][]string{{"/system/identity/print"}}, []string{"!trap message=not logged in", "!done"}},
		{"wrong password", "", false, [][]string{{"/login", "=name=admin", "=password=x", ".tag=a"}},
			[]string{"!trap @a message=invalid user name or password (6)", "!done @a"}},
		{"empty print 7.20", "", true, [][]string{{"/ip/route/print", ".tag=e"}}, []string{"!empty @e", "!done @e"}},
		{"empty print 7.17", "7.17.2", true, [][]string{{"/ip/route/print", ".tag=e"}}, []string{"!done @e"}},
		{"unknown menu", "", true, [][]string{{"/ip/adress/print"}},
			[]string{"!trap category=0 message=no such command or directory (adress)", "!trap message=no such command prefix", "!done"}},
		{"add returns id", "", true, [][]string{{"/ip/route/add", "=gateway=192.0.2.1", ".tag=x"}}, []string{"!done @x ret=*1"}},
		{"single menu", "", true, [][]string{{"/system/identity/print", "=.proplist=name"}}, []string{"!re name=MikroTik", "!done"}},
		{"quit", "", true, [][]string{{"/quit"}}, []string{"!fatal message=session terminated on request"}},
		{"getall", "", true, [][]string{{"/ip/service/getall", "?name=api", "?dynamic=false", "=.proplist=port"}}, []string{"!re port=8728", "!done"}},
		// From 7.19 the session itself is listed as a dynamic api entry.
		{"session listed in 7.19", "7.19", true, [][]string{{"/ip/service/print", "?name=api", "?dynamic=true", "=.proplist=port,connection"}}, []string{"!re connection=true port=8728", "!done"}},
		{"no session entry in 7.18", "7.18", true, [][]string{{"/ip/service/print", "?name=api", "=.proplist=port"}}, []string{"!re port=8728", "!done"}},
		// WireGuard arrived in 7.1: older versions answer as for any unknown menu.
		{"no wireguard in 7.0.5", "7.0.5", true, [][]string{{"/interface/wireguard/print"}},
			[]string{"!trap category=0 message=no such command or directory (wireguard)", "!trap message=no such command prefix", "!done"}},
		{"no wireguard peers in 7.0.5", "7.0.5", true, [][]string{{"/interface/wireguard/peers/add", "=interface=wg1"}},
			[]string{"!trap category=0 message=no such command or directory (wireguard)", "!trap message=no such command prefix", "!done"}},
		{"wireguard in 7.1", "7.1", true, [][]string{{"/interface/wireguard/print", ".tag=w"}}, []string{"!done @w"}},
		{"no wireguard in 6.49.10", "6.49.10", true, [][]string{{"/interface/wireguard/print"}},
			[]string{"!trap category=0 message=no such command or directory (wireguard)", "!trap message=no such command prefix", "!done"}},
		{"empty print 6.49.10", "6.49.10", true, [][]string{{"/ip/route/print", ".tag=e"}}, []string{"!done @e"}},
		{"resource 6.49.10", "6.49.10", true, [][]string{{"/system/resource/print", "=.proplist=version"}}, []string{"!re version=6.49.10 (stable)", "!done"}},
		{"proplist word", "", true, [][]string{{"/ip/service/print", ".proplist=name", "?port=8729"}}, []string{"!re name=api-ssl", "!done"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRouter(t, Options{Version: tt.version})
			c := rawDial(t, apiAddr(r, 0))
			if tt.login {
				c.send(t, "/login", "=name=admin", "=password=")
				if got := c.read(t); got != "!done" {
					t.Fatalf("login: %s", got)
				}
			}
			for _, s := range tt.send {
				c.send(t, s...)
			}
			var got []string
			for range tt.want {
				got = append(got, c.read(t))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestTagsAndCancel runs a never-ending tagged command beside others on one
// connection: the others answer independently, /cancel ends the first.
func TestTagsAndCancel(t *testing.T) {
	r := startRouter(t, Options{})
	c := rawDial(t, apiAddr(r, 0))
	c.send(t, "/login", "=name=admin", "=password=")
	c.read(t)
	c.send(t, "/log/print", "=follow-only=", ".tag=f")
	c.send(t, "/system/identity/print", ".tag=a")
	c.send(t, "/ip/service/print", "?name=api", "?dynamic=false", "=.proplist=port", ".tag=b")
	got := map[string][]string{}
	for len(got["a"]) < 2 || len(got["b"]) < 2 {
		s := c.read(t)
		tag := strings.Fields(s)[1][1:]
		got[tag] = append(got[tag], s)
	}
	want := map[string][]string{"a": {"!re @a name=MikroTik", "!done @a"}, "b": {"!re @b port=8728", "!done @b"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	c.send(t, "/cancel", "=tag=f", ".tag=c")
	var rest []string
	for i := 0; i < 3; i++ {
		rest = append(rest, c.read(t))
	}
	sort.Strings(rest)
	wantRest := []string{"!done @c", "!done @f", "!trap @f category=2 message=interrupted"}
	if diff := cmp.Diff(wantRest, rest); diff != "" {
		t.Errorf("cancel (-want +got):\n%s", diff)
	}
}

// TestWordLengths sends words of every length encoding the client writes
// (1 to 4 bytes; the 5-byte form needs a 256 MB word, see
// TestReadWordEncodings) through the server and reads them back.
func TestWordLengths(t *testing.T) {
	r := startRouter(t, Options{})
	c := dial(t, apiAddr(r, 0), "admin", "")
	// "=comment=" is 9 bytes of the word: lengths straddle each encoding limit.
	for i, n := range []int{0x7F - 9, 0x80, 0x3FFF - 9, 0x4000, 0x1FFFFF - 9, 0x200000} {
		comment := strings.Repeat("c", n)
		rep, err := c.Run("/ip/firewall/address-list/add", "=list=len", "=address=10.1.0."+strconv.Itoa(i+1), "=comment="+comment)
		if err != nil {
			t.Fatalf("length %d: %v", n, err)
		}
		id := rep.Done.Map["ret"]
		rep, err = c.Run("/ip/firewall/address-list/print", "?.id="+id, "=.proplist=comment")
		if err != nil || len(rep.Re) != 1 || rep.Re[0].Map["comment"] != comment {
			t.Fatalf("length %d: comment did not come back: %v", n, err)
		}
		if _, err := c.Run("/ip/firewall/address-list/remove", "=numbers="+id); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadWordEncodings decodes each of the five length encodings.
func TestReadWordEncodings(t *testing.T) {
	tests := []struct {
		name   string
		prefix []byte
		n      int
	}{
		{"1 byte", []byte{0x05}, 5},
		{"2 bytes", []byte{0x80, 0x87}, 0x87},
		{"3 bytes", []byte{0xC0, 0x43, 0x21}, 0x4321},
		{"4 bytes", []byte{0xE0, 0x20, 0x00, 0x01}, 0x200001},
		{"5 bytes", []byte{0xF0, 0x00, 0x20, 0x00, 0x02}, 0x200002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append(append([]byte{}, tt.prefix...), bytes.Repeat([]byte("x"), tt.n)...)
			w, err := readWord(bufio.NewReader(bytes.NewReader(in)))
			if err != nil || len(w) != tt.n {
				t.Errorf("readWord = %d bytes, %v; want %d", len(w), err, tt.n)
			}
		})
	}
	for _, bad := range [][]byte{{0xF8}, {0xFF}, {0xF0, 0x7F, 0xFF, 0xFF, 0xFF}} {
		if _, err := readWord(bufio.NewReader(bytes.NewReader(bad))); err == nil {
			t.Errorf("readWord(% x) accepted", bad)
		}
	}
}

// FuzzConnection feeds arbitrary bytes to the connection handler: it must
// never panic, whatever arrives.
func FuzzConnection(f *testing.F) {
	login := encodeSentence("/login", "=name=admin", "=password=")
	f.Add(login)
	f.Add(append(login, encodeSentence("/ip/firewall/filter/add", "=chain=input", ".tag=1", "?x", "?#|!")...))
	f.Add(append(login, encodeSentence("/ip/address/print", "?<.id=*5", "?#0&.", "=.proplist=address")...))
	f.Add([]byte{0xF0, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add([]byte{0x80})
	f.Add(append(login, encodeSentence("/cancel", "=tag=zz")...))
	r, err := Start(context.Background(), Options{Listen: []Listen{{Iface: "ether1", Addr: testAddr()}}})
	if err != nil {
		f.Fatal(err)
	}
	defer r.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		c := r.newAPIConn(a, netip.MustParseAddr("192.0.2.9"), "api")
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.serve()
		}()
		go func() {
			_, _ = b.Write(data)
			b.Close()
		}()
		<-done
	})
}

func encodeSentence(words ...string) []byte {
	var buf bytes.Buffer
	w := proto.NewWriter(&buf)
	w.BeginSentence()
	for _, x := range words {
		w.WriteWord(x)
	}
	_ = w.EndSentence()
	return buf.Bytes()
}

func TestTLS(t *testing.T) {
	t.Run("auto", func(t *testing.T) {
		r := startRouter(t, Options{})
		li := r.Info().Listen[0]
		addr := netip.AddrPortFrom(li.Addr, li.APISSL).String()
		fp := tlsFingerprint(t, addr)
		if fp != r.Info().Fingerprint || len(fp) != 64 {
			t.Errorf("served fingerprint %s, Info says %s", fp, r.Info().Fingerprint)
		}
		c, err := routeros.DialTLSTimeout(addr, "admin", "", &tls.Config{InsecureSkipVerify: true}, 10*time.Second)
		if err != nil {
			t.Fatalf("api-ssl login: %v", err)
		}
		c.Close()
	})
	t.Run("none", func(t *testing.T) {
		r := startRouter(t, Options{Cert: "none"})
		li := r.Info().Listen[0]
		addr := netip.AddrPortFrom(li.Addr, li.APISSL).String()
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			conn.Close()
			t.Fatal("TLS handshake succeeded against api-ssl without a certificate")
		}
		if !strings.Contains(err.Error(), "handshake failure") {
			t.Errorf("handshake error = %v, want a handshake failure alert", err)
		}
		if r.Info().Fingerprint != "" {
			t.Errorf("Info.Fingerprint = %q with no certificate", r.Info().Fingerprint)
		}
		// A certificate made and signed on the router is then served.
		c := dial(t, apiAddr(r, 0), "admin", "")
		for _, words := range [][]string{
			{"/certificate/add", "=name=api", "=common-name=router"},
			{"/certificate/sign", "=numbers=api"},
			{"/ip/service/set", "=numbers=api-ssl", "=certificate=api"},
		} {
			if _, err := c.RunArgs(words); err != nil {
				t.Fatalf("%v: %v", words, err)
			}
		}
		rep, err := c.Run("/certificate/print", "?name=api")
		if err != nil {
			t.Fatal(err)
		}
		if got := tlsFingerprint(t, addr); got != rep.Re[0].Map["fingerprint"] || got != r.Info().Fingerprint {
			t.Errorf("served %s, /certificate says %s, Info says %s", got, rep.Re[0].Map["fingerprint"], r.Info().Fingerprint)
		}
	})
}

func tlsFingerprint(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer conn.Close()
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:])
}

func TestAutoCertNamedAfterIdentity(t *testing.T) {
	r := startRouter(t, Options{Config: "/system identity\nset name=branch-7\n"})
	li := r.Info().Listen[0]
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", netip.AddrPortFrom(li.Addr, li.APISSL).String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "branch-7" {
		t.Errorf("certificate CN = %q, want the identity", cn)
	}
}

// TestFollow streams changes of a followed print: additions and changes
// as !re, removals as .dead=yes.
func TestFollow(t *testing.T) {
	r := startRouter(t, Options{})
	c := rawDial(t, apiAddr(r, 0))
	c.send(t, "/login", "=name=admin", "=password=")
	c.read(t)
	c.send(t, "/ip/firewall/address-list/listen", "=.proplist=.id,address,comment", ".tag=f")
	// The listen runs on its own: an add sent before it has subscribed
	// would be part of its (unsent) initial state.
	waitFor(t, "the listen to subscribe", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.subs["/ip firewall address-list"]) > 0
	})
	admin := dial(t, apiAddr(r, 0), "admin", "")
	rep, err := admin.Run("/ip/firewall/address-list/add", "=list=x", "=address=10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	id := rep.Done.Map["ret"]
	if got := c.read(t); got != "!re @f .id="+id+" address=10.0.0.1" {
		t.Errorf("after add: %s", got)
	}
	if _, err := admin.Run("/ip/firewall/address-list/set", "=numbers="+id, "=comment=c"); err != nil {
		t.Fatal(err)
	}
	if got := c.read(t); got != "!re @f .id="+id+" address=10.0.0.1 comment=c" {
		t.Errorf("after set: %s", got)
	}
	if _, err := admin.Run("/ip/firewall/address-list/remove", "=numbers="+id); err != nil {
		t.Fatal(err)
	}
	if got := c.read(t); got != "!re @f .dead=yes .id="+id {
		t.Errorf("after remove: %s", got)
	}
	c.send(t, "/cancel", "=tag=f")
	var rest []string
	for i := 0; i < 3; i++ {
		rest = append(rest, c.read(t))
	}
	sort.Strings(rest)
	if diff := cmp.Diff([]string{"!done", "!done @f", "!trap @f category=2 message=interrupted"}, rest); diff != "" {
		t.Errorf("cancel (-want +got):\n%s", diff)
	}
}

func TestUntaggedListenCancel(t *testing.T) {
	r := startRouter(t, Options{})
	c := rawDial(t, apiAddr(r, 0))
	c.send(t, "/login", "=name=admin", "=password=")
	c.read(t)
	c.send(t, "/ip/route/listen")
	c.send(t, "/cancel")
	var got []string
	for i := 0; i < 3; i++ {
		got = append(got, c.read(t))
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"!done", "!done", "!trap category=2 message=interrupted"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestAllEncodingsOnTheWire sends a login whose words use each of the five
// length encodings (non-minimal forms are legal) through a real connection.
func TestAllEncodingsOnTheWire(t *testing.T) {
	r := startRouter(t, Options{})
	enc := func(form int, w string) []byte {
		n := len(w)
		var p []byte
		switch form {
		case 1:
			p = []byte{byte(n)}
		case 2:
			p = []byte{0x80 | byte(n>>8), byte(n)}
		case 3:
			p = []byte{0xC0 | byte(n>>16), byte(n >> 8), byte(n)}
		case 4:
			p = []byte{0xE0 | byte(n>>24), byte(n >> 16), byte(n >> 8), byte(n)}
		case 5:
			p = []byte{0xF0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
		}
		return append(p, w...)
	}
	for form := 1; form <= 5; form++ {
		t.Run(strconv.Itoa(form)+" bytes", func(t *testing.T) {
			c := rawDial(t, apiAddr(r, 0))
			var msg []byte
			for _, w := range []string{"/login", "=name=admin", "=password=", ".tag=e" + strconv.Itoa(form)} {
				msg = append(msg, enc(form, w)...)
			}
			msg = append(msg, 0)
			if _, err := c.nc.Write(msg); err != nil {
				t.Fatal(err)
			}
			if got, want := c.read(t), "!done @e"+strconv.Itoa(form); got != want {
				t.Errorf("reply %q, want %q", got, want)
			}
		})
	}
}

// TestAutoCertListed: what /ip service and /certificate say matches what
// api-ssl serves, before and after a reboot.
func TestAutoCertListed(t *testing.T) {
	tests := []struct {
		name   string
		cert   string
		config string
		want   []map[string]string // /certificate print
		svc    string              // api-ssl certificate
	}{
		{name: "auto", cert: "auto", config: "/system identity\nset name=gw\n", svc: "api-ssl-auto", want: []map[string]string{{
			"name": "api-ssl-auto", "common-name": "gw", "private-key": "true", "trusted": "true",
			"key-usage": "digital-signature,key-encipherment,key-cert-sign,tls-server", "fingerprint": "served"}}},
		{name: "none", cert: "none", svc: "none"},
		{name: "configured", cert: "auto", config: "/ip service\nset api-ssl certificate=c1\n", svc: "c1", want: []map[string]string{{
			"name": "c1", "common-name": "c1", "private-key": "true", "trusted": "true", "fingerprint": "served"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRouter(t, Options{Cert: tt.cert, Config: tt.config})
			check := func(when string) {
				t.Helper()
				c := dial(t, apiAddr(r, 0), "admin", "")
				rep, err := c.Run("/ip/service/print", "?name=api-ssl", "=.proplist=certificate")
				if err != nil {
					t.Fatal(err)
				}
				if got := rep.Re[0].Map["certificate"]; got != tt.svc {
					t.Errorf("%s: api-ssl certificate=%s, want %s", when, got, tt.svc)
				}
				rep, err = c.Run("/certificate/print", "=.proplist=name,common-name,private-key,trusted,key-usage,fingerprint")
				if err != nil {
					t.Fatal(err)
				}
				got := rows(rep)
				for _, m := range got {
					delete(m, ".id")
					if tt.cert == "auto" {
						li := r.Info().Listen[0]
						if fp := tlsFingerprint(t, netip.AddrPortFrom(li.Addr, li.APISSL).String()); m["fingerprint"] == fp && fp == r.Info().Fingerprint {
							m["fingerprint"] = "served"
						}
					}
				}
				if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: /certificate print (-want +got):\n%s", when, diff)
				}
			}
			check("at start")
			if err := r.Reboot(context.Background()); err != nil {
				t.Fatal(err)
			}
			check("after reboot")
		})
	}
}
