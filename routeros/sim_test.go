package routeros_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/sim"
)

// These tests run the client against rossim, which speaks the real API
// protocol and enforces its own firewall.

func simAddr() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(254)), byte(1 + rand.IntN(254)), byte(1 + rand.IntN(254))})
}

func startSim(t *testing.T, o sim.Options) (*sim.Router, sim.ListenInfo) {
	t.Helper()
	if o.Listen == nil {
		o.Listen = []sim.Listen{{Iface: "ether1", Addr: simAddr()}}
	}
	o.Logf = t.Logf
	r, err := sim.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("sim.Start: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, r.Info().Listen[0]
}

func hostPort(a netip.Addr, port uint16) string { return netip.AddrPortFrom(a, port).String() }

func TestSimTLS(t *testing.T) {
	r, li := startSim(t, sim.Options{Password: "s3cret"})
	addr := hostPort(li.Addr, li.APISSL)
	ctx := context.Background()
	fp, err := routeros.Fingerprint(ctx, addr, nil)
	if err != nil {
		t.Fatalf("Fingerprint: %v", err)
	}
	if fp != r.Info().Fingerprint {
		t.Fatalf("Fingerprint = %s, rossim says %s", fp, r.Info().Fingerprint)
	}
	c, err := routeros.Dial(ctx, routeros.Config{Addr: addr, TLS: true, Fingerprint: fp, User: "admin", Password: "s3cret"})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	rep, err := c.Run(ctx, "/system/identity/print")
	if err != nil || len(rep.Re) != 1 || rep.Re[0]["name"] == "" {
		t.Fatalf("identity = %v, %v", rep, err)
	}

	_, err = routeros.Dial(ctx, routeros.Config{Addr: addr, TLS: true, Fingerprint: fp, User: "admin", Password: "nope"})
	if !errors.Is(err, routeros.ErrAuth) {
		t.Errorf("wrong password: %v, want ErrAuth", err)
	}
}

func TestSimNoCertificate(t *testing.T) {
	_, li := startSim(t, sim.Options{Cert: "none"})
	addr := hostPort(li.Addr, li.APISSL)
	if _, err := routeros.Fingerprint(context.Background(), addr, nil); !errors.Is(err, routeros.ErrNoCertificate) {
		t.Fatalf("Fingerprint = %v, want ErrNoCertificate", err)
	}
}

func TestSimBatchInspect(t *testing.T) {
	r, li := startSim(t, sim.Options{})
	ctx := context.Background()
	c, err := routeros.Dial(ctx, routeros.Config{Addr: hostPort(li.Addr, li.API), User: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	menus := []string{
		"/system resource", "/system identity", "/system clock", "/ip address", "/ip route",
		"/ip service", "/interface", "/interface list member", "/interface wireguard",
		"/interface wireguard peers", "/ip firewall filter", "/ip firewall address-list",
	}
	cmds := make([][]string, len(menus))
	for i, m := range menus {
		cmds[i] = []string{routeros.CommandPath(m, "print")}
	}
	before := r.Stats().Commands
	replies, errs := c.Batch(ctx, cmds...)
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", menus[i], err)
		}
	}
	if got := r.Stats().Commands - before; got != int64(len(menus)) {
		t.Errorf("rossim carried out %d commands, want %d", got, len(menus))
	}
	if got := c.Stats().RoundTrips; got != 2 {
		t.Errorf("round trips = %d, want 2 (login and one batch)", got)
	}
	var services []string
	for _, s := range replies[5].Re {
		services = append(services, s["name"])
	}
	if !contains(services, "api") || !contains(services, "api-ssl") {
		t.Errorf("/ip service names = %v, want api and api-ssl among them", services)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestSimHelpers(t *testing.T) {
	_, li := startSim(t, sim.Options{})
	ctx := context.Background()
	c, err := routeros.Dial(ctx, routeros.Config{Addr: hostPort(li.Addr, li.API), User: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const menu = "/ip firewall filter"
	var ids []string
	for _, name := range []string{"a", "b", "c"} {
		id, err := c.Add(ctx, menu, routeros.Args{{Key: "chain", Value: "forward"}, {Key: "action", Value: "accept"}, {Key: "comment", Value: "wgboot: " + name}})
		if err != nil {
			t.Fatalf("Add %s: %v", name, err)
		}
		ids = append(ids, id)
	}
	if _, err := c.Run(ctx, "/ip/firewall/filter/move", "=numbers="+ids[2], "=destination="+ids[0]); err != nil {
		t.Fatalf("Move: %v", err)
	}
	if err := c.Set(ctx, menu, ids[1], routeros.Args{{Key: "disabled", Value: "yes"}}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if _, err := c.Run(ctx, "/ip/firewall/filter/remove", "=numbers="+ids[0]); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	rep, err := c.Run(ctx, "/ip/firewall/filter/print", "=.proplist=comment,disabled", "?chain=forward")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Re {
		got = append(got, r["comment"]+"/"+r["disabled"])
	}
	if diff := cmp.Diff([]string{"wgboot: c/false", "wgboot: b/true"}, got); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}

	_, err = c.Add(ctx, menu, routeros.Args{{Key: "chain", Value: "input"}, {Key: "protocol", Value: "tcpx"}})
	if !routeros.IsInvalidArgument(err) {
		t.Errorf("bad protocol: %v, want an invalid argument", err)
	}
	if _, err := c.Run(ctx, "/ip/firewall/filter/remove", "=numbers=*FFFF"); !routeros.IsNotFound(err) {
		t.Errorf("remove missing: %v, want not found", err)
	}
	if _, err := c.Run(ctx, "/ip/adress/print"); !routeros.IsNotFound(err) {
		t.Errorf("misspelled menu: %v, want not found", err)
	}
	// A named item, as the engine sets api-ssl's certificate.
	if err := c.Set(ctx, "/ip service", "www", routeros.Args{{Key: "disabled", Value: "yes"}}); err != nil {
		t.Errorf("Set by name: %v", err)
	}
	svc, err := c.Run(ctx, "/ip/service/print", "?name=www")
	if err != nil || len(svc.Re) != 1 || svc.Re[0]["disabled"] != "true" {
		t.Errorf("www after set = %v, %v; want disabled", svc, err)
	}
	// Traps leave the session usable.
	if _, err := c.Run(ctx, "/system/identity/print"); err != nil {
		t.Errorf("after traps: %v", err)
	}
}

func TestSimFiltered(t *testing.T) {
	_, li := startSim(t, sim.Options{Config: "/ip firewall filter\nadd chain=input action=drop protocol=tcp dst-port=8728,8729\n"})
	_, err := routeros.Dial(context.Background(), routeros.Config{Addr: hostPort(li.Addr, li.API), User: "admin", Timeout: 200 * time.Millisecond})
	if !errors.Is(err, routeros.ErrFiltered) {
		t.Fatalf("Dial = %v, want ErrFiltered", err)
	}
}

func TestSimSevered(t *testing.T) {
	_, li := startSim(t, sim.Options{DropAfterCommands: 2})
	ctx := context.Background()
	c, err := routeros.Dial(ctx, routeros.Config{Addr: hostPort(li.Addr, li.API), User: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Run(ctx, "/system/identity/print")
	if err == nil {
		// The cut comes right after the second command; its reply may
		// or may not have left first. The next call must fail.
		_, err = c.Run(ctx, "/system/identity/print")
	}
	if err == nil {
		t.Fatal("calls on a severed session succeeded")
	}
	if _, err := c.Run(ctx, "/system/identity/print"); !errors.Is(err, routeros.ErrBroken) {
		t.Errorf("after the cut: %v, want ErrBroken", err)
	}
}

// BenchmarkSimInspect runs the engine's 12 inspection prints against
// rossim with 2ms reply latency, pipelined and sequential.
func BenchmarkSimInspect(b *testing.B) {
	menus := []string{
		"/system resource", "/system identity", "/system clock", "/ip address", "/ip route",
		"/ip service", "/interface", "/interface list member", "/interface wireguard",
		"/interface wireguard peers", "/ip firewall filter", "/ip firewall address-list",
	}
	cmds := make([][]string, len(menus))
	for i, m := range menus {
		cmds[i] = []string{routeros.CommandPath(m, "print")}
	}
	r, err := sim.Start(context.Background(), sim.Options{Latency: 2 * time.Millisecond,
		Listen: []sim.Listen{{Iface: "ether1", Addr: simAddr()}}})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	li := r.Info().Listen[0]
	c, err := routeros.Dial(context.Background(), routeros.Config{Addr: hostPort(li.Addr, li.API), User: "admin"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.Run("batch12", func(b *testing.B) {
		start := c.Stats().RoundTrips
		for b.Loop() {
			for _, err := range func() []error { _, e := c.Batch(context.Background(), cmds...); return e }() {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(c.Stats().RoundTrips-start)/float64(b.N), "roundtrips/op")
	})
	b.Run("sequential12", func(b *testing.B) {
		start := c.Stats().RoundTrips
		for b.Loop() {
			for _, cmd := range cmds {
				if _, err := c.Run(context.Background(), cmd...); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(c.Stats().RoundTrips-start)/float64(b.N), "roundtrips/op")
	})
}
