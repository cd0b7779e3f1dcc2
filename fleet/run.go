package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wgboot/wgboot/onboard"
)

// Options configure Run.
type Options struct {
	// Parallel is how many routers are onboarded at once (default 4).
	Parallel int
	// StateDir holds the engine's journals and known hosts.
	StateDir string
	// OutDir receives one wg-quick file per router and their index
	// (default StateDir/fleet).
	OutDir string
	// Getenv reads the passwords; nil: os.Getenv.
	Getenv func(string) string
	// LookupEnv reads the passwords, telling a variable set to the empty
	// string (RouterOS admin often has no password) from an unset one; nil:
	// os.LookupEnv, or Getenv where only Getenv is given (then an empty
	// value counts as unset).
	LookupEnv func(string) (string, bool)
	// Sink receives progress events, one call at a time; nil drops them.
	Sink func(Event)
	// Engine may adjust each router's engine options (tests: dialer,
	// local peer); nil leaves them.
	Engine func(r Router, o *onboard.Options)
	// Now is the clock for elapsed times; nil: time.Now.
	Now func() time.Time
}

// Event is one step of one router, for the live table.
type Event struct {
	Index    int           `json:"index"` // position in the inventory
	Router   string        `json:"router"`
	Name     string        `json:"name,omitempty"`
	Identity string        `json:"identity,omitempty"`
	Step     onboard.Step  `json:"step"`
	Kind     onboard.Kind  `json:"kind"`
	Message  string        `json:"message"`
	Subnet   string        `json:"subnet,omitempty"`
	Config   string        `json:"config,omitempty"`
	Final    bool          `json:"final,omitempty"` // the router's last event
	Elapsed  time.Duration `json:"elapsed,omitempty"`
}

// Result is how one router ended.
type Result struct {
	Index    int
	Router   string
	Identity string
	Subnet   string
	Config   string // the wg-quick file in OutDir ("" when none was written)
	Noop     bool   // already onboarded: nothing changed
	Err      error
	Elapsed  time.Duration
}

// Run onboards every router of inv, o.Parallel at a time, and returns one
// result per router in inventory order. The error is nil only when every
// router was onboarded (or already was) and got its config file.
func Run(ctx context.Context, inv *Inventory, o Options) ([]Result, error) {
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
		if g := o.Getenv; g != nil {
			o.LookupEnv = func(k string) (string, bool) { v := g(k); return v, v != "" }
		}
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OutDir == "" {
		o.OutDir = filepath.Join(o.StateDir, "fleet")
	}
	var reserved []netip.Prefix
	for _, r := range inv.Routers {
		if p, err := netip.ParsePrefix(r.Subnet); err == nil {
			reserved = append(reserved, p.Masked())
		}
	}
	pool, err := NewPool(inv.Pool, inv.SubnetBits, reserved)
	if err != nil {
		return nil, err
	}
	// A rollback looks for a router's files in the state directory's
	// fleet folder and in every other output directory noted there.
	if err := rememberDir(o.StateDir, o.OutDir); err != nil {
		return nil, err
	}
	f := &fleetRun{o: o, pool: pool, names: newNames(o.OutDir)}
	results := make([]Result, len(inv.Routers))
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	for i, r := range inv.Routers {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i] = Result{Index: i, Router: r.Address, Err: ctx.Err()}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = f.one(ctx, i, r)
		}()
	}
	wg.Wait()
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}
	if failed > 0 {
		return results, fmt.Errorf("fleet: %d of %d routers failed", failed, len(results))
	}
	return results, nil
}

type fleetRun struct {
	o     Options
	pool  *Pool
	names *names

	mu sync.Mutex // serialises Sink
}

func (f *fleetRun) emit(ev Event) {
	if f.o.Sink == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.o.Sink(ev)
}

// prompter answers the engine without a human: trust a first-seen
// certificate only when the inventory says tofu, harden and apply always.
// Nothing dangerous, and never a certificate made over the plain API: that
// sends the password in clear on the word of an unauthenticated TLS alert.
type prompter struct{ tofu bool }

func (p prompter) Confirm(_ context.Context, q onboard.Question) (bool, error) {
	switch {
	case q.Danger, q.ID == onboard.QCreateCertificate:
		return false, nil
	case q.ID == onboard.QTrustFingerprint:
		return p.tofu, nil
	}
	return true, nil
}

// overlapRetries bounds how many pool subnets are tried on a router that
// already uses some of them.
const overlapRetries = 4

