package vpn

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/needtool"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// needRoot skips tests that create namespaces and TUN devices.
func needRoot(t *testing.T) {
	t.Helper()
	needtool.Root(t, "create network namespaces and TUN devices")
	needtool.File(t, "/dev/net/tun")
	needtool.Tool(t, "iproute2", "ip")
	needtool.Tool(t, "wireguard-tools", "wg")
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// helperProc is a helper role running in a namespace.
type helperProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *logBuffer
}

func startHelper(t *testing.T, ns, role string, spec helperSpec) *helperProc {
	t.Helper()
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), role+".json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	h := &helperProc{stderr: &logBuffer{}}
	h.cmd = exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
	h.cmd.Env = append(os.Environ(), helperEnv+"="+role, helperConfig+"="+path)
	h.cmd.Stderr = writerFunc(func(b []byte) (int, error) { h.stderr.logf("%s", b); return len(b), nil })
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.lines = bufio.NewScanner(out)
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.stdin.Close()
		h.cmd.Wait()
		if t.Failed() {
			t.Logf("%s helper stderr:\n%s", role, h.stderr)
		}
	})
	return h
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// next returns the helper's next stdout line, failing with its stderr when
// it exited instead.
func (h *helperProc) next(t *testing.T) string {
	t.Helper()
	if !h.lines.Scan() {
		h.cmd.Wait()
		t.Fatalf("helper exited (%v) without a line; stderr:\n%s", h.cmd.ProcessState, h.stderr)
	}
	return h.lines.Text()
}

// stop closes the helper's stdin and waits for CLOSED and a clean exit.
func (h *helperProc) stop(t *testing.T) {
	t.Helper()
	h.stdin.Close()
	if line := h.next(t); line != "CLOSED" {
		t.Fatalf("helper said %q, want CLOSED", line)
	}
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v\n%s", err, h.stderr)
	}
}

// TestKernelBackendInNamespace runs the kernel backend (wireguard-go on TUN
// here, no WireGuard module) in namespace A against a netstack router
// stand-in in namespace B, joined by a veth pair; both are created by the
// test. It checks the tunnel with wgctrl and with `wg show`, feeds the
// wg-quick file to `wg setconf`, and checks Close removes the interface.
func TestKernelBackendInNamespace(t *testing.T) {
	needRoot(t)
	for _, auto := range []bool{false, true} {
		t.Run(map[bool]string{false: "given name", true: "chosen name"}[auto], func(t *testing.T) {
			kernelInNamespace(t, auto)
		})
	}
}

