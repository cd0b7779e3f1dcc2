package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/internal/safetext"
	"github.com/wgboot/wgboot/onboard"
)

// version and commit are set at build time with
// -ldflags "-X main.version=... -X main.commit=..."; without them the
// commit comes from the build's VCS stamp.
var (
	version = "dev"
	commit  = ""
)

// versionText is what --version prints after "wgboot version ".
func versionText() string {
	c := commit
	dirty := false
	if bi, ok := debug.ReadBuildInfo(); ok && c == "" {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				c = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if len(c) > 12 {
		c = c[:12]
	}
	if c == "" {
		c = "unknown"
	}
	if dirty {
		c += "-dirty"
	}
	return fmt.Sprintf("%s (commit %s, %s %s/%s)", version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// Exit codes.
const (
	exitOK        = 0
	exitFailure   = 1
	exitBadInput  = 2
	exitInterrupt = 130
)

// app holds the process's I/O and the flags every subcommand shares. Tests
// build one with buffers instead of the terminal.
type app struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// LookupEnv tells a variable set to "" from an unset one (an empty
	// WGBOOT_PASSWORD is an empty password); nil: derived from Getenv,
	// where "" counts as unset.
	LookupEnv func(string) (string, bool)

	// engineHook lets tests adjust the engine's options (dialer, local
	// peer, run id, key); nil leaves them.
	engineHook func(*onboard.Options)
	// proveRemote is apply --prove-remote's proof from outside; nil: none.
	proveRemote *onboard.ProveRemote

	common commonFlags
	in     *bufio.Reader // Stdin, buffered once so prompts share it
	// debug prints an error's full cause chain (--debug).
	debug bool
	// sink is the last event sink made (engineSink): main does not
	// print again the failure it showed.
	sink *sink
}

// commonFlags are the spec's common flags.
type commonFlags struct {
	Router         string
	User           string
	Plain          bool
	Fingerprint    string
	TOFU           bool
	StateDir       string
	Subnet         string
	ListenPort     int
	Endpoint       string
	VerifyEndpoint string
	Local          string
	ConfirmTimeout time.Duration
	LANKeepsAPI    bool
	LogRefused     bool
	ConnectTimeout time.Duration
	Via            string
}

// usageError is bad input: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func badInput(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// main runs the command line and returns the exit code.
func (a *app) main(ctx context.Context, args []string) int {
	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetIn(a.Stdin)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	a.printError(err)
	var u usageError
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return exitInterrupt
	case errors.As(err, &u):
		return exitBadInput
	}
	return exitFailure
}

func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "wgboot",
		Short: "Onboard a MikroTik RouterOS 7 router onto WireGuard and close its API on the WAN",
		Long: "Onboard a MikroTik RouterOS 7 router onto WireGuard and close its API on the WAN.\n\n" +
			"Exit codes: 0 success, 1 a failure (audit: the API is reachable from the WAN), 2 a usage error, 130 interrupted.",
		Version:       versionText(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	f := root.PersistentFlags()
	c := &a.common
	f.StringVar(&c.Router, "router", "", "router API address HOST[:PORT]")
	f.StringVar(&c.User, "user", "admin", "RouterOS user (the password comes from WGBOOT_PASSWORD or a prompt)")
	f.BoolVar(&c.Plain, "plain", false, "use the unencrypted API (8728) instead of api-ssl (8729)")
	f.StringVar(&c.Fingerprint, "fingerprint", "", "SHA-256 fingerprint of the router's api-ssl certificate")
	f.BoolVar(&c.TOFU, "tofu", false, "trust the certificate on first use (recorded in the state dir; a changed one is refused)")
	f.StringVar(&c.StateDir, "state-dir", defaultStateDir(a.Getenv), "where journals, known hosts and configs are kept")
	f.StringVar(&c.Subnet, "subnet", "", "VPN subnet (default: a free /24)")
	f.IntVar(&c.ListenPort, "listen-port", 0, "router WireGuard port (default 13231 or the next free)")
	f.StringVar(&c.Endpoint, "endpoint", "", "endpoint written into the technician's config (default: IP Cloud DDNS name, else the WAN address)")
	f.StringVar(&c.VerifyEndpoint, "verify-endpoint", "", "where this run sends WireGuard packets (default: the router host)")
	f.StringVar(&c.Local, "local", "auto", "local WireGuard peer: auto, kernel or netstack")
	f.DurationVar(&c.ConfirmTimeout, "confirm-timeout", 5*time.Minute, "the router undoes everything after this unless wgboot confirms")
	f.BoolVar(&c.LANKeepsAPI, "lan-keeps-api", true, "LAN access to the API stays as it was")
	f.BoolVar(&c.LogRefused, "log-refused", false, "log refused API attempts from the WAN")
	f.DurationVar(&c.ConnectTimeout, "connect-timeout", 10*time.Second, "give up a connection attempt to the router after this")
	f.BoolVar(&a.debug, "debug", false, "print an error's full cause chain (for a ticket)")
	f.StringVar(&c.Via, "via", "", "reach the router through the tunnel of this wg-quick file, in process (--router defaults to the router's tunnel address)")

	root.AddCommand(a.planCmd(), a.applyCmd(), a.rollbackCmd(), a.statusCmd(), a.auditCmd())
	addWizard(root, a)
	addDemo(root, a)
	addFleet(root, a)
	addPeer(root, a)
	argsAreUsage(root)
	return root
}

func defaultStateDir(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "wgboot")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "wgboot")
	}
	return ".wgboot"
}