func (f *fleetRun) one(ctx context.Context, i int, r Router) Result {
	start := f.o.Now()
	res := Result{Index: i, Router: r.Address}
	base := Event{Index: i, Router: r.Address, Name: r.Name}
	fail := func(err error) Result {
		res.Err = err
		res.Elapsed = f.o.Now().Sub(start)
		ev := base
		ev.Identity, ev.Subnet, ev.Kind, ev.Message, ev.Final, ev.Elapsed = res.Identity, res.Subnet, onboard.KindFailed, err.Error(), true, res.Elapsed
		f.emit(ev)
		return res
	}
	pw, ok := f.o.LookupEnv(r.PasswordEnv)
	if !ok {
		return fail(fmt.Errorf("fleet: no password: set %s (the inventory names it as password_env)", r.PasswordEnv))
	}
	var sum *onboard.Summary
	for try := 0; ; try++ {
		subnet := r.Subnet
		if subnet == "" {
			p, err := f.pool.Next()
			if err != nil {
				return fail(err)
			}
			subnet = p.String()
		}
		res.Subnet = subnet
		s, err := f.onboard(ctx, r, pw, subnet, base, &res)
		// A router already using a pool subnet gets the next one; the
		// engine refuses overlaps before it changes anything.
		if err != nil && r.Subnet == "" && try < overlapRetries && errors.Is(err, onboard.ErrSubnetOverlap) {
			continue
		}
		if err != nil {
			return fail(err)
		}
		sum = s
		break
	}
	res.Identity = sum.Identity
	if sum.ConfigPath == "" {
		res.Noop = true
	} else {
		b, err := os.ReadFile(sum.ConfigPath)
		if err != nil {
			return fail(fmt.Errorf("fleet: onboarded, but its config cannot be read: %w", err))
		}
		name := ConfigName(sum.Identity, r.apiAddr())
		path, err := f.names.write(name, r.Address, b)
		if err != nil {
			return fail(fmt.Errorf("%w (the router is onboarded; its config stays in %s)", err, sum.ConfigPath))
		}
		res.Config = path
		if err := f.names.record(name, sum.Identity, r.apiAddr(), res.Subnet); err != nil {
			return fail(fmt.Errorf("%w (the router is onboarded; its config is %s)", err, path))
		}
	}
	res.Elapsed = f.o.Now().Sub(start)
	ev := base
	ev.Identity, ev.Subnet, ev.Config, ev.Step, ev.Kind, ev.Final, ev.Elapsed = res.Identity, res.Subnet, res.Config, onboard.StepCommit, onboard.KindDone, true, res.Elapsed
	ev.Message = "onboarded"
	if res.Noop {
		ev.Message = "already onboarded: nothing changed"
	}
	f.emit(ev)
	return res
}

func (f *fleetRun) onboard(ctx context.Context, r Router, pw, subnet string, base Event, res *Result) (*onboard.Summary, error) {
	lan := true
	if r.LANKeepsAPI != nil {
		lan = *r.LANKeepsAPI
	}
	o := onboard.Options{
		Router: r.Address, Plain: r.Plain, User: r.User, Password: pw, Fingerprint: r.Fingerprint, TOFU: r.TOFU,
		StateDir: f.o.StateDir, Prompter: prompter{tofu: r.TOFU},
		Settings: onboard.Settings{Subnet: subnet, ListenPort: r.ListenPort, Endpoint: r.Endpoint, VerifyEndpoint: r.VerifyEndpoint,
			Local: r.Local, LANKeepsAPI: lan, ConfirmTimeout: r.ConfirmTimeout},
		Sink: func(ev onboard.Event) {
			if ev.Kind == onboard.KindStarted || ev.Kind == onboard.KindFailed {
				return // the step name is enough; failures are reported once, at the end
			}
			if ev.Summary != nil && ev.Summary.Identity != "" {
				res.Identity = ev.Summary.Identity
			}
			out := base
			out.Identity, out.Subnet, out.Step, out.Kind, out.Message = res.Identity, subnet, ev.Step, ev.Kind, ev.Message
			f.emit(out)
		},
	}
	if f.o.Engine != nil {
		f.o.Engine(r, &o)
	}
	e, err := onboard.New(o)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	if err := e.Connect(ctx); err != nil {
		return nil, err
	}
	p, err := e.Plan(ctx, o.Settings)
	if err != nil {
		return nil, err
	}
	sum, err := e.Apply(ctx, p)
	if err != nil {
		return nil, err
	}
	if sum == nil {
		return nil, errors.New("fleet: the engine returned no summary")
	}
	return sum, nil
}

// MarshalJSON writes Elapsed as a Go duration string ("1.5s"), like the
// engine's events.
func (ev Event) MarshalJSON() ([]byte, error) {
	type plain Event
	el := ""
	if ev.Elapsed != 0 {
		el = ev.Elapsed.String()
	}
	return json.Marshal(struct {
		plain
		Elapsed string `json:"elapsed,omitempty"`
	}{plain(ev), el})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (ev *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	aux := struct {
		*plain
		Elapsed string `json:"elapsed,omitempty"`
	}{plain: (*plain)(ev)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	ev.Elapsed = 0
	if aux.Elapsed == "" {
		return nil
	}
	d, err := time.ParseDuration(aux.Elapsed)
	if err != nil {
		return fmt.Errorf("fleet: elapsed %q is not a duration like 1.5s", aux.Elapsed)
	}
	ev.Elapsed = d
	return nil
}
