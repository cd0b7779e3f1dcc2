package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/tui"
)

// addWizard makes `wgboot` with no subcommand start the wizard.
func addWizard(root *cobra.Command, a *app) {
	var accessible, prove, keep bool
	root.Flags().BoolVar(&accessible, "accessible", false, "plain line-by-line prompts for screen readers and dumb terminals (no full-screen UI, no animation)")
	root.Flags().BoolVar(&prove, "prove-remote", false, "before the Gate, prove the tunnel from outside with a phone on mobile data (a QR code on the Apply screen)")
	root.Flags().BoolVar(&keep, "keep-phone", false, "keep the phone's peer after the proof from outside")
	root.Args = unknownCommand
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		// Prefilled values are checked as the headless commands check them:
		// a typo is refused naming its flag, before the wizard starts.
		if a.common.Router != "" {
			if err := onboard.ValidateRouter(a.common.Router); err != nil {
				return usageError{err}
			}
		}
		if err := a.settings().Validate(); err != nil {
			return usageError{err}
		}
		if err := checkConnectTimeout(a.common.ConnectTimeout); err != nil {
			return err
		}
		w := wizardRun{accessible: accessible, stateDir: a.common.StateDir, prove: prove, keepPhone: keep}
		w.base = onboard.Options{Fingerprint: a.common.Fingerprint, TOFU: a.common.TOFU}
		w.host, w.port = splitRouter(a.common.Router)
		w.password, w.passwordSet = a.lookup("WGBOOT_PASSWORD")
		return a.runWizard(cmd.Context(), w)
	}
}

// unknownCommand refuses `wgboot WORD` (the root takes no arguments): a
// typo of a subcommand is bad input (exit 2) and the message names the
// closest command and the list, since cobra's own suggestion is lost with
// SilenceErrors.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default, only set on its error path
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if cmd.HasParent() {
		msg = fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(": did you mean %s?", strings.Join(s, " or "))
	}
	if cmd.HasParent() {
		return badInput("%s\ncommands: %s (see `%s --help`)", msg, strings.Join(names, ", "), cmd.CommandPath())
	}
	return badInput("%s\ncommands: %s (see `wgboot --help`; `wgboot` alone starts the wizard)", msg, strings.Join(names, ", "))
}

// wizardRun is one start of the wizard: the prefilled Connect screen and
// the engine options the wizard does not ask for.
type wizardRun struct {
	accessible  bool
	banner      string
	host        string
	port        int
	password    string
	passwordSet bool // WGBOOT_PASSWORD was set, maybe to "" (a valid RouterOS password)
	stateDir    string
	base        onboard.Options
	prove       bool // --prove-remote
	keepPhone   bool // --keep-phone
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
	a.connectTimeout(&base)
	o := tui.Options{
		Router: w.host, Port: w.port, User: a.common.User, Password: w.password, PasswordSet: w.passwordSet, Plain: a.common.Plain,
		StateDir: w.stateDir, Settings: base.Settings, NewEngine: tui.OnboardFactory(base),
		Accessible: accessible, Banner: w.banner, ProveRemote: w.prove, KeepPhone: w.keepPhone,
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