func kernelInNamespace(t *testing.T, autoName bool) {
	id := fmt.Sprintf("%06x", rand.IntN(1<<24))
	nsA, nsB := "wgbt-"+id+"a", "wgbt-"+id+"b"
	for _, ns := range []string{nsA, nsB} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	vethA, vethB := "wgbv"+id+"a", "wgbv"+id+"b"
	run(t, "ip", "link", "add", vethA, "netns", nsA, "type", "veth", "peer", "name", vethB, "netns", nsB)
	run(t, "ip", "-n", nsA, "addr", "add", "10.250.0.1/24", "dev", vethA)
	run(t, "ip", "-n", nsB, "addr", "add", "10.250.0.2/24", "dev", vethB)
	run(t, "ip", "-n", nsA, "link", "set", vethA, "up")
	run(t, "ip", "-n", nsB, "link", "set", vethB, "up")

	tk, rk := mustKey(t), mustKey(t)
	routerCfg := Config{
		PrivateKey: rk,
		Address:    netip.MustParsePrefix("10.77.0.1/24"),
		ListenPort: 13231,
		Peer:       Peer{PublicKey: tk.PublicKey(), AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.2/32")}},
	}
	techCfg := Config{
		PrivateKey: tk,
		Address:    netip.MustParsePrefix("10.77.0.2/24"),
		Peer: Peer{
			PublicKey: rk.PublicKey(),
			Endpoint:  netip.MustParseAddrPort("10.250.0.2:13231"),
			// Only the router's address: the kernel backend routes single
			// addresses (TestKernelRoutesInNamespace).
			AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.1/32")},
			Keepalive:  25 * time.Second,
		},
	}
	name := "wgbt" + id
	if autoName {
		name = ""
	}
	router := startHelper(t, nsB, "router", helperSpec{Config: routerCfg})
	if line := router.next(t); line != "READY" {
		t.Fatalf("router helper said %q", line)
	}
	const bytesEach = 256 << 10
	tech := startHelper(t, nsA, "tech", helperSpec{Config: techCfg, Name: name, Dial: "10.77.0.1", Bytes: bytesEach})
	line := tech.next(t)
	var rep helperReport
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "READY ")), &rep); err != nil {
		t.Fatalf("tech helper said %q: %v", line, err)
	}
	if rep.Err != "" || rep.Kind != KindKernel {
		t.Fatalf("tech helper: kind %q, error %q", rep.Kind, rep.Err)
	}
	switch {
	case autoName && !strings.HasPrefix(rep.Name, "wgboot"):
		t.Fatalf("chosen interface name %q, want wgbootN", rep.Name)
	case !autoName && rep.Name != name:
		t.Fatalf("interface name %q, want %q", rep.Name, name)
	}
	name = rep.Name
	if rep.Stats.LastHandshake.IsZero() || rep.Stats.Rx < bytesEach || rep.Stats.Tx < bytesEach {
		t.Errorf("tech stats after echo = %+v, want a handshake and >= %d bytes each way", rep.Stats, bytesEach)
	}

	// wgctrl reaches wireguard-go through its UAPI socket, which is not
	// per-namespace, so this process sees the device in namespace A.
	wc, err := wgctrl.New()
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	dev, err := wc.Device(name)
	if err != nil {
		t.Fatalf("wgctrl Device(%s): %v", name, err)
	}
	if len(dev.Peers) != 1 {
		t.Fatalf("wgctrl sees %d peers, want 1", len(dev.Peers))
	}
	type view struct {
		Type       wgtypes.DeviceType
		PublicKey  wgtypes.Key
		Peer       wgtypes.Key
		Endpoint   string
		AllowedIPs []string
		Keepalive  time.Duration
	}
	got := view{Type: dev.Type, PublicKey: dev.PublicKey, Peer: dev.Peers[0].PublicKey, Endpoint: dev.Peers[0].Endpoint.String(), Keepalive: dev.Peers[0].PersistentKeepaliveInterval}
	for _, n := range dev.Peers[0].AllowedIPs {
		got.AllowedIPs = append(got.AllowedIPs, n.String())
	}
	want := view{Type: wgtypes.Userspace, PublicKey: tk.PublicKey(), Peer: rk.PublicKey(), Endpoint: "10.250.0.2:13231",
		AllowedIPs: []string{"10.77.0.1/32"}, Keepalive: 25 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wgctrl view (-want +got):\n%s", diff)
	}
	if dev.Peers[0].LastHandshakeTime.IsZero() {
		t.Errorf("wgctrl reports no handshake")
	}

	// wg show, from wireguard-tools: the peer line of the dump is
	// public-key psk endpoint allowed-ips handshake rx tx keepalive.
	// (The dump's first line holds the private key; it is never printed.)
	dump := strings.Split(strings.TrimSpace(run(t, "wg", "show", name, "dump")), "\n")
	if len(dump) != 2 {
		t.Fatalf("wg show dump has %d lines, want 2", len(dump))
	}
	f := strings.Split(dump[1], "\t")
	if len(f) != 8 {
		t.Fatalf("wg show peer line has %d fields, want 8", len(f))
	}
	wantShow := []string{rk.PublicKey().String(), "(none)", "10.250.0.2:13231", "10.77.0.1/32", "25"}
	if diff := cmp.Diff(wantShow, []string{f[0], f[1], f[2], f[3], f[7]}); diff != "" {
		t.Errorf("wg show peer (-want +got):\n%s", diff)
	}
	if hs, _ := strconv.ParseInt(f[4], 10, 64); hs == 0 {
		t.Errorf("wg show: latest handshake %q, want one", f[4])
	}
	if pub := strings.TrimSpace(run(t, "wg", "show", name, "public-key")); pub != tk.PublicKey().String() {
		t.Errorf("wg show public-key = %q, want %q", pub, tk.PublicKey())
	}

	// Only root may configure the device through its UAPI socket.
	if fi, err := os.Stat(filepath.Join(uapiDir, name+".sock")); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("UAPI socket: %v, mode %v; want no access for group and others", err, fi.Mode().Perm())
	}

	// Address and routes, as the OS sees them.
	addrs := run(t, "ip", "-n", nsA, "-o", "addr", "show", "dev", name)
	if !strings.Contains(addrs, "inet 10.77.0.2/32") {
		t.Errorf("ip addr on %s = %q, want 10.77.0.2/32", name, addrs)
	}
	routes := run(t, "ip", "-n", nsA, "-4", "route", "show", "dev", name)
	if strings.TrimSpace(routes) != "10.77.0.1 scope link src 10.77.0.2" {
		t.Errorf("routes via %s = %q, want only 10.77.0.1", name, routes)
	}

	// The wg-quick file is accepted by wg-quick strip and wg setconf.
	if needtool.Has(t, "wg-quick") {
		conf := filepath.Join(t.TempDir(), name+".conf")
		if err := WriteQuick(conf, QuickFromConfig(techCfg, "10.250.0.2:13231")); err != nil {
			t.Fatal(err)
		}
		stripped := filepath.Join(t.TempDir(), "stripped.conf")
		if err := os.WriteFile(stripped, []byte(run(t, "wg-quick", "strip", conf)), 0o600); err != nil {
			t.Fatal(err)
		}
		run(t, "wg", "setconf", name, stripped)
		if pub := strings.TrimSpace(run(t, "wg", "show", name, "public-key")); pub != tk.PublicKey().String() {
			t.Errorf("after wg setconf: public key %q, want %q", pub, tk.PublicKey())
		}
	}

	tech.stop(t)
	if out, err := exec.Command("ip", "-n", nsA, "link", "show", name).CombinedOutput(); err == nil {
		t.Errorf("interface %s still exists after Close:\n%s", name, out)
	}
	if _, err := os.Stat("/var/run/wireguard/" + name + ".sock"); err == nil {
		t.Errorf("UAPI socket of %s still exists after Close", name)
	}
	router.stop(t)
	logs := tech.stderr.String() + router.stderr.String()
	if !strings.Contains(logs, name) {
		t.Errorf("tech log does not mention the interface; the key check would prove nothing:\n%s", logs)
	}
	assertNoKey(t, logs, tk)
	assertNoKey(t, logs, rk)
}

