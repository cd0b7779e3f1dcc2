package vpn

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// QuickConfig is a wg-quick(8) configuration for the technician's own
// WireGuard client (laptop or phone app): the way back to the router once
// wgboot has exited.
//
// QuickConfig formats itself with the private key redacted; use Marshal for
// the file text.
type QuickConfig struct {
	Interface QuickInterface
	Peer      QuickPeer
}

// QuickInterface is the [Interface] section.
type QuickInterface struct {
	PrivateKey wgtypes.Key
	Address    []netip.Prefix // required
	DNS        []netip.Addr   // optional
	ListenPort int            // optional; 0 leaves it out (random port)
	MTU        int            // optional; 0 leaves it out
}

// QuickPeer is the [Peer] section.
type QuickPeer struct {
	PublicKey wgtypes.Key
	// PresharedKey is optional (zero: none). It is a secret like the
	// private key: String never prints it.
	PresharedKey wgtypes.Key
	// Endpoint is the published host:port; the host may be a DNS name.
	Endpoint            string
	AllowedIPs          []netip.Prefix
	PersistentKeepalive time.Duration // whole seconds; 0 leaves it out
}

// QuickFromConfig returns the wg-quick form of cfg, with endpoint (host:port)
// in place of the address this run used, since the published endpoint can
// differ from the one wgboot verified against (a DNS name, a port forward).
func QuickFromConfig(cfg Config, endpoint string) QuickConfig {
	return QuickConfig{
		Interface: QuickInterface{PrivateKey: cfg.PrivateKey, Address: []netip.Prefix{cfg.Address}},
		Peer: QuickPeer{
			PublicKey:           cfg.Peer.PublicKey,
			Endpoint:            endpoint,
			AllowedIPs:          cfg.Peer.AllowedIPs,
			PersistentKeepalive: cfg.Peer.Keepalive,
		},
	}
}

// Validate reports the first field that wg-quick would reject or that
// would leave the technician without a working tunnel.
func (q QuickConfig) Validate() error {
	var zero wgtypes.Key
	switch {
	case q.Interface.PrivateKey == zero:
		return errors.New("vpn: wg-quick config has no private key")
	case len(q.Interface.Address) == 0:
		return errors.New("vpn: wg-quick config has no address")
	case q.Interface.ListenPort < 0 || q.Interface.ListenPort > 65535:
		return fmt.Errorf("vpn: wg-quick listen port %d out of range 0-65535", q.Interface.ListenPort)
	case q.Interface.MTU < 0 || (q.Interface.MTU > 0 && q.Interface.MTU < 576):
		return fmt.Errorf("vpn: wg-quick MTU %d is too small", q.Interface.MTU)
	case q.Peer.PublicKey == zero:
		return errors.New("vpn: wg-quick config has no peer public key")
	case len(q.Peer.AllowedIPs) == 0:
		return errors.New("vpn: wg-quick peer has no allowed IPs")
	case q.Peer.PersistentKeepalive < 0 || q.Peer.PersistentKeepalive > 65535*time.Second:
		return fmt.Errorf("vpn: wg-quick keepalive %s out of range 0-65535s", q.Peer.PersistentKeepalive)
	}
	host, port, err := net.SplitHostPort(q.Peer.Endpoint)
	if err != nil || host == "" || strings.ContainsAny(host, " \t\n#") {
		// The value is not quoted: in a mangled file it may be a key.
		return errors.New("vpn: wg-quick endpoint is not host:port (e.g. 203.0.113.1:13231)")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return errors.New("vpn: wg-quick endpoint has no valid port (1-65535)")
	}
	for _, p := range append(append([]netip.Prefix{}, q.Interface.Address...), q.Peer.AllowedIPs...) {
		if !p.IsValid() {
			return errors.New("vpn: wg-quick config has an invalid prefix")
		}
	}
	for _, a := range q.Interface.DNS {
		if !a.IsValid() {
			return errors.New("vpn: wg-quick config has an invalid DNS address")
		}
	}
	return nil
}

