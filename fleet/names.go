package fleet

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// wg-quick takes the interface name from the file name: at most 15
// characters of [a-zA-Z0-9_=+.-] (Linux's IFNAMSIZ), then ".conf". A
// file it refuses is useless to the technician.
var interfaceName = regexp.MustCompile(`^[a-zA-Z0-9_=+.-]{1,15}$`)

const (
	idLen   = 7 // characters of the identity in a name
	hashLen = 7 // base32 characters (35 bits) of the address's hash
)

var nameHash = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ConfigName is the wg-quick file name for a router: the start of its
// identity (letters, digits and dashes; "router" when it has none), a dash
// and a hash of its API address, at most 15 characters before ".conf" so
// that `wg-quick up FILE` accepts it. The same router at the same address
// gets the same name in every run; routers that all call themselves
// "MikroTik" get different ones. Which file is which router is in
// index.tsv next to the files.
func ConfigName(identity, addr string) string {
	var id []byte
	for _, r := range identity {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			id = append(id, byte(r))
		case len(id) > 0 && id[len(id)-1] != '-':
			id = append(id, '-') // runs of anything else: one dash
		}
		if len(id) >= idLen {
			break
		}
	}
	name := strings.Trim(string(id), "-")
	if name == "" {
		name = "router"
	}
	sum := sha256.Sum256([]byte(canonicalAddr(addr)))
	return name + "-" + nameHash.EncodeToString(sum[:])[:hashLen] + ".conf"
}

// ValidConfigName reports whether wg-quick accepts name (a file name
// ending in .conf) as it is.
func ValidConfigName(name string) bool {
	base, ok := strings.CutSuffix(name, ".conf")
	return ok && interfaceName.MatchString(base)
}

// canonicalAddr is host:port with the host in lower case, so two
// spellings of one address name one file. A bare host is kept as given.
func canonicalAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return strings.ToLower(strings.Trim(addr, "[]"))
	}
	return net.JoinHostPort(strings.ToLower(host), port)
}

// ErrNameTaken means a config file name is already used, in this run or on
// disk; the file is not overwritten.
var ErrNameTaken = errors.New("fleet: config file name already taken")

// IndexFile is the name of the index in the output directory: one line per
// config file, "FILE<TAB>IDENTITY<TAB>ADDRESS<TAB>SUBNET".
const IndexFile = "index.tsv"

// names hands out config file names in dir, once each, and keeps the index.
type names struct {
	dir string

	mu    sync.Mutex        // guards following, and the index file
	taken map[string]string // name -> router that has it
}

func newNames(dir string) *names { return &names{dir: dir, taken: map[string]string{}} }

// indexEntry is one line of the index. Fields are kept escaped (escape).
type indexEntry struct{ file, identity, addr, subnet string }

// write claims name for router and writes data to it with mode 0600. It
// refuses a name another router of this run has, or a file that exists.
func (n *names) write(name, router string, data []byte) (string, error) {
	n.mu.Lock()
	if other, ok := n.taken[name]; ok && other != router {
		n.mu.Unlock()
		return "", fmt.Errorf("%w: %s is %s's config in this run: not overwritten", ErrNameTaken, name, other)
	}
	n.taken[name] = router
	n.mu.Unlock()
	if err := os.MkdirAll(n.dir, 0o700); err != nil {
		return "", fmt.Errorf("fleet: %w", err)
	}
	path := filepath.Join(n.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("%w: %s exists (from an earlier run?): not overwritten; move it away or give another output directory", ErrNameTaken, path)
	}
	if err != nil {
		return "", fmt.Errorf("fleet: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("fleet: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("fleet: write %s: %w", path, err)
	}
	return path, nil
}

// record adds (or replaces) name's line in the index. Lines of files that
// are gone (retired by a rollback, removed by hand) are dropped.
func (n *names) record(name, identity, addr, subnet string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	entries, err := readIndex(n.dir)
	if err != nil {
		return err
	}
	keep := entries[:0]
	for _, e := range entries {
		if e.file == name {
			continue
		}
		if _, err := os.Lstat(filepath.Join(n.dir, e.file)); err != nil {
			continue
		}
		keep = append(keep, e)
	}
	keep = append(keep, indexEntry{file: name, identity: escape(identity), addr: escape(canonicalAddr(addr)), subnet: escape(subnet)})
	return writeIndex(n.dir, keep)
}

// readIndex reads dir's index; a missing index is empty.
func readIndex(dir string) ([]indexEntry, error) {
	b, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fleet: read the index: %w", err)
	}
	var out []indexEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		for len(f) < 4 {
			f = append(f, "")
		}
		// Only names this package could have written are trusted as
		// file names: the index must not point a rollback elsewhere.
		if !ValidConfigName(f[0]) {
			continue
		}
		out = append(out, indexEntry{file: f[0], identity: f[1], addr: f[2], subnet: f[3]})
	}
	return out, nil
}

