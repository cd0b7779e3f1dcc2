// The engine's planning entry points: Plan checks settings against the inspected router and
// builds the plan with makePlanWith (plan.go).

package onboard

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/wgboot/wgboot/vpn"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Plan decides and checks the plan for s. It changes nothing on the router.
// A router that is already onboarded gives a plan with Noop set.
func (e *Engine) Plan(ctx context.Context, s Settings) (*Plan, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if e.router == nil {
		if _, err := e.Inspect(ctx); err != nil {
			return nil, err
		}
	}
	if run := e.router.armedRun(); run != "" {
		// An earlier run lost the router before committing. Its journal (or
		// its tags) says what it did: undo it, then plan afresh.
		yes, err := e.confirm(ctx, Question{ID: QRollbackEarlier, Title: "Roll back the unfinished run " + run + "?",
			Detail: "An earlier wgboot run on this router did not finish; its automatic rollback is still armed. wgboot can undo it now and start again.", Default: true})
		if err != nil {
			return nil, err
		}
		if yes {
			if err := e.Rollback(ctx); err != nil {
				return nil, err
			}
			if _, err := e.Inspect(ctx); err != nil {
				return nil, err
			}
		}
	}
	e.emit(Event{Step: StepPlan, Kind: KindStarted, Message: "deciding the plan"})
	p, err := e.makePlan(s)
	if err != nil {
		e.emit(Event{Step: StepPlan, Kind: KindFailed, Message: err.Error(), Plan: p, Err: &FailureInfo{What: err.Error(), Try: "nothing was changed on the router", Kind: KindOf(err)}})
		return p, err
	}
	for _, w := range p.Warnings {
		e.emit(Event{Step: StepPlan, Kind: KindWarning, Message: w})
	}
	msg := fmt.Sprintf("%d changes", len(p.Changes))
	if p.Noop {
		msg = "already onboarded: nothing to change"
	}
	e.emit(Event{Step: StepPlan, Kind: KindDone, Message: msg, Plan: p})
	return p, nil
}

func (e *Engine) makePlan(s Settings) (*Plan, error) {
	r := e.router
	if run := r.armedRun(); run != "" {
		return nil, fmt.Errorf("onboard: an earlier wgboot run %s is still armed on the router: wait for its automatic rollback or run wgboot rollback first", run)
	}
	if s.ConfirmTimeout == 0 {
		s.ConfirmTimeout = e.o.Settings.ConfirmTimeout
	}
	if s.Local == "" {
		s.Local = e.o.Settings.Local
	}
	if run := r.onboardedRun(); run != "" {
		return noopPlan(r, run, s), nil
	}
	if e.key == (wgtypes.Key{}) {
		gen := e.o.NewKey
		if gen == nil {
			gen = wgtypes.GeneratePrivateKey
		}
		k, err := gen()
		if err != nil {
			return nil, fmt.Errorf("onboard: generate the technician's key: %w", err)
		}
		e.key = k
	}
	local, warn := e.localRoutes()
	d, err := decide(r, decideInput{RunID: e.run, User: e.o.User, Plain: e.o.Plain, Host: e.host, Settings: s, LocalRoutes: local})
	if err != nil {
		return nil, err
	}
	if warn != "" {
		d.Warnings = append(d.Warnings, warn)
	}
	pl, p, err := makePlan(r, d, s, e.key.PublicKey().String())
	if p != nil {
		e.public = p
	}
	if err != nil {
		return p, err
	}
	addOldValues(r, e.run, pl, p)
	e.plan = pl
	return p, nil
}

// localRoutes reads the networks this computer routes. Failing to read
// them is not fatal (the router's networks are still avoided), but the
// plan says so.
func (e *Engine) localRoutes() ([]netip.Prefix, string) {
	f := e.o.LocalRoutes
	if f == nil {
		f = vpn.LocalRoutes
	}
	ps, err := f()
	if err != nil {
		return nil, fmt.Sprintf("could not read this computer's routes (%v): the VPN subnet avoids the router's networks only; check it is not a network this computer uses", err)
	}
	return ps, ""
}

// noopPlan describes an onboarded router: no changes, the verdicts as they are.
func noopPlan(r *Router, run string, s Settings) *Plan {
	p := &Plan{Settings: s, Noop: true}
	for _, w := range r.WireGuard {
		if wgbootTagged(w) {
			p.Settings.ListenPort = atoi(w["listen-port"])
		}
	}
	for _, a := range r.AddressLists {
		if a["list"] == vpnList && strings.HasSuffix(a["comment"], " vpn-list") {
			p.Settings.Subnet = a["address"]
		}
	}
	p.Warnings = append(p.Warnings, "the router was onboarded by wgboot run "+run+": nothing to change (wgboot rollback undoes it)")
	return p
}
