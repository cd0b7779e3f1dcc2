package tui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// recentFile is the wizard's own file in the state dir. It holds no secrets:
// never a password, only where and as whom the technician connected.
const recentFile = "recent.json"

// maxRecent is how many routers the Connect screen offers.
const maxRecent = 8

// Recent is one remembered router.
type Recent struct {
	Host  string `json:"host"`
	Port  int    `json:"port"`
	User  string `json:"user"`
	Plain bool   `json:"plain,omitempty"`
}

func (r Recent) label() string {
	mode := "api-ssl"
	if r.Plain {
		mode = "plain"
	}
	return fmt.Sprintf("%s as %s (%s)", net.JoinHostPort(r.Host, strconv.Itoa(r.Port)), r.User, mode)
}

// ParseRecent reads a recent.json. Entries that could not have been written
// by the wizard (no host, a bad port, control characters) are an error: the
// file is small and hand edits should be noticed, not half-used.
func ParseRecent(b []byte) ([]Recent, error) {
	var doc struct {
		Routers []Recent `json:"routers"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("tui: read recent routers: %w", err)
	}
	for i, r := range doc.Routers {
		if err := validateHost(r.Host); err != nil {
			return nil, fmt.Errorf("tui: recent router %d: %w", i+1, err)
		}
		if r.Port < 1 || r.Port > 65535 {
			return nil, fmt.Errorf("tui: recent router %d: port %d is not 1-65535", i+1, r.Port)
		}
		if r.User == "" {
			return nil, fmt.Errorf("tui: recent router %d: no user", i+1)
		}
		if strings.ContainsFunc(r.Host+r.User, func(c rune) bool { return c < ' ' || c == 0x7f }) {
			return nil, fmt.Errorf("tui: recent router %d: control characters", i+1)
		}
	}
	if len(doc.Routers) > maxRecent {
		doc.Routers = doc.Routers[:maxRecent]
	}
	return doc.Routers, nil
}

// FormatRecent is the inverse of ParseRecent.
func FormatRecent(rs []Recent) []byte {
	b, _ := json.MarshalIndent(struct {
		Routers []Recent `json:"routers"`
	}{rs}, "", "  ") // a slice of plain structs always marshals
	return append(b, '\n')
}

// addRecent puts r first and drops older duplicates of the same router.
func addRecent(rs []Recent, r Recent) []Recent {
	out := []Recent{r}
	for _, x := range rs {
		if x.Host == r.Host && x.Port == r.Port {
			continue
		}
		out = append(out, x)
	}
	if len(out) > maxRecent {
		out = out[:maxRecent]
	}
	return out
}

// LoadRecent reads the recent routers from dir. A missing file is no error.
func LoadRecent(dir string) ([]Recent, error) {
	if dir == "" {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, recentFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tui: read recent routers: %w", err)
	}
	return ParseRecent(b)
}

// SaveRecent remembers r in dir (created 0700 if missing).
func SaveRecent(dir string, r Recent) error {
	if dir == "" {
		return nil
	}
	rs, err := LoadRecent(dir)
	if err != nil {
		rs = nil // a broken file is replaced rather than blocking the wizard
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("tui: remember router: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".recent-*")
	if err != nil {
		return fmt.Errorf("tui: remember router: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(FormatRecent(addRecent(rs, r))); err != nil {
		tmp.Close()
		return fmt.Errorf("tui: remember router: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("tui: remember router: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, recentFile)); err != nil {
		return fmt.Errorf("tui: remember router: %w", err)
	}
	return nil
}

func loadRecentQuiet(dir string, logf func(string, ...any)) []Recent {
	rs, err := LoadRecent(dir)
	if err != nil {
		logf("%v (ignored)", err)
	}
	return rs
}

func saveRecentCmd(dir string, r Recent, logf func(string, ...any)) tea.Cmd {
	if dir == "" {
		return nil
	}
	return func() tea.Msg {
		if err := SaveRecent(dir, r); err != nil {
			logf("%v", err)
		}
		return nil
	}
}
