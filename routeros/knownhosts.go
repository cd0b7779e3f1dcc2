package routeros

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wgboot/wgboot/internal/durable"
)

// KnownHostsFile is the file name KnownHosts uses inside a state dir.
const KnownHostsFile = "known_hosts"

// KnownHosts is the trust-on-first-use store: one line per router,
// "<address> <fingerprint>", '#' comments allowed. The file is written
// with mode 0600 by an atomic rename; a line is never replaced silently
// (a changed certificate is an error the technician resolves by hand).
type KnownHosts struct {
	path string
	mu   sync.Mutex // serialises read-modify-write within this process
}

// NewKnownHosts returns the store in stateDir (created with mode 0700
// when first written). It does no I/O.
func NewKnownHosts(stateDir string) *KnownHosts {
	return &KnownHosts{path: filepath.Join(stateDir, KnownHostsFile)}
}

// Path is the file's path, for messages.
func (k *KnownHosts) Path() string { return k.path }

// Lookup returns the recorded fingerprint of addr; ok is false when there
// is none (or the file does not exist yet).
func (k *KnownHosts) Lookup(addr string) (fp string, ok bool, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	entries, err := k.load()
	if err != nil {
		return "", false, err
	}
	for _, e := range entries {
		if e.addr == addr {
			return e.fp, true, nil
		}
	}
	return "", false, nil
}

// Check compares got with the recorded fingerprint of addr: nil when they
// match, ErrUnknownHost when none is recorded, and a *FingerprintError
// (Changed) when they differ.
func (k *KnownHosts) Check(addr, got string) error {
	want, ok, err := k.Lookup(addr)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s (file %s)", ErrUnknownHost, addr, k.path)
	}
	g, err := NormalizeFingerprint(got)
	if err != nil {
		return err
	}
	if g != want {
		return &FingerprintError{Addr: addr, Want: want, Got: g, Changed: true, File: k.path}
	}
	return nil
}

// Add records fp for addr. Recording the same fingerprint again is a
// no-op; a different one is a *FingerprintError (Changed) and the file is
// left alone.
func (k *KnownHosts) Add(addr, fp string) error {
	if addr == "" || strings.ContainsAny(addr, " \t\r\n#") {
		return fmt.Errorf("routeros: known hosts: %q is not a router address", addr)
	}
	fp, err := NormalizeFingerprint(fp)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	raw, err := os.ReadFile(k.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("routeros: known hosts: %w", err)
	}
	entries, err := parseKnownHosts(strings.NewReader(string(raw)), k.path)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.addr != addr {
			continue
		}
		if e.fp == fp {
			return nil
		}
		return &FingerprintError{Addr: addr, Want: e.fp, Got: fp, Changed: true, File: k.path}
	}
	out := string(raw)
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	out += addr + " " + fp + "\n"
	return writeFileAtomic(k.path, []byte(out))
}

type knownHost struct{ addr, fp string }

func (k *KnownHosts) load() ([]knownHost, error) {
	f, err := os.Open(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("routeros: known hosts: %w", err)
	}
	defer f.Close()
	return parseKnownHosts(f, k.path)
}

// parseKnownHosts reads "<address> <fingerprint>" lines; blank lines and
// '#' comments are skipped. A malformed line is an error naming it, so a
// hand edit gone wrong is not mistaken for an unknown router.
func parseKnownHosts(r io.Reader, name string) ([]knownHost, error) {
	var out []knownHost
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("routeros: %s line %d: want \"<address> <fingerprint>\"", name, n)
		}
		fp, err := NormalizeFingerprint(f[1])
		if err != nil {
			return nil, fmt.Errorf("routeros: %s line %d: %w", name, n, err)
		}
		out = append(out, knownHost{addr: f[0], fp: fp})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("routeros: %s: %w", name, err)
	}
	return out, nil
}

// writeFileAtomic replaces path with data (mode 0600) durably, so that a
// crash after a pin cannot lose it.
func writeFileAtomic(path string, data []byte) error {
	if err := durable.WriteFile(path, data); err != nil {
		return fmt.Errorf("routeros: known hosts: %w", err)
	}
	return nil
}
