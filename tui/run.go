package tui

import (
	"context"
	"errors"
	"fmt"
	"io"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/wgboot/wgboot/onboard"
)

// Run shows the wizard full-screen on out, reading keys from in, until the
// technician reaches Done or quits. After the program ends it rolls back
// anything still armed (also when ctx was cancelled or a signal ended the
// program), closes the engine and prints what the technician must keep: the
// reconnect and undo commands, or what was rolled back.
//
// It returns the summary after Done, ErrAborted when the technician quit,
// or the engine's error after a failure.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) (*onboard.Summary, error) {
	m := New(o)
	// Signals end the wizard through ctx (the caller's signal.NotifyContext)
	// only. bubbletea's own SIGINT/SIGTERM handler sends a QuitMsg without
	// watching the program's end: a signal that also cancels ctx can end
	// the event loop first, leave that send blocked, and the program then
	// waits for its handler for ever (a demo killed early never exited).
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithoutSignalHandler()}
	if !o.Accessible {
		opts = append(opts, tea.WithAltScreen())
	}
	_, perr := tea.NewProgram(m, opts...).Run()
	serr := m.Shutdown(context.WithoutCancel(ctx))
	for _, n := range m.Notes() {
		fmt.Fprintln(out, "wgboot: "+n)
	}
	if s := m.Summary(); s != nil {
		printSummary(out, s)
		return s, nil
	}
	err := m.Err()
	if perr != nil && !errors.Is(perr, tea.ErrProgramKilled) {
		err = fmt.Errorf("tui: %w", perr)
	}
	if err == nil {
		err = ErrAborted
	}
	if serr != nil {
		err = errors.Join(err, fmt.Errorf("tui: clean up: %w", serr))
	}
	return nil, err
}

func printSummary(w io.Writer, s *onboard.Summary) {
	fmt.Fprintf(w, "wgboot: done: %s is reachable through WireGuard.\n", s.Router)
	if s.ConfigPath != "" {
		fmt.Fprintf(w, "  config:    %s\n", s.ConfigPath)
	}
	if s.Reconnect != "" {
		fmt.Fprintf(w, "  reconnect: %s\n", s.Reconnect)
	}
	if s.Undo != "" {
		fmt.Fprintf(w, "  undo:      %s\n", s.Undo)
	}
}
