package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/fleet"
	"github.com/wgboot/wgboot/internal/safetext"
	"github.com/wgboot/wgboot/onboard"
)

// fleetMemoryLimit is the soft heap limit of a fleet run (see runFleet).
const fleetMemoryLimit = 500 << 20

type fleetFlags struct {
	parallel int
	json     bool
	out      string
}

// addFleet registers `wgboot fleet apply INVENTORY.yaml`.
func addFleet(root *cobra.Command, a *app) {
	var f fleetFlags
	fl := &cobra.Command{Use: "fleet", Short: "Onboard many routers from an inventory file",
		Args: unknownCommand,
		RunE: func(*cobra.Command, []string) error {
			return badInput("fleet needs a command: wgboot fleet apply INVENTORY.yaml (see `wgboot fleet --help`)")
		},
	}
	apply := &cobra.Command{
		Use:   "apply INVENTORY.yaml",
		Short: "Onboard every router of the inventory, each with its own subnet, key and config file",
		Long: "Onboard every router of the inventory, each with its own subnet, key and wg-quick file\n" +
			"(STATE-DIR/fleet, or --out; index.tsv there says which file is which router).\n" +
			"Exit code 0 when every router is onboarded, 1 when any failed, 2 for a bad inventory or flag.\n" +
			"Every inventory key: docs/fleet.md; a full example: examples/fleet.yaml.",
		Example: `  export WGBOOT_PASSWORD=...    # the password of each router without password_env
  wgboot fleet apply inventory.yaml --parallel 8

  # inventory.yaml
  pool: 10.77.0.0/16            # each router gets the next free /24 from here
  defaults:
    tofu: true                  # or a fingerprint: per router
  routers:
    - address: 192.0.2.1
    - address: 192.0.2.2:18729
      fingerprint: 3f5a0c1e9b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a
      password_env: PW_SHOP2    # never the password itself`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return badInput("fleet apply needs one inventory file: wgboot fleet apply INVENTORY.yaml (see `wgboot fleet apply --help`)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.runFleet(cmd.Context(), args[0], f) },
	}
	apply.Flags().IntVar(&f.parallel, "parallel", 4, "routers onboarded at once")
	apply.Flags().BoolVar(&f.json, "json", false, "print one JSON object per event per line instead of the live table")
	apply.Flags().StringVar(&f.out, "out", "", "directory for the per-router config files (default STATE-DIR/fleet)")
	fl.AddCommand(apply)
	root.AddCommand(fl)
}

func (a *app) runFleet(ctx context.Context, path string, f fleetFlags) error {
	if f.parallel < 1 || f.parallel > 256 {
		return badInput("--parallel %d: give 1 to 256", f.parallel)
	}
	if err := checkConnectTimeout(a.common.ConnectTimeout); err != nil {
		return err
	}
	file, err := os.Open(path)
	if err != nil {
		return badInput("fleet: %v: give the inventory file (YAML, see docs)", err)
	}
	inv, err := fleet.Parse(file)
	file.Close()
	if err != nil {
		return usageError{err}
	}
	getenv := a.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	// Each router's local WireGuard peer (a userspace network stack)
	// leaves garbage behind; without a limit the heap of a 100-router run
	// grows past 800 MB before the collector catches up. A soft limit keeps
	// it near fleetMemoryLimit at a small cost in CPU. GOMEMLIMIT wins.
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(fleetMemoryLimit)
	}
	live := false
	if fd, ok := a.Stdout.(*os.File); ok && !f.json && term.IsTerminal(fd.Fd()) {
		live = true
	}
	r := newFleetView(a.Stdout, inv, f.json, live)
	r.debug = a.debug
	if fd, ok := a.Stdout.(*os.File); ok && live {
		r.width = func() int {
			w, _, err := term.GetSize(fd.Fd())
			if err != nil {
				return 0
			}
			return w
		}
	}
	o := fleet.Options{Parallel: f.parallel, StateDir: a.common.StateDir, OutDir: f.out, Getenv: getenv, LookupEnv: a.lookup, Sink: r.event}
	o.Engine = func(_ fleet.Router, eo *onboard.Options) {
		if a.engineHook != nil {
			a.engineHook(eo)
		}
		a.connectTimeout(eo)
	}
	start := time.Now()
	res, runErr := fleet.Run(ctx, inv, o)
	r.stop()
	if !f.json {
		r.summary(res, time.Since(start))
		if runErr != nil && len(res) > 0 {
			// The summary said which routers failed and why.
			return reportedError{runErr}
		}
	}
	return runErr
}

// fleetView renders fleet events: a table redrawn in place on a terminal,
// one line per event otherwise, JSON lines with --json.
type fleetView struct {
	w          io.Writer
	json, live bool

	// width is the terminal's width in columns, asked at each redraw (the
	// window may be resized); nil or <= 0: 80.
	width func() int
	// debug adds each failed router's full cause chain to the summary.
	debug bool

	mu    sync.Mutex // guards following
	rows  []fleetRow
	drawn int // lines of the table on screen
	last  time.Time
}

type fleetRow struct{ router, identity, subnet, step, state, msg string }

