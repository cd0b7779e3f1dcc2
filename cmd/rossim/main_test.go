package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-routeros/routeros/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/routeros/sim"
)

func TestParseListen(t *testing.T) {
	tests := []struct {
		in      string
		want    sim.Listen
		wantErr bool
	}{
		{"ether1=127.0.1.1,src=203.0.113.50", sim.Listen{Iface: "ether1", Addr: netip.MustParseAddr("127.0.1.1"), Src: netip.MustParseAddr("203.0.113.50")}, false},
		{"bridge=127.0.1.2", sim.Listen{Iface: "bridge", Addr: netip.MustParseAddr("127.0.1.2")}, false},
		{"ether1=", sim.Listen{Iface: "ether1"}, false},
		{"ether1=192.0.2.1", sim.Listen{}, true},
		{"=127.0.0.1", sim.Listen{}, true},
		{"ether1=127.0.0.1,dst=1.2.3.4", sim.Listen{}, true},
	}
	for _, tt := range tests {
		got, err := parseListen(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseListen(%q) error = %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Errorf("parseListen(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestFlags(t *testing.T) {
	o, err := parseFlags([]string{"--cert", "none", "--listen", "ether1=127.0.3.1", "--trap-on", "/ip/route/add", "--trap-on", "/ip/address/add",
		"--dynamic-address", "ether1=203.0.113.7/24", "--clock-speed", "60", "--latency", "5ms", "--drop-after-commands", "4"}, io.Discard, func(string) string { return "pw" })
	if err != nil {
		t.Fatal(err)
	}
	if o.sim.Cert != "none" || o.sim.Password != "pw" || len(o.sim.TrapOn) != 2 || o.sim.ClockSpeed != 60 || o.sim.DropAfterCommands != 4 || o.sim.Latency != 5*time.Millisecond || len(o.sim.DynamicAddresses) != 1 {
		t.Errorf("options = %+v", o.sim)
	}
	for _, bad := range [][]string{{"--cert", "maybe"}, {"--dynamic-address", "ether1"}, {"stray"}} {
		if _, err := parseFlags(bad, io.Discard, func(string) string { return "" }); err == nil {
			t.Errorf("parseFlags(%v) accepted", bad)
		}
	}
}

func TestRunReadyJSONAndStateOut(t *testing.T) {
	addr := netip.AddrFrom4([4]byte{127, byte(2 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(254))})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "in.rsc")
	if err := os.WriteFile(cfg, []byte("/system identity\nset name=cli\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.rsc")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"--config", cfg, "--listen", "ether1=" + addr.String(), "--ready-json", "--state-out", out}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var rd ready
	if err := json.Unmarshal([]byte(line), &rd); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	if len(rd.Listen) != 1 || rd.Listen[0].Addr != addr.String() || rd.Listen[0].API != 8728 || rd.Listen[0].APISSL != 8729 || len(rd.Fingerprint) != 64 {
		t.Errorf("ready = %+v", rd)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("state-out mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "set name=cli") {
		t.Errorf("state-out lacks the identity:\n%s", b)
	}
}

func TestVersionFlag(t *testing.T) {
	var b strings.Builder
	if err := run(context.Background(), []string{"--version"}, &b, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "rossim "+version) {
		t.Errorf("--version printed %q", b.String())
	}
}

// TestAcceptance runs the command as the acceptance check does:
// defconf, WAN on one address, LAN on another; the API answers on the LAN
// address only.
func TestAcceptance(t *testing.T) {
	if _, err := os.Stat("../../examples/soho-defconf.rsc"); err != nil {
		t.Skipf("no defconf example: %v", err)
	}
	rnd := func() netip.Addr {
		return netip.AddrFrom4([4]byte{127, byte(2 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(254))})
	}
	wan, lan := rnd(), rnd()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"--config", "../../examples/soho-defconf.rsc", "--listen", "ether1=" + wan.String() + ",src=203.0.113.50",
			"--listen", "bridge=" + lan.String() + ",src=192.168.88.10", "--ready-json"}, pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		go io.Copy(io.Discard, pr)
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}()
	if _, err := bufio.NewReader(pr).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	login := func(addr netip.Addr) error {
		nc, err := net.DialTimeout("tcp", netip.AddrPortFrom(addr, 8728).String(), 5*time.Second)
		if err != nil {
			return err
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(500 * time.Millisecond))
		c, _ := routeros.NewClient(nc)
		c.SetLogHandler(slog.NewTextHandler(io.Discard, nil))
		return c.Login("admin", "")
	}
	if err := login(lan); err != nil {
		t.Errorf("LAN API: %v", err)
	}
	err := login(wan)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("WAN API: %v, want no answer (timeout)", err)
	}
}

// TestRunWiresTheExport: --config with no --listen or --dynamic-address
// wires the export as wgboot demo --config does, and says so in the ready
// line; a real PPPoE export gets its pppoe-out WAN and its LAN on loopback.
func TestRunWiresTheExport(t *testing.T) {
	tests := []struct{ config, wiring, wan, lan string }{
		{"../../examples/real/rb941-7.2.1-pppoe.rsc", "wan=pppoe-out1 lan=ether3 dynamic-address=pppoe-out1=203.0.113.7/32", "pppoe-out1", "ether3"},
		{"../../examples/soho-defconf.rsc", "wan=ether1 lan=bridge dynamic-address=ether1=203.0.113.7/24", "ether1", "bridge"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.config), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			pr, pw := io.Pipe()
			errc := make(chan error, 1)
			go func() {
				errc <- run(ctx, []string{"--config", tt.config, "--ready-json"}, pw, io.Discard)
				pw.Close()
			}()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				t.Fatalf("%v (run: %v)", err, <-errc)
			}
			cancel()
			go io.Copy(io.Discard, pr)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			var rd ready
			if err := json.Unmarshal([]byte(line), &rd); err != nil {
				t.Fatalf("ready line %q: %v", line, err)
			}
			if rd.Wiring != tt.wiring {
				t.Errorf("wiring %q, want %q", rd.Wiring, tt.wiring)
			}
			if len(rd.Listen) != 2 || rd.Listen[0].Iface != tt.wan || rd.Listen[1].Iface != tt.lan {
				t.Fatalf("listen = %+v, want %s and %s", rd.Listen, tt.wan, tt.lan)
			}
			for _, l := range rd.Listen {
				if a, err := netip.ParseAddr(l.Addr); err != nil || !a.IsLoopback() || l.APISSL == 0 {
					t.Errorf("%s listens on %q (api-ssl %d), want a loopback address", l.Iface, l.Addr, l.APISSL)
				}
			}
		})
	}
}

// TestRunBadExport: an export that does not load names its line and shows
// it, whatever its line endings.
func TestRunBadExport(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.rsc")
	text := "# 2025-09-19 16:47:46 by RouterOS 7.17\r\n/ip address\r\nadd address=192.168.1.1/24 interface=ether2\r\nadd interface=ether2 \\\r\n    address=192.168.1.300/24\r\n"
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"--config", cfg, "--ready-json"}, io.Discard, io.Discard)
	want := "sim: config line 4: /ip address add: invalid value for argument address\n  4 | add interface=ether2 \\"
	if err == nil || err.Error() != want {
		t.Errorf("run error:\n%v\nwant:\n%s", err, want)
	}
}
