package vpn

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"image/png"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	qrcode "github.com/skip2/go-qrcode"
	"github.com/wgboot/wgboot/internal/needtool"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// golden compares got with testdata/<test name>.golden, rewriting it under
// -update.
func golden(t *testing.T, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// fixedKey is a deterministic key for golden files.
func fixedKey(seed byte) wgtypes.Key {
	var k wgtypes.Key
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}

func sampleQuick() QuickConfig {
	return QuickConfig{
		Interface: QuickInterface{
			PrivateKey: fixedKey(1),
			Address:    []netip.Prefix{netip.MustParsePrefix("10.77.0.2/24")},
		},
		Peer: QuickPeer{
			PublicKey:           fixedKey(100).PublicKey(),
			Endpoint:            "router.example.net:13231",
			AllowedIPs:          []netip.Prefix{netip.MustParsePrefix("10.77.0.1/24")},
			PersistentKeepalive: 25 * time.Second,
		},
	}
}

func TestQuickMarshal(t *testing.T) {
	tests := []struct {
		name string
		edit func(*QuickConfig)
	}{
		{name: "minimal", edit: func(*QuickConfig) {}},
		{name: "all fields", edit: func(q *QuickConfig) {
			q.Interface.Address = append(q.Interface.Address, netip.MustParsePrefix("fd77::2/64"))
			q.Interface.DNS = []netip.Addr{netip.MustParseAddr("10.77.0.1")}
			q.Interface.ListenPort = 51820
			q.Interface.MTU = 1380
			q.Peer.Endpoint = "[2001:db8::1]:13231"
			q.Peer.AllowedIPs = append(q.Peer.AllowedIPs, netip.MustParsePrefix("192.168.88.0/24"))
		}},
		{name: "no keepalive", edit: func(q *QuickConfig) { q.Peer.PersistentKeepalive = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := sampleQuick()
			tt.edit(&q)
			got, err := q.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, got)
			if bytes.Contains(got, []byte("= \n")) || bytes.HasSuffix(bytes.TrimRight(got, "\n"), []byte("=")) {
				t.Errorf("config has an empty value:\n%s", got)
			}
		})
	}
}

func TestQuickValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*QuickConfig)
		wantErr string
	}{
		{name: "no private key", edit: func(q *QuickConfig) { q.Interface.PrivateKey = wgtypes.Key{} }, wantErr: "no private key"},
		{name: "no address", edit: func(q *QuickConfig) { q.Interface.Address = nil }, wantErr: "no address"},
		{name: "no peer key", edit: func(q *QuickConfig) { q.Peer.PublicKey = wgtypes.Key{} }, wantErr: "no peer public key"},
		{name: "endpoint without port", edit: func(q *QuickConfig) { q.Peer.Endpoint = "192.0.2.1" }, wantErr: "not host:port"},
		{name: "endpoint port 0", edit: func(q *QuickConfig) { q.Peer.Endpoint = "192.0.2.1:0" }, wantErr: "no valid port"},
		{name: "endpoint with comment", edit: func(q *QuickConfig) { q.Peer.Endpoint = "a#b:1" }, wantErr: "not host:port"},
		{name: "no allowed IPs", edit: func(q *QuickConfig) { q.Peer.AllowedIPs = nil }, wantErr: "no allowed IPs"},
		{name: "bad listen port", edit: func(q *QuickConfig) { q.Interface.ListenPort = 65536 }, wantErr: "out of range"},
		{name: "bad keepalive", edit: func(q *QuickConfig) { q.Peer.PersistentKeepalive = -time.Second }, wantErr: "out of range"},
		{name: "invalid prefix", edit: func(q *QuickConfig) { q.Peer.AllowedIPs = []netip.Prefix{{}} }, wantErr: "invalid prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := sampleQuick()
			tt.edit(&q)
			err := q.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want containing %q", err, tt.wantErr)
			}
			if err := WriteQuick(filepath.Join(t.TempDir(), "x.conf"), q); err == nil {
				t.Errorf("WriteQuick accepted an invalid config")
			}
		})
	}
}

func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestWriteQuick(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wgboot.conf")
	q := sampleQuick()
	if err := WriteQuick(path, q); err != nil {
		t.Fatal(err)
	}
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("mode = %v, want 0600", m)
	}
	want, _ := q.Marshal()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}

	// Same content again: accepted, and the mode is restored.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteQuick(path, q); err != nil {
		t.Fatalf("rewriting identical content: %v", err)
	}
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("mode after identical rewrite = %v, want 0600", m)
	}

	// Different content: refused, file untouched.
	q2 := q
	q2.Peer.Endpoint = "198.51.100.7:13231"
	if err := WriteQuick(path, q2); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("overwriting with other content: %v, want fs.ErrExist", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, got) {
		t.Errorf("refused write changed the file")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the config (temporary files left behind?)", len(entries))
	}
}