// TestUnprivilegedFallsBack runs New without privileges: "kernel" must say
// what is missing, "auto" must fall back to netstack.
func TestUnprivilegedFallsBack(t *testing.T) {
	needRoot(t) // to drop privileges we need them
	needtool.Tool(t, "util-linux, to drop privileges", "setpriv")
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
		os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=probe")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, stderr.String())
	}
	var got struct {
		KernelErr         string
		KernelUnavailable bool
		Auto              string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("probe said %q: %v", out, err)
	}
	if !got.KernelUnavailable || !strings.Contains(got.KernelErr, "CAP_NET_ADMIN") || got.Auto != KindNetstack {
		t.Errorf("unprivileged: kernel error %q (ErrKernelUnavailable: %v), auto %q; want an error naming CAP_NET_ADMIN and netstack",
			got.KernelErr, got.KernelUnavailable, got.Auto)
	}
	if !strings.Contains(stderr.String(), "using netstack") {
		t.Errorf("auto fallback not logged; log:\n%s", stderr.String())
	}
}

// TestDeleteLinkInNamespace checks the rtnetlink link removal used for
// kernel-module interfaces, on a veth pair in a test-made namespace (the
// dummy module may be missing; veth is there, as the other test needs it).
func TestDeleteLinkInNamespace(t *testing.T) {
	needRoot(t)
	ns := fmt.Sprintf("wgbt-%06xd", rand.IntN(1<<24))
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run(t, "ip", "-n", ns, "link", "add", "wgbtdummy", "type", "veth", "peer", "name", "wgbtdummy2")
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=dellink", helperConfig+"=wgbtdummy")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dellink helper: %v\n%s", err, out)
	}
	if out, err := exec.Command("ip", "-n", ns, "link", "show", "wgbtdummy").CombinedOutput(); err == nil {
		t.Errorf("interface still exists after deleteLink:\n%s", out)
	}
}