const indexHeader = "# wgboot fleet index: FILE, IDENTITY, ADDRESS (API host:port), SUBNET; tab-separated, \\t \\n \\\\ and \\xNN escaped\n"

// writeIndex replaces dir's index in one step (write, then rename), so a
// reader never sees half of it.
func writeIndex(dir string, entries []indexEntry) error {
	sort.Slice(entries, func(i, j int) bool { return entries[i].file < entries[j].file })
	var b strings.Builder
	b.WriteString(indexHeader)
	for _, e := range entries {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", e.file, e.identity, e.addr, e.subnet)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".index-*.tmp")
	if err != nil {
		return fmt.Errorf("fleet: write the index: %w", err)
	}
	_, werr := tmp.WriteString(b.String())
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), filepath.Join(dir, IndexFile))
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("fleet: write the index: %w", werr)
	}
	return nil
}

// escape makes s one TSV field: a router's identity is the router's to
// choose and may hold tabs, newlines or terminal escapes.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// dirsFile, in the state directory's fleet folder, lists the other output
// directories (--out) fleet runs wrote to, so a rollback finds their files.
const dirsFile = "dirs"

// rememberDir notes out in stateDir when it is not the default one.
func rememberDir(stateDir, out string) error {
	def := filepath.Join(stateDir, "fleet")
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	if defAbs, err := filepath.Abs(def); err == nil && defAbs == abs {
		return nil
	}
	for _, d := range knownDirs(stateDir) {
		if d == abs {
			return nil
		}
	}
	if err := os.MkdirAll(def, 0o700); err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(def, dirsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	_, err = fmt.Fprintln(f, abs)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	return nil
}

// knownDirs is every output directory fleet runs with stateDir wrote to.
func knownDirs(stateDir string) []string {
	def := filepath.Join(stateDir, "fleet")
	out := []string{def}
	b, _ := os.ReadFile(filepath.Join(def, dirsFile))
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); filepath.IsAbs(l) {
			out = append(out, l)
		}
	}
	return out
}

// Retire removes the fleet config files of the router at addr (host:port
// of its API) from every output directory fleet runs with stateDir used,
// and their index lines. A rollback calls it: the files hold the private
// key of a peer the router no longer has, and would block the names of
// the next onboarding. It returns the files removed.
func Retire(stateDir, addr string) ([]string, error) {
	want := escape(canonicalAddr(addr))
	var removed []string
	var errs []error
	for _, dir := range knownDirs(stateDir) {
		if err := func() error {
			entries, err := readIndex(dir)
			if err != nil || len(entries) == 0 {
				return err
			}
			keep := entries[:0]
			for _, e := range entries {
				if e.addr != want {
					keep = append(keep, e)
					continue
				}
				p := filepath.Join(dir, e.file)
				if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					keep = append(keep, e)
					errs = append(errs, fmt.Errorf("fleet: retire %s: %w", p, err))
					continue
				}
				removed = append(removed, p)
			}
			if len(keep) == len(entries) {
				return nil
			}
			return writeIndex(dir, keep)
		}(); err != nil {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}