// TestWgQuickStripParses feeds the generated file to Debian's wg-quick,
// which parses every line and rejects unknown or empty keys.
func TestWgQuickStripParses(t *testing.T) {
	needtool.Tool(t, "wireguard-tools", "wg-quick")
	// wg-quick re-runs itself through sudo unless root, even for strip.
	needtool.Root(t, "run wg-quick strip")
	wgQuick, err := exec.LookPath("wg-quick")
	if err != nil {
		t.Fatal(err)
	}
	q := sampleQuick()
	q.Interface.DNS = []netip.Addr{netip.MustParseAddr("10.77.0.1")}
	q.Interface.MTU = 1380
	path := filepath.Join(t.TempDir(), "wgbt0.conf") // wg-quick wants a valid interface name
	if err := WriteQuick(path, q); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(wgQuick, "strip", path).CombinedOutput()
	if err != nil {
		t.Fatalf("wg-quick strip: %v\n%s", err, out)
	}
	// strip keeps exactly the keys wg(8) understands.
	want := "[Interface]\nPrivateKey = " + q.Interface.PrivateKey.String() + "\n\n[Peer]\nPublicKey = " + q.Peer.PublicKey.String() +
		"\nEndpoint = router.example.net:13231\nAllowedIPs = 10.77.0.0/24\nPersistentKeepalive = 25\n"
	// wg-quick prints one more newline at the end; that is not ours.
	if diff := cmp.Diff(want, strings.TrimRight(string(out), "\n")+"\n"); diff != "" {
		t.Errorf("wg-quick strip (-want +got):\n%s", diff)
	}
}

func TestQRTerminal(t *testing.T) {
	var b bytes.Buffer
	if err := WriteQRTerminal(&b, sampleQuick()); err != nil {
		t.Fatal(err)
	}
	golden(t, b.Bytes())
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	// Quiet zone: the first line and the first column are light all across.
	if strings.Trim(lines[0], "█") != "" {
		t.Errorf("first line %q is not quiet zone", lines[0])
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "████") {
			t.Fatalf("line %d %q does not start with the quiet zone", i, l)
		}
	}
}

func TestRenderHalfBlocks(t *testing.T) {
	tests := []struct {
		name string
		bm   [][]bool
		want string
	}{
		{name: "all four cells", bm: [][]bool{{false, true, false, true}, {false, false, true, true}}, want: "█▄▀ \n"},
		{name: "odd height pads light", bm: [][]bool{{true, false}}, want: "▄█\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, renderHalfBlocks(tt.bm)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestQRPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wgboot.png")
	if err := WriteQRPNG(path, sampleQuick(), 512); err != nil {
		t.Fatal(err)
	}
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("mode = %v, want 0600", m)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Errorf("image is %dx%d, want 512x512", b.Dx(), b.Dy())
	}
}

// TestConfigFormattingRedactsKey checks every fmt verb a log line might use.
func TestConfigFormattingRedactsKey(t *testing.T) {
	q := sampleQuick()
	cfg := Config{PrivateKey: q.Interface.PrivateKey, Address: q.Interface.Address[0], Peer: Peer{PublicKey: q.Peer.PublicKey}}
	for _, v := range []any{cfg, &cfg, q, &q, q.Interface, &q.Interface} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := sprintf(verb, v)
			assertNoKey(t, out, cfg.PrivateKey)
		}
	}
}

// assertNoKey fails when s holds k in base64, hex (either case) or as Go's
// %v rendering of its bytes.
func assertNoKey(t *testing.T, s string, k wgtypes.Key) {
	t.Helper()
	for _, form := range keyForms(k) {
		if strings.Contains(strings.ToLower(s), strings.ToLower(form)) {
			t.Fatalf("private key (as %q) appears in output:\n%s", form, s)
		}
	}
}

func keyForms(k wgtypes.Key) []string {
	return []string{
		k.String(),
		base64.RawStdEncoding.EncodeToString(k[:]),
		base64.URLEncoding.EncodeToString(k[:]),
		hexString(k[:]),
		strings.Trim(sprintf("%v", [32]byte(k)), "[]"),
	}
}

// TestQRTerminalIsLossless reads the half-block drawing back into modules
// and compares them with the encoder's bitmap, so every module a phone
// camera needs is on the screen.
func TestQRTerminalIsLossless(t *testing.T) {
	q := sampleQuick()
	var b bytes.Buffer
	if err := WriteQRTerminal(&b, q); err != nil {
		t.Fatal(err)
	}
	text, _ := q.Marshal()
	code, err := qrcode.New(string(text), qrLevel)
	if err != nil {
		t.Fatal(err)
	}
	want := code.Bitmap()
	var got [][]bool
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		top, bottom := []bool{}, []bool{}
		for _, r := range line {
			// dark = true; blocks are light modules
			switch r {
			case '█':
				top, bottom = append(top, false), append(bottom, false)
			case '▀':
				top, bottom = append(top, false), append(bottom, true)
			case '▄':
				top, bottom = append(top, true), append(bottom, false)
			case ' ':
				top, bottom = append(top, true), append(bottom, true)
			default:
				t.Fatalf("unexpected rune %q", r)
			}
		}
		got = append(got, top, bottom)
	}
	got = got[:len(want)] // an odd last row is padded with light modules
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("modules read back from the terminal (-want +got):\n%s", diff)
	}
}
