package proof

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros/sim"
)

// TestSecretScan runs every headless command of wgboot on one router (plan,
// apply as text and JSON, status, audit, a second apply, rollback, a fleet
// run) and scans everything they leave: stdout, stderr, every file under the
// state dir and HOME, and the router's own log. The password must appear
// nowhere; the technician's private key only in the 0600 wg-quick files.
// Files wgboot writes are 0600 and its directories 0700.
func TestSecretScan(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	var logMu sync.Mutex
	var simLog strings.Builder
	rt := startRouter(t, ex, func(o *sim.Options) {
		o.Logf = func(format string, args ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			simLog.WriteString(strings.TrimSpace(strings.ReplaceAll(format, "%", "")) + "\n")
			for _, a := range args {
				if s, ok := a.(string); ok {
					simLog.WriteString(s + "\n")
				}
			}
		}
	})
	c := newCLI(t)
	home := strings.TrimPrefix(c.env[0], "HOME=")
	state := filepath.Join(home, ".config", "wgboot") // the default state dir
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	common := []string{"--router", rt.APIAddr(rt.LAN, false), "--fingerprint", rt.Info.Fingerprint, "--local", "netstack"}
	var outputs []string
	run := func(wantOK bool, args ...string) {
		res := c.run(ctx, args...)
		if wantOK && res.code != 0 {
			t.Fatalf("wgboot %s: %s", strings.Join(args, " "), res)
		}
		outputs = append(outputs, res.stdout, res.stderr)
	}
	run(true, append([]string{"plan"}, common...)...)
	run(true, append([]string{"apply", "--yes"}, common...)...)
	run(true, append([]string{"status"}, common...)...)
	run(true, append([]string{"audit"}, common...)...)
	run(true, append([]string{"status", "--json"}, common...)...)
	run(true, append([]string{"apply", "--yes", "--json"}, common...)...)
	// A team peer: its key is made here and only its config holds it.
	run(true, append([]string{"peer", "add", "alice", "--preshared-key", "--json"}, common...)...)
	run(true, append([]string{"peer", "list"}, common...)...)
	// Keys found in the wg-quick files before the rollback removes them.
	keys := map[string]bool{}
	confs := map[string]bool{}
	filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".conf") {
			q, err := readQuick(p)
			if err != nil {
				t.Errorf("%s: %v", p, err)
				return nil
			}
			keys[q.key.String()] = true
			confs[p] = true
		}
		return nil
	})
	if len(keys) == 0 {
		t.Fatal("no wg-quick file with a private key was written")
	}
	run(true, append([]string{"rollback", "--yes"}, common...)...)
	run(false, append([]string{"apply", "--yes"}, append(common, "--state-dir", state)...)...)

	scan := func(where, text string) {
		if strings.Contains(text, password) {
			t.Errorf("the password appears in %s", where)
		}
		for k := range keys {
			if strings.Contains(text, k) {
				t.Errorf("the technician's private key appears in %s", where)
			}
		}
	}
	for i, o := range outputs {
		scan("command output "+strings.Repeat("#", i+1), o)
	}
	logMu.Lock()
	scan("the router's log", simLog.String())
	logMu.Unlock()
	scan("the router's export", rt.Sim.Export())
	files := 0
	filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if strings.HasPrefix(p, state) && info.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s: directory mode %v, want 0700", p, info.Mode().Perm())
			}
			return nil
		}
		files++
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want 0600", p, info.Mode().Perm())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			return nil
		}
		if strings.HasSuffix(p, ".conf") {
			if strings.Contains(string(b), password) {
				t.Errorf("the password appears in %s", p)
			}
			return nil
		}
		scan(p, string(b))
		return nil
	})
	if files == 0 {
		t.Error("no state files to scan")
	}
	t.Logf("secret scan summary: %d outputs, %d state files, router log and export scanned for the password and %d private key(s)", len(outputs), files, len(keys))
}
