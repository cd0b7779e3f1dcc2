package vpn

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// Tests that need another network namespace re-run this test binary under
// `ip netns exec`, with helperEnv naming the role; the role runs instead of
// the tests. This keeps setns and its thread pinning out of the test process.
const (
	helperEnv    = "WGBOOT_VPN_HELPER"        // "router", "tech", "up", "probe" or "dellink"
	helperConfig = "WGBOOT_VPN_HELPER_CONFIG" // path of a helperSpec JSON file (mode 0600); dellink: interface name
)

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		if err := runHelper(role); err != nil {
			fmt.Fprintf(os.Stderr, "helper %s: %v\n", role, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helperSpec is what the parent test hands a helper.
type helperSpec struct {
	Config Config
	Name   string // kernel interface name (tech)
	Dial   string // tunnel address to exchange data with (tech)
	Bytes  int
}

// helperReport is the tech helper's READY line.
type helperReport struct {
	Kind  string
	Name  string // interface name (chosen by the backend when spec.Name is empty)
	Stats Stats
	Err   string
}

// runHelper plays one role. It prints READY (tech: with a JSON report) once
// its tunnel is up, waits for stdin to close, closes the backend and prints
// CLOSED. Logs go to stderr, which the parent scans for keys.
func runHelper(role string) error {
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	switch role {
	case "probe":
		return runProbe(logf)
	case "dellink":
		return runDelLink(os.Getenv(helperConfig))
	}
	raw, err := os.ReadFile(os.Getenv(helperConfig))
	if err != nil {
		return err
	}
	var spec helperSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base, err := procResources()
	if err != nil {
		return err
	}
	var b Backend
	switch role {
	case "router":
		n := NewNetstack(logf)
		b = n
		if err := n.Up(ctx, spec.Config); err != nil {
			return err
		}
		l, err := n.ListenTCP(apiPort)
		if err != nil {
			return err
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() { io.Copy(c, c); c.Close() }()
			}
		}()
		fmt.Println("READY")
	case "up":
		// Up only: the parent inspects addresses and routes, then closes.
		k := NewKernel(KernelOptions{Name: spec.Name, Logf: logf})
		b = k
		rep := helperReport{Kind: k.Kind()}
		if err := k.Up(ctx, spec.Config); err != nil {
			rep.Err = err.Error()
		}
		rep.Name = k.Name()
		line, _ := json.Marshal(rep)
		fmt.Printf("READY %s\n", line)
	case "tech":
		k := NewKernel(KernelOptions{Name: spec.Name, Logf: logf})
		b = k
		if err := k.Up(ctx, spec.Config); err != nil {
			return err
		}
		rep := helperReport{Kind: k.Kind(), Name: k.Name()}
		spec.Name = k.Name()
		if err := echoThrough(ctx, k, spec); err != nil {
			rep.Err = err.Error()
		}
		rep.Stats, _ = k.Stats()
		line, _ := json.Marshal(rep)
		fmt.Printf("READY %s\n", line)
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	io.Copy(io.Discard, os.Stdin)
	if err := b.Close(); err != nil {
		return err
	}
	if role == "tech" || role == "up" {
		if _, err := net.InterfaceByName(spec.Name); err == nil {
			return fmt.Errorf("interface %s still exists after Close", spec.Name)
		}
	}
	// Every goroutine and descriptor the backend opened (device, TUN,
	// UAPI socket and its handlers, netlink) must be gone.
	if err := awaitReleased(base); err != nil {
		return err
	}
	fmt.Println("CLOSED")
	return nil
}

// echoThrough waits for the handshake, then sends spec.Bytes through the
// tunnel to the router's echo service and checks they come back.
func echoThrough(ctx context.Context, b Backend, spec helperSpec) error {
	if _, err := b.WaitHandshake(ctx); err != nil {
		return err
	}
	c, err := b.DialContext(ctx, "tcp", net.JoinHostPort(spec.Dial, strconv.Itoa(apiPort)))
	if err != nil {
		return err
	}
	defer c.Close()
	sent, got, err := exchange(c, spec.Bytes, 7)
	if err != nil {
		return err
	}
	if sent != got {
		return errors.New("echo came back different")
	}
	return nil
}

// runProbe reports what New chooses in this process: the parent runs it
// without privileges.
func runProbe(logf func(string, ...any)) error {
	_, kerr := New(KindKernel, logf)
	auto, err := New(KindAuto, logf)
	if err != nil {
		return err
	}
	defer auto.Close()
	out, _ := json.Marshal(map[string]any{
		"kernelErr":         fmt.Sprint(kerr),
		"kernelUnavailable": errors.Is(kerr, ErrKernelUnavailable),
		"auto":              auto.Kind(),
	})
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "%s\n", out)
	return w.Flush()
}
