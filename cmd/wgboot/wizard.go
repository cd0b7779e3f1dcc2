package main

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/tui"
)

// addWizard makes `wgboot` with no subcommand start the wizard.
func addWizard(root *cobra.Command, a *app) {
	var accessible bool
	root.Flags().BoolVar(&accessible, "accessible", false, "plain line-by-line prompts for screen readers and dumb terminals (no full-screen UI, no animation)")
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		w := wizardRun{accessible: accessible, stateDir: a.common.StateDir}
		w.base = onboard.Options{Fingerprint: a.common.Fingerprint, TOFU: a.common.TOFU}
		w.host, w.port = splitRouter(a.common.Router)
		if p, ok := lookupEnv(a.Getenv, "WGBOOT_PASSWORD"); ok {
			w.password = p
		}
		return a.runWizard(cmd.Context(), w)
	}
}

// wizardRun is one start of the wizard: the prefilled Connect screen and
// the engine options the wizard does not ask for.
type wizardRun struct {
	accessible bool
	banner     string
	host       string
	port       int
	password   string
	stateDir   string
	base       onboard.Options
}

// splitRouter splits --router HOST[:PORT]; a bad port is left to the form.
func splitRouter(r string) (string, int) {
	host, p, err := net.SplitHostPort(r)
	if err != nil {
		return r, 0
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

// errNotTerminal is why the wizard refuses to start without a terminal.
var errNotTerminal = errors.New("stdout is not a terminal, and the wizard needs one: " +
	"use `wgboot apply --router HOST` for a headless run (see `wgboot apply --help`), " +
	"or `wgboot --accessible` for plain prompts")

func (a *app) runWizard(ctx context.Context, w wizardRun) error {
	accessible := w.accessible || a.Getenv("TERM") == "dumb"
	if !accessible && !isTerminal(a.Stdout) {
		return usageError{errNotTerminal}
	}
	if accessible || a.Getenv("NO_COLOR") != "" {
		// NO_COLOR (no-color.org): no colour at all, in huh's forms too,
		// which style through lipgloss's process-wide renderer.
		lipgloss.SetColorProfile(termenv.Ascii)
	}
	base := w.base
	base.Settings = a.settings()
	if w.base.Settings != (onboard.Settings{}) {
		base.Settings = w.base.Settings
	}
	if a.engineHook != nil {
		a.engineHook(&base)
	}
	o := tui.Options{
		Router: w.host, Port: w.port, User: a.common.User, Password: w.password, Plain: a.common.Plain,
		StateDir: w.stateDir, Settings: base.Settings, NewEngine: tui.OnboardFactory(base),
		Accessible: accessible, Banner: w.banner,
	}
	var err error
	if accessible {
		_, err = tui.RunAccessible(ctx, o, a.Stdin, a.Stdout)
	} else {
		_, err = tui.Run(ctx, o, a.Stdin, a.Stdout)
	}
	return err
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