func (a *app) settings() onboard.Settings {
	c := a.common
	return onboard.Settings{Subnet: c.Subnet, ListenPort: c.ListenPort, Endpoint: c.Endpoint, VerifyEndpoint: c.VerifyEndpoint,
		Local: c.Local, LANKeepsAPI: c.LANKeepsAPI, LogRefused: c.LogRefused, ConfirmTimeout: c.ConfirmTimeout}
}

func (a *app) check() error {
	c := a.common
	if c.Router == "" {
		return badInput("--router HOST[:PORT] is required")
	}
	// Before any dial or prompt: a name that cannot exist is a typo, not
	// a network fault, and a bad setting must not reach the router or the
	// technician's wg-quick file.
	if err := onboard.ValidateRouter(c.Router); err != nil {
		return usageError{err}
	}
	if c.Local == "" {
		return badInput("--local must be auto, kernel or netstack, not \"\"")
	}
	if err := a.settings().Validate(); err != nil {
		return usageError{err}
	}
	if c.Fingerprint != "" && c.TOFU {
		return badInput("--fingerprint and --tofu exclude each other")
	}
	return checkConnectTimeout(c.ConnectTimeout)
}

func (a *app) stdin() *bufio.Reader {
	if a.in == nil {
		a.in = bufio.NewReader(a.Stdin)
	}
	return a.in
}

// password reads WGBOOT_PASSWORD, else prompts without echo on a terminal.
func (a *app) password() (string, error) {
	if p, ok := a.lookup("WGBOOT_PASSWORD"); ok {
		return p, nil
	}
	fmt.Fprintf(a.Stderr, "password for %s@%s: ", a.common.User, a.common.Router)
	if f, ok := a.Stdin.(*os.File); ok && term.IsTerminal(f.Fd()) {
		b, err := term.ReadPassword(f.Fd())
		fmt.Fprintln(a.Stderr)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return string(b), nil
	}
	line, err := a.stdin().ReadString('\n')
	if err != nil && line == "" {
		return "", badInput("no password: set WGBOOT_PASSWORD or type it when asked")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// lookup reads an environment variable; ok is false when it is unset.
func (a *app) lookup(k string) (string, bool) {
	switch {
	case a.LookupEnv != nil:
		return a.LookupEnv(k)
	case a.Getenv != nil:
		v := a.Getenv(k)
		return v, v != ""
	}
	return os.LookupEnv(k)
}

// plainWarning is the wizard's warning for the plain API (tui's Connect
// screen), printed by the CLI whenever --plain is used.
const plainWarning = "Warning: plain API sends the password unencrypted."

// prompter answers the engine's questions: yes to everything that is not
// dangerous when --yes was given, else asks on stdin. Creating a
// certificate over the plain API sends the password in clear: --yes never
// answers that one, whatever its flags.
type prompter struct {
	a   *app
	yes bool
	mu  sync.Mutex
}

func (p *prompter) Confirm(ctx context.Context, q onboard.Question) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.yes && !q.Danger && q.ID != onboard.QTrustFingerprint && q.ID != onboard.QCreateCertificate {
		return true, nil
	}
	def := "y/N"
	if q.Default {
		def = "Y/n"
	}
	title := q.Title
	if q.Danger {
		title = "DANGER: " + title
	}
	fmt.Fprintf(safetext.NewWriter(p.a.Stderr), "%s\n%s [%s] ", title, q.Detail, def)
	type res struct {
		line string
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		l, err := p.a.stdin().ReadString('\n')
		ch <- res{l, err}
	}()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case r := <-ch:
		ans := strings.ToLower(strings.TrimSpace(r.line))
		if ans == "" {
			if r.err != nil {
				return false, nil // no answer (stdin closed): no
			}
			return q.Default, nil
		}
		// "No" at the Gate leaves the router as it was: the engine rolls
		// everything back itself (onboard.ErrDeclined).
		return ans == "y" || ans == "yes", nil
	}
}