// Marshal returns the file text. Optional fields that are unset are left
// out rather than written empty (wg-quick rejects "FwMark =").
func (q QuickConfig) Marshal() ([]byte, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("[Interface]\n")
	fmt.Fprintf(&b, "PrivateKey = %s\n", q.Interface.PrivateKey)
	fmt.Fprintf(&b, "Address = %s\n", joinStrings(q.Interface.Address))
	if len(q.Interface.DNS) > 0 {
		fmt.Fprintf(&b, "DNS = %s\n", joinStrings(q.Interface.DNS))
	}
	if q.Interface.ListenPort != 0 {
		fmt.Fprintf(&b, "ListenPort = %d\n", q.Interface.ListenPort)
	}
	if q.Interface.MTU != 0 {
		fmt.Fprintf(&b, "MTU = %d\n", q.Interface.MTU)
	}
	b.WriteString("\n[Peer]\n")
	fmt.Fprintf(&b, "PublicKey = %s\n", q.Peer.PublicKey)
	if q.Peer.PresharedKey != (wgtypes.Key{}) {
		fmt.Fprintf(&b, "PresharedKey = %s\n", q.Peer.PresharedKey)
	}
	fmt.Fprintf(&b, "Endpoint = %s\n", q.Peer.Endpoint)
	masked := make([]netip.Prefix, len(q.Peer.AllowedIPs))
	for i, p := range q.Peer.AllowedIPs {
		masked[i] = p.Masked()
	}
	fmt.Fprintf(&b, "AllowedIPs = %s\n", joinStrings(masked))
	if ka := int(q.Peer.PersistentKeepalive / time.Second); ka > 0 {
		fmt.Fprintf(&b, "PersistentKeepalive = %d\n", ka)
	}
	return b.Bytes(), nil
}

func joinStrings[T fmt.Stringer](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return strings.Join(s, ", ")
}

// String formats q with the private key replaced by its public key.
func (q QuickConfig) String() string {
	return fmt.Sprintf("{Interface:{PrivateKey:(redacted, public %s) Address:%v DNS:%v ListenPort:%d MTU:%d} Peer:%+v}",
		q.Interface.PrivateKey.PublicKey(), q.Interface.Address, q.Interface.DNS, q.Interface.ListenPort, q.Interface.MTU, q.Peer)
}

// GoString is String: %#v must not print the key bytes either.
func (q QuickConfig) GoString() string { return "vpn.QuickConfig" + q.String() }

// String formats i with the private key redacted.
func (i QuickInterface) String() string { return QuickConfig{Interface: i}.String() }

// GoString is String.
func (i QuickInterface) GoString() string { return "vpn.QuickInterface" + i.String() }

// String formats p with its base64 public key.
func (p QuickPeer) String() string {
	return fmt.Sprintf("{PublicKey:%s Endpoint:%s AllowedIPs:%v PersistentKeepalive:%s}",
		p.PublicKey, p.Endpoint, p.AllowedIPs, p.PersistentKeepalive)
}

// WriteQuick writes q to path with mode 0600. It never replaces a file
// with other contents: if path exists and differs, it returns an error
// wrapping fs.ErrExist, because that file may be the technician's only way
// back to another router. An identical file is left as is (its mode set to
// 0600), so a retried run succeeds. The write is atomic: a temporary file in
// the same directory, renamed into place.
func WriteQuick(path string, q QuickConfig) error {
	text, err := q.Marshal()
	if err != nil {
		return err
	}
	return writeSecret(path, text)
}

// writeSecret writes data to path with mode 0600 under WriteQuick's rules.
func writeSecret(path string, data []byte) error {
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, data):
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("vpn: restrict %s to mode 0600: %w", path, err)
		}
		return nil
	case err == nil:
		return fmt.Errorf("vpn: %s already exists with other contents; move it away or choose another path: %w", path, fs.ErrExist)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("vpn: check %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("vpn: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	// CreateTemp already uses 0600; Chmod guards against a changed default.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("vpn: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("vpn: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("vpn: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("vpn: write %s: %w", path, err)
	}
	// Link, unlike Rename, fails when path appeared meanwhile.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("vpn: %s appeared while writing; move it away or choose another path: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("vpn: write %s: %w", path, err)
	}
	return nil
}