func newFleetView(w io.Writer, inv *fleet.Inventory, jsonOut, live bool) *fleetView {
	if !live {
		// The live table writes its own escape sequences; its cells are
		// escaped one by one instead (event).
		w = safetext.NewWriter(w)
	}
	v := &fleetView{w: w, json: jsonOut, live: live}
	for _, r := range inv.Routers {
		name := r.Address
		if r.Name != "" {
			name = r.Name + " " + r.Address
		}
		v.rows = append(v.rows, fleetRow{router: name, state: "waiting"})
	}
	return v
}

func (v *fleetView) event(ev fleet.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.json {
		if b, err := json.Marshal(ev); err == nil {
			v.w.Write(append(b, '\n'))
		}
		return
	}
	row := &v.rows[ev.Index]
	// Identity and message come from the router: one line each, escaped,
	// so that no cell can move the cursor or break the table.
	msg := ev.Message
	if ev.Kind == onboard.KindFailed {
		msg = technicianText(msg)
	}
	msg = safetext.Line(msg)
	row.identity, row.subnet, row.step, row.msg = safetext.Line(ev.Identity), safetext.Line(ev.Subnet), string(ev.Step), msg
	row.state = string(ev.Kind)
	if !ev.Final && ev.Kind == onboard.KindDone {
		row.state = "running"
	}
	if !v.live {
		if ev.Final && ev.Kind == onboard.KindFailed {
			msg = "(why: in the summary below)" // said once, there
		}
		fmt.Fprintf(v.w, "%-24s %-9s %-8s %s\n", row.router, ev.Step, ev.Kind, msg)
		return
	}
	// Redraw at most 20 times a second, and always for a router's end.
	if !ev.Final && time.Since(v.last) < 50*time.Millisecond {
		return
	}
	v.redraw()
}

// redraw moves the cursor to the table's first line and writes it again.
// Every line is cut to fit the terminal: a line that wraps takes two rows
// and the next redraw, moving up by line count, would overwrite the wrong
// ones. Caller holds v.mu.
func (v *fleetView) redraw() {
	width := 80
	if v.width != nil {
		if w := v.width(); w > 0 {
			width = w
		}
	}
	cols := tableColumns(width - 1) // the last column: some terminals wrap there
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	line := func(cells ...string) {
		var l strings.Builder
		for i, c := range cols {
			if c == 0 {
				continue
			}
			if l.Len() > 0 {
				l.WriteByte(' ')
			}
			cell := ansi.Truncate(cells[i], c, "…")
			if i < len(cols)-1 {
				cell += strings.Repeat(" ", max(0, c-ansi.StringWidth(cell)))
			}
			l.WriteString(cell)
		}
		b.WriteString("\x1b[2K" + ansi.Truncate(strings.TrimRight(l.String(), " "), width-1, "") + "\n")
	}
	line("ROUTER", "IDENTITY", "SUBNET", "STEP", "STATE", "")
	for _, r := range v.rows {
		line(r.router, r.identity, r.subnet, r.step, r.state, r.msg)
	}
	v.drawn = len(v.rows) + 1
	v.last = time.Now()
	io.WriteString(v.w, b.String())
}

// tableColumns gives the widths of ROUTER, IDENTITY, SUBNET, STEP, STATE
// and the message for a table of at most width columns; 0 hides one.
// Wide terminals get the old layout; narrow ones shorter names, then no
// identity and subnet, the message taking what is left.
func tableColumns(width int) []int {
	step, state := 8, 8 // "reverify", "rollback"; "progress", "running"
	var cols []int
	switch {
	case width >= 100:
		cols = []int{28, 12, 15, step, state, 0}
	case width >= 70:
		cols = []int{18, 10, 14, step, state, 0}
	case width >= 45:
		cols = []int{16, 0, 0, step, state, 0}
	default:
		cols = []int{max(4, width-step-state-3), 0, 0, step, state, 0}
	}
	used := 0
	for _, c := range cols[:5] {
		if c > 0 {
			used += c + 1
		}
	}
	cols[5] = max(1, width-used)
	return cols
}

func (v *fleetView) stop() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.live {
		v.redraw()
	}
}

// summary prints where each router's config went, or why it failed.
func (v *fleetView) summary(res []fleet.Result, wall time.Duration) {
	failed := 0
	lines := []string{}
	for _, r := range res {
		switch {
		case r.Err != nil:
			failed++
			lines = append(lines, fmt.Sprintf("FAILED  %s: %s", r.Router, safetext.Line(technicianMessage(r.Err))))
			if v.debug {
				var b strings.Builder
				printChain(&b, r.Err)
				lines[len(lines)-1] += "\n" + safetext.Text(strings.TrimRight(b.String(), "\n"))
			}
		case r.Noop:
			lines = append(lines, fmt.Sprintf("ok      %s (%s): already onboarded, nothing changed", r.Router, safetext.Line(r.Identity)))
		default:
			lines = append(lines, fmt.Sprintf("ok      %s (%s) %s -> %s", r.Router, safetext.Line(r.Identity), r.Subnet, r.Config))
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return strings.HasPrefix(lines[i], "ok") && !strings.HasPrefix(lines[j], "ok") })
	fmt.Fprintf(v.w, "\n%s\n%d routers, %d onboarded, %d failed in %s\n", strings.Join(lines, "\n"), len(res), len(res)-failed, failed, wall.Round(time.Millisecond))
}
