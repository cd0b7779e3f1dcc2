package fleet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// maxNameLen keeps config file names well under every file system's limit.
const maxNameLen = 120

// ConfigName is the wg-quick file name for a router: its identity and API
// address, with anything but letters, digits, dot and dash turned into "_".
func ConfigName(identity, addr string) string {
	if identity == "" {
		identity = "router"
	}
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
				return r
			}
			return '_'
		}, s)
	}
	id := clean(identity)
	if len(id) > maxNameLen/2 {
		id = id[:maxNameLen/2]
	}
	name := id + "_" + clean(addr)
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	return name + ".conf"
}

// ErrNameTaken means a config file name is already used, in this run or on
// disk; the file is not overwritten.
var ErrNameTaken = errors.New("fleet: config file name already taken")

// names hands out config file names in dir, once each.
type names struct {
	dir string

	mu    sync.Mutex        // guards following
	taken map[string]string // name -> router that has it
}

func newNames(dir string) *names { return &names{dir: dir, taken: map[string]string{}} }

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
