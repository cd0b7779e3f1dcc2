package onboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wgboot/wgboot/internal/durable"
)

// Journal states, in order.
const (
	StateArmed      = "armed"       // safety net on the router, changes under way
	StateApplied    = "applied"     // router side applied, not yet hardened
	StateHardened   = "hardened"    // WAN drop in place, not yet committed
	StateCommitted  = "committed"   // safety net removed: the onboarding stands
	StateRolledBack = "rolled-back" // undone (by wgboot or by the router's scheduler)
)

// Journal is what wgboot wrote down about one router, so a rerun can resume
// or roll back and a later rollback can restore modified items. It holds no
// password and no private key.
type Journal struct {
	Router   string       `json:"router"`
	Identity string       `json:"identity"`
	RunID    string       `json:"run_id"`
	State    string       `json:"state"`
	Started  time.Time    `json:"started"`
	Updated  time.Time    `json:"updated"`
	Settings Settings     `json:"settings"`
	Ops      []JournalOp  `json:"ops"`
	Net      SafetyNet    `json:"safety_net"`
	Tunnel   *TunnelInfo  `json:"tunnel,omitempty"`
	Summary  *Summary     `json:"summary,omitempty"`
	Failure  *FailureInfo `json:"failure,omitempty"`
}

// TunnelInfo is how this machine reached the router through the tunnel, so
// a later run can come back that way when the original path is closed.
type TunnelInfo struct {
	RouterAddr     string `json:"router_addr"`     // API address inside the tunnel, 10.77.0.1:8729
	VerifyEndpoint string `json:"verify_endpoint"` // where WireGuard packets were sent, host:port
	ConfigPath     string `json:"config_path"`     // wg-quick file with the technician's key
}

// SafetyNet names the armed rollback objects on the router.
type SafetyNet struct {
	Script    string `json:"script,omitempty"` // /system script .id
	Timer     string `json:"timer,omitempty"`  // one-shot scheduler .id
	Boot      string `json:"boot,omitempty"`   // start-time=startup scheduler .id
	Deadline  string `json:"deadline,omitempty"`
	Backup    string `json:"backup,omitempty"` // backup file name on the router
	Export    string `json:"export,omitempty"` // export file name on the router
	Name      string `json:"name,omitempty"`   // script and scheduler name
	Disarmed  bool   `json:"disarmed,omitempty"`
	UndoLines int    `json:"undo_lines,omitempty"`
}

// JournalOp is one change: written as pending before it is sent, then
// marked done with the id the router gave it.
type JournalOp struct {
	Key     string `json:"key"`
	Step    Step   `json:"step"`
	Menu    string `json:"menu"`
	Verb    string `json:"verb"`
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	Args    []kv   `json:"args,omitempty"`
	Before  string `json:"before,omitempty"`
	Old     []kv   `json:"old,omitempty"`
	OldNext string `json:"old_next,omitempty"`
	Command string `json:"command"`
	Inverse string `json:"inverse"`
	Desc    string `json:"description"`
	Sent    bool   `json:"sent"`             // the command left wgboot (outcome may be unknown)
	Done    bool   `json:"done"`             // the router confirmed it
	NewID   string `json:"new_id,omitempty"` // id of an added item
	Undone  bool   `json:"undone,omitempty"`
	// Match is what a set's or move's item reads once the run is applied:
	// its old values are put back only while it still does.
	Match []kv `json:"match,omitempty"`
	// Deps are the adds a set's or move's restore depends on: they stay
	// while it cannot be restored.
	Deps []string `json:"deps,omitempty"`
}

func (j JournalOp) op() op {
	return op{Key: j.Key, Step: j.Step, Menu: j.Menu, Verb: j.Verb, ID: j.ID, Name: j.Name, Args: j.Args,
		Before: j.Before, Old: j.Old, OldNext: j.OldNext, Desc: j.Desc}
}

// MarshalJSON/UnmarshalJSON keep kv readable in the journal.
func (a kv) MarshalJSON() ([]byte, error) { return json.Marshal([2]string{a.K, a.V}) }

// UnmarshalJSON reads a kv written by MarshalJSON.
func (a *kv) UnmarshalJSON(b []byte) error {
	var p [2]string
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	a.K, a.V = p[0], p[1]
	return nil
}

// journalPath is the per-router journal file in the state dir.
func journalPath(stateDir, router string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, router)
	return filepath.Join(stateDir, "routers", name, "journal.json")
}

// writeJournal writes j atomically with mode 0600.
func writeJournal(stateDir string, j *Journal) error {
	if stateDir == "" {
		return nil
	}
	path := journalPath(stateDir, j.Router)
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("onboard: journal: %w", err)
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic replaces path with data (mode 0600) so that a crash
// leaves the old or the new journal, never a torn or lost one.
func writeFileAtomic(path string, data []byte) error {
	if err := durable.WriteFile(path, data); err != nil {
		return fmt.Errorf("onboard: write %s: %w", path, err)
	}
	return nil
}

// ReadJournal returns the journal for router in stateDir, or nil when there
// is none.
func ReadJournal(stateDir, router string) (*Journal, error) {
	b, err := os.ReadFile(journalPath(stateDir, router))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("onboard: journal: %w", err)
	}
	var j Journal
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("onboard: journal %s is damaged: %w", journalPath(stateDir, router), err)
	}
	return &j, nil
}

// findJournal returns the journal of run from any router in stateDir (a
// router reached through its tunnel has another address than before) that
// owns says belongs to the router at hand, and its path; or nil. A run id
// alone proves nothing: another router's journal may carry the same one
// (a fixed --run-id, an old 24-bit id), and its ids name other items.
func findJournal(stateDir, run string, owns func(*Journal) bool) (*Journal, string, error) {
	if stateDir == "" || run == "" {
		return nil, "", nil
	}
	paths, err := filepath.Glob(filepath.Join(stateDir, "routers", "*", "journal.json"))
	if err != nil {
		return nil, "", err
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var j Journal
		if json.Unmarshal(b, &j) == nil && j.RunID == run && owns(&j) {
			return &j, p, nil
		}
	}
	return nil, "", nil
}
