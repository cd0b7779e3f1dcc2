package sim

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/go-routeros/routeros/v3"
	"github.com/google/go-cmp/cmp"
)

// testAddr is a random loopback address so parallel packages do not collide.
func testAddr() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(2 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(254))})
}

func startRouter(t *testing.T, o Options) *Router {
	t.Helper()
	if o.Listen == nil {
		o.Listen = []Listen{{Iface: "ether1", Addr: testAddr()}}
	}
	o.Logf = t.Logf
	r, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

func apiAddr(r *Router, i int) string {
	li := r.Info().Listen[i]
	return netip.AddrPortFrom(li.Addr, li.API).String()
}

// dial logs in with go-routeros v3 with a deadline on the connection.
func dial(t *testing.T, addr, user, pw string) *routeros.Client {
	t.Helper()
	c, err := dialErr(addr, user, pw)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dialErr(addr, user, pw string) (*routeros.Client, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(60 * time.Second))
	c, err := routeros.NewClient(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	c.SetLogHandler(slog.NewTextHandler(io.Discard, nil))
	if err := c.Login(user, pw); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func rows(rep *routeros.Reply) []map[string]string {
	var out []map[string]string
	for _, re := range rep.Re {
		out = append(out, re.Map)
	}
	return out
}

func trapMsg(err error) string {
	var de *routeros.DeviceError
	if errors.As(err, &de) {
		return de.Sentence.Map["message"]
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

func TestLogin(t *testing.T) {
	r := startRouter(t, Options{Password: "s3cret"})
	tests := []struct {
		name, user, pw, want string
	}{
		{"ok", "admin", "s3cret", ""},
		{"wrong password", "admin", "nope", "invalid user name or password (6)"},
		{"unknown user", "root", "s3cret", "invalid user name or password (6)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := dialErr(apiAddr(r, 0), tt.user, tt.pw)
			if c != nil {
				c.Close()
			}
			if diff := cmp.Diff(tt.want, trapMsg(err)); diff != "" {
				t.Errorf("login (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommandErrors(t *testing.T) {
	r := startRouter(t, Options{})
	c := dial(t, apiAddr(r, 0), "admin", "")
	tests := []struct {
		name  string
		words []string
		want  string
	}{
		{"misspelled menu", []string{"/ip/adress/print"}, "no such command prefix"},
		{"unknown verb", []string{"/ip/address/frobnicate"}, "no such command prefix"},
		{"unknown parameter", []string{"/ip/address/add", "=address=10.0.0.1/24", "=interface=ether1", "=colour=red"}, "unknown parameter"},
		{"bad interface", []string{"/ip/address/add", "=address=10.0.0.1/24", "=interface=ether99"}, "input does not match any value of interface"},
		{"no such item", []string{"/ip/address/remove", "=.id=*FFF"}, "no such item (4)"},
		{"bad protocol", []string{"/ip/firewall/filter/add", "=chain=input", "=protocol=tcpx"}, "input does not match any value of protocol"},
		{"duplicate address-list", []string{"/ip/firewall/address-list/add", "=list=x", "=address=10.0.0.1"}, "failure: already have such entry"},
		{"duplicate interface name", []string{"/interface/bridge/add", "=name=ether2"}, "failure: already have interface with such name"},
		{"read-only property", []string{"/interface/wireguard/add", "=name=wg9", "=public-key=abc"}, "unknown parameter"},
	}
	if _, err := c.Run("/ip/firewall/address-list/add", "=list=x", "=address=10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.RunArgs(tt.words)
			if diff := cmp.Diff(tt.want, trapMsg(err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFirewallPlaceAndMove(t *testing.T) {
	r := startRouter(t, Options{})
	c := dial(t, apiAddr(r, 0), "admin", "")
	add := func(words ...string) string {
		t.Helper()
		rep, err := c.RunArgs(append([]string{"/ip/firewall/filter/add"}, words...))
		if err != nil {
			t.Fatalf("add %v: %v", words, err)
		}
		return rep.Done.Map["ret"]
	}
	// Forward rules: the test's own API connection must stay accepted.
	a := add("=chain=forward", "=action=accept", "=comment=a")
	b := add("=chain=forward", "=action=drop", "=comment=b")
	add("=chain=forward", "=action=accept", "=comment=c", "=place-before="+b)
	add("=chain=forward", "=action=fasttrack-connection", "=connection-state=established,related", "=comment=ft")
	if _, err := c.Run("/ip/firewall/filter/move", "=numbers="+b, "=destination="+a); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Run("/ip/firewall/filter/print", "=.proplist=.id,comment,dynamic")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rows(rep) {
		got = append(got, m["comment"]+"/"+m["dynamic"])
	}
	want := []string{fasttrackComment + "/true", "b/false", "a/false", "c/false", "ft/false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	dyn := rows(rep)[0][".id"]
	for _, words := range [][]string{
		{"/ip/firewall/filter/move", "=numbers=" + a, "=destination=" + dyn},
		{"/ip/firewall/filter/move", "=numbers=" + dyn},
		{"/ip/firewall/filter/add", "=chain=forward", "=place-before=" + dyn},
	} {
		if _, err := c.RunArgs(words); trapMsg(err) != "cannot move builtin" {
			t.Errorf("%v: got %q, want cannot move builtin", words, trapMsg(err))
		}
	}
	if _, err := c.Run("/ip/firewall/filter/remove", "=.id="+dyn); trapMsg(err) == "" {
		t.Errorf("removing the dynamic rule succeeded")
	}
}

func TestPrintQueries(t *testing.T) {
	r := startRouter(t, Options{})
	c := dial(t, apiAddr(r, 0), "admin", "")
	for i := 1; i <= 4; i++ {
		if _, err := c.Run("/ip/firewall/address-list/add", "=list=l"+strconv.Itoa(i%2), "=address=10.0.0."+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		words []string
		want  []string
	}{
		{"all", nil, []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"}},
		{"equal", []string{"?list=l1"}, []string{"10.0.0.1", "10.0.0.3"}},
		{"or", []string{"?address=10.0.0.1", "?address=10.0.0.4", "?#|"}, []string{"10.0.0.1", "10.0.0.4"}},
		{"not", []string{"?list=l1", "?#!"}, []string{"10.0.0.2", "10.0.0.4"}},
		{"has", []string{"?timeout"}, nil},
		{"lacks", []string{"?-timeout", "?list=l0"}, []string{"10.0.0.2", "10.0.0.4"}},
		{"greater id", []string{"?>.id=*2"}, []string{"10.0.0.3", "10.0.0.4"}},
		{"less id", []string{"?<.id=*2"}, []string{"10.0.0.1"}},
		{"none", []string{"?list=nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := c.RunArgs(append([]string{"/ip/firewall/address-list/print", "=.proplist=address"}, tt.words...))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range rows(rep) {
				got = append(got, m["address"])
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	rep, err := c.Run("/ip/firewall/address-list/print", "=count-only=", "?list=l0")
	if err != nil || rep.Done.Map["ret"] != "2" {
		t.Errorf("count-only: %v %v", rep, err)
	}
}
