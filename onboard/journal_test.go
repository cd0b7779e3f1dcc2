package onboard

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wgboot/wgboot/internal/durable"
)

// TestJournalIsDurable: the journal is what a rerun resumes and rolls back
// from, so a crash right after a write must not lose it. It is written 0600
// through the durable writer: the data is fsynced before the rename and the
// directory after it.
func TestJournalIsDurable(t *testing.T) {
	state := t.TempDir()
	j := &Journal{Router: "192.0.2.1:8729", Identity: "r1", RunID: "abc", State: StateArmed}
	path := journalPath(state, j.Router)
	var mu sync.Mutex
	var syncs []string
	defer durable.SetSyncHook(func(p string) {
		if strings.HasPrefix(p, state) {
			mu.Lock()
			syncs = append(syncs, p)
			mu.Unlock()
		}
	})()

	for _, st := range []string{StateArmed, StateApplied} {
		j.State = st
		if err := writeJournal(state, j); err != nil {
			t.Fatalf("writeJournal: %v", err)
		}
	}
	got, err := ReadJournal(state, j.Router)
	if err != nil || got == nil || got.State != StateApplied {
		t.Fatalf("ReadJournal = %+v, %v; want the last state written", got, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode = %v, want 0600", fi.Mode().Perm())
	}
	mu.Lock()
	defer mu.Unlock()
	dir := filepath.Dir(path)
	if len(syncs) != 4 || syncs[1] != dir || syncs[3] != dir {
		t.Errorf("two journal writes synced %q; want each to sync its temporary file and then %s", syncs, dir)
	}
}
