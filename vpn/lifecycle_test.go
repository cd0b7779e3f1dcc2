package vpn

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPrivateKeyNeverLogged runs both peers through success and failure
// (a handshake that never comes, a port already taken) and checks that
// neither key appears in any log line or returned error, in base64 or hex.
func TestPrivateKeyNeverLogged(t *testing.T) {
	var out strings.Builder
	p := startPair(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := p.tech.WaitHandshake(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := p.tech.Stats()
	if err != nil {
		t.Fatal(err)
	}
	out.WriteString(sprintf("%+v %v %v\n", st, p.techCfg, p.routerCfg))

	// A handshake that times out, logged the way the engine would.
	bad := startPair(t, func(c *Config) { c.Peer.PublicKey = mustKey(t).PublicKey() })
	short, cancel2 := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel2()
	if _, err := bad.tech.WaitHandshake(short); err != nil {
		out.WriteString(err.Error() + "\n")
	} else {
		t.Fatal("handshake with a wrong key succeeded")
	}

	// Up on a taken port: the error names the port, not the key.
	port, err := p.router.us.listenPort()
	if err != nil {
		t.Fatal(err)
	}
	clash := p.techCfg
	clash.ListenPort = port
	var clashLog logBuffer
	n := NewNetstack(clashLog.logf)
	defer n.Close()
	if err := n.Up(t.Context(), clash); err == nil {
		np, _ := n.ListenPort()
		rp, rerr := p.router.ListenPort()
		t.Fatalf("Up on port %d (router: %d, %v) succeeded, listening on %d", port, rp, rerr, np)
	} else {
		out.WriteString(err.Error() + "\n")
	}
	p.tech.Close()
	p.router.Close()
	bad.tech.Close()
	bad.router.Close()

	all := out.String() + p.techLog.String() + p.routerLog.String() + bad.techLog.String() + bad.routerLog.String() + clashLog.String()
	if strings.TrimSpace(all) == "" {
		t.Fatal("nothing was logged or returned: the test checks nothing")
	}
	for _, k := range []Config{p.techCfg, p.routerCfg, bad.techCfg, bad.routerCfg} {
		assertNoKey(t, all, k.PrivateKey)
	}
}

// resources counts what a backend could leak.
type resources struct{ goroutines, fds int }

func countResources(t *testing.T) resources {
	t.Helper()
	r, err := procResources()
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return r
}

func procResources() (resources, error) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return resources{}, err
	}
	return resources{goroutines: runtime.NumGoroutine(), fds: len(fds)}, nil
}

// awaitReleased waits for goroutines and descriptors to come back to base.
// The wait is a settle loop, not a timing assertion: Close returns before
// the runtime has reaped exiting goroutines.
func awaitReleased(base resources) error {
	var now resources
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var err error
		if now, err = procResources(); err != nil {
			return err
		}
		if now.goroutines <= base.goroutines && now.fds <= base.fds {
			return nil
		}
	}
	var stacks strings.Builder
	pprof.Lookup("goroutine").WriteTo(&stacks, 1)
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		target, _ := os.Readlink("/proc/self/fd/" + fd.Name())
		fmt.Fprintf(&stacks, "fd %s -> %s\n", fd.Name(), target)
		if ino, ok := strings.CutPrefix(target, "socket:["); ok {
			ino = strings.TrimSuffix(ino, "]")
			for _, tab := range []string{"tcp", "tcp6", "udp", "udp6", "unix", "netlink"} {
				raw, _ := os.ReadFile("/proc/self/net/" + tab)
				for _, line := range strings.Split(string(raw), "\n") {
					if strings.Contains(" "+line+" ", " "+ino+" ") {
						fmt.Fprintf(&stacks, "  %s: %s\n", tab, line)
					}
				}
			}
		}
	}
	return fmt.Errorf("after Close: %d goroutines and %d fds, want at most %d and %d\n%s",
		now.goroutines, now.fds, base.goroutines, base.fds, stacks.String())
}

func checkReleased(t *testing.T, base resources) {
	t.Helper()
	if err := awaitReleased(base); err != nil {
		t.Fatal(err)
	}
}

func TestCloseReleasesEverything(t *testing.T) {
	base := countResources(t)
	func() {
		p := startPair(t, nil)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		if _, err := p.tech.WaitHandshake(ctx); err != nil {
			t.Fatal(err)
		}
		l, err := p.router.ListenTCP(apiPort)
		if err != nil {
			t.Fatal(err)
		}
		accepted := make(chan error, 1)
		go func() {
			c, err := l.Accept()
			if err == nil {
				_, _, err = exchange(c, 64<<10, 2)
				c.Close()
			}
			accepted <- err
		}()
		c, err := p.tech.DialContext(ctx, "tcp", net.JoinHostPort(routerTunnelAddr, strconv.Itoa(apiPort)))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := exchange(c, 64<<10, 1); err != nil {
			t.Fatal(err)
		}
		if err := <-accepted; err != nil {
			t.Fatal(err)
		}
		c.Close()
		l.Close()
		if during := countResources(t); during.goroutines <= base.goroutines {
			t.Fatalf("%d goroutines with two devices up, base %d: the check cannot see a leak", during.goroutines, base.goroutines)
		}
		if err := p.tech.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.router.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	checkReleased(t, base)
}

func TestConfigValidate(t *testing.T) {
	good := func() Config {
		p := sampleQuick()
		return Config{
			PrivateKey: p.Interface.PrivateKey,
			Address:    p.Interface.Address[0],
			Peer: Peer{
				PublicKey:  p.Peer.PublicKey,
				AllowedIPs: p.Peer.AllowedIPs,
			},
		}
	}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" = valid
	}{
		{name: "valid without endpoint", edit: func(*Config) {}},
		{name: "no private key", edit: func(c *Config) { c.PrivateKey = [32]byte{} }, wantErr: "no private key"},
		{name: "no address", edit: func(c *Config) { c.Address = netipPrefixZero() }, wantErr: "no tunnel address"},
		{name: "port out of range", edit: func(c *Config) { c.ListenPort = 70000 }, wantErr: "out of range"},
		{name: "no peer key", edit: func(c *Config) { c.Peer.PublicKey = [32]byte{} }, wantErr: "no peer public key"},
		{name: "peer is us", edit: func(c *Config) { c.Peer.PublicKey = c.PrivateKey.PublicKey() }, wantErr: "our own"},
		{name: "endpoint port 0", edit: func(c *Config) { c.Peer.Endpoint = netipAddrPort("192.0.2.1:0") }, wantErr: "port 0"},
		{name: "no allowed IPs", edit: func(c *Config) { c.Peer.AllowedIPs = nil }, wantErr: "no allowed IPs"},
		{name: "negative keepalive", edit: func(c *Config) { c.Peer.Keepalive = -1 }, wantErr: "keepalive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.edit(&c)
			err := c.validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("validate() = %v, want containing %q", err, tt.wantErr)
			}
			if tt.wantErr != "" {
				if err := NewNetstack(nil).Up(t.Context(), c); err == nil {
					t.Errorf("Up accepted an invalid config")
				}
			}
		})
	}
}