// sink renders events: one line each, or one JSON object per line.
type sink struct {
	w    io.Writer
	json bool
	mu   sync.Mutex // guards following
	// state is the run's state as the last event carried it.
	state onboard.State
	// failed and try are the last failed step's message, in words, and
	// its hint (main prints neither again).
	failed, try string
}

func (s *sink) event(ev onboard.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = ev.State
	if ev.Err != nil && ev.Err.Hint != nil {
		// The engine's hint names settings; here they are flags.
		fi := *ev.Err
		fi.Try = fi.Hint.Text(flagName)
		ev.Err = &fi
	}
	if ev.Kind == onboard.KindFailed {
		s.failed, s.try = technicianText(ev.Message), ""
		if ev.Err != nil {
			s.try = ev.Err.Try
		}
	}
	if s.json {
		b, err := json.Marshal(ev)
		if err == nil {
			s.w.Write(append(b, '\n'))
		}
		return
	}
	if ev.Kind == onboard.KindStarted || (ev.Step == onboard.StepPlan && ev.Kind == onboard.KindDone) {
		return // the plan is printed whole; started lines are noise headless
	}
	mark := map[onboard.Kind]string{onboard.KindDone: "ok", onboard.KindFailed: "FAILED", onboard.KindWarning: "warning",
		onboard.KindInfo: "info", onboard.KindProgress: "  .."}[ev.Kind]
	// Facts and messages quote the router (identity, names, comments):
	// each is one line, whatever control characters it holds.
	facts := make([]string, len(ev.Facts))
	for i, f := range ev.Facts {
		facts[i] = safetext.Line(f.Name) + ": " + safetext.Line(f.Value)
		if f.Warning != "" {
			facts[i] += "  (warning: " + safetext.Line(f.Warning) + ")"
		}
	}
	msg := ev.Message
	if ev.Kind == onboard.KindFailed {
		msg = s.failed
	}
	msg = safetext.Line(msg)
	if len(facts) > 0 && strings.HasPrefix(facts[0], msg) {
		// An inspect group's message is its first fact's name: printing
		// both would say everything twice, so the fact takes the line.
		msg, facts = facts[0], facts[1:]
	}
	fmt.Fprintf(s.w, "%-9s %-7s %s\n", ev.Step, mark, msg)
	for _, f := range facts {
		fmt.Fprintln(s.w, "          "+f)
	}
	if ev.Err != nil {
		if len(ev.Err.Undone) > 0 {
			fmt.Fprintf(s.w, "          undone: %s\n", safetext.Line(strings.Join(ev.Err.Undone, "; ")))
		}
		if ev.Err.Try != "" {
			fmt.Fprintf(s.w, "          try: %s\n", safetext.Line(ev.Err.Try))
		}
		if ev.Err.Diagnostics != "" {
			fmt.Fprintf(s.w, "          diagnostics: %s\n", ev.Err.Diagnostics)
		}
	}
}

// runState is the run's state as the engine last reported it.
func (s *sink) runState() onboard.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// engine builds and connects an engine from the common flags.
func (a *app) engine(ctx context.Context, yes, jsonOut bool, out io.Writer) (*onboard.Engine, error) {
	e, _, err := a.engineSink(ctx, yes, jsonOut, out)
	return e, err
}

// engineSink is engine, also returning the sink that renders its events.
func (a *app) engineSink(ctx context.Context, yes, jsonOut bool, out io.Writer) (*onboard.Engine, *sink, error) {
	if err := a.viaRouter(); err != nil {
		return nil, nil, err
	}
	if err := a.check(); err != nil {
		return nil, nil, err
	}
	if a.common.Plain {
		fmt.Fprintln(a.Stderr, "wgboot: "+plainWarning+" Anyone on the network path can read it: use --plain only on a network you trust.")
	}
	pw, err := a.password()
	if err != nil {
		return nil, nil, err
	}
	// The writer is the last guard: nothing the router sent reaches the
	// terminal raw, in text or in JSON (whose bidi runes it escapes as
	// JSON does).
	s := &sink{w: safetext.NewWriter(out), json: jsonOut}
	o := onboard.Options{
		Router: a.common.Router, Plain: a.common.Plain, User: a.common.User, Password: pw,
		Fingerprint: a.common.Fingerprint, TOFU: a.common.TOFU, StateDir: a.common.StateDir,
		Settings: a.settings(), Prompter: &prompter{a: a, yes: yes}, Sink: s.event, Via: a.common.Via, ProveRemote: a.proveRemote,
	}
	if err := o.Validate(); err != nil {
		return nil, nil, usageError{err}
	}
	if a.engineHook != nil {
		a.engineHook(&o)
	}
	a.connectTimeout(&o)
	a.sink = s
	e, err := onboard.New(o)
	if err != nil {
		return nil, nil, usageError{err}
	}
	if err := e.Connect(ctx); err != nil {
		e.Close()
		return nil, nil, err
	}
	return e, s, nil
}
