// The plan's check: the before/after table of every probe, the warnings, and the problems
// that refuse a plan (CheckError).

package onboard

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wgboot/wgboot/firewall"
)

// check computes the before/after table of every probe (before on the
// snapshot, after on final, mid being the router between apply and
// harden) with the plan's warnings and changes, and returns the problems
// that refuse the plan.
func (p *planner) check(mid, final *Router) (*Plan, []string) {
	d := p.d
	plan := &Plan{Settings: p.s.public(d), Warnings: append([]string{}, d.Warnings...)}
	if p.capped {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("the firewall tells more than %d classes of source address apart: wgboot checked the first %d and puts the API drop at the top of the filter, above every rule that could accept one of the others", maxSourceClasses, maxSourceClasses))
	}
	var problems, wgBlocked []string
	neutralBefore := p.neutralVerdicts()
	for _, pr := range p.probes {
		before := p.ev(p.r, pr)
		after := p.ev(final, pr)
		atMid := p.ev(mid, pr)
		row := VerdictRow{Probe: pr.Label, Before: verdictText(before), After: verdictText(after)}
		if pr.Kind == probeVPNAPI {
			row.Before = "none"
		}
		if shownInTable(pr, row, after, neutralBefore) {
			plan.Verdicts = append(plan.Verdicts, row)
		}
		for _, n := range append(before.Notes, after.Notes...) {
			if !slices.Contains(plan.Warnings, n) {
				plan.Warnings = append(plan.Warnings, n)
			}
		}
		if pr.Kind == probeWANWGSrc && after.Action != "accept" {
			wgBlocked = append(wgBlocked, pr.Packet.Src.String()+" on "+pr.Packet.InInterface)
		}
		if why := p.problem(pr, before, after, atMid); why != "" {
			problems = append(problems, why)
		}
	}
	if len(wgBlocked) > 0 {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("WireGuard udp/%d stays closed to %s, which a rule names on purpose: a technician at such an address cannot bring the tunnel up", d.ListenPort, strings.Join(wgBlocked, ", ")))
	}
	for _, o := range p.ops {
		plan.Changes = append(plan.Changes, Change{Step: o.Step, Description: o.Desc, Command: oneLine(o.command(d.RunID)), Inverse: oneLine(o.inverse(d.RunID))})
	}
	plan.Files = []string{exportFile(d.RunID)}
	return plan, problems
}

// classKey names the WAN, port and family of a WAN→API probe.
func classKey(pr probe) string {
	return fmt.Sprintf("%s/%d/%t", pr.Packet.InInterface, pr.Packet.DstPort, pr.V6)
}

// neutralVerdicts returns the neutral source's verdict before the plan per
// WAN, port and family (classKey).
func (p *planner) neutralVerdicts() map[string]string {
	out := map[string]string{}
	for _, pr := range p.probes {
		if (pr.Kind == probeWANAPI || pr.Kind == probeWANAPI6) && !strings.Contains(pr.Label, " from ") {
			out[classKey(pr)] = verdictText(p.ev(p.r, pr))
		}
	}
	return out
}

// shownInTable reports whether a probe's row goes into the plan's table.
// Source-class probes are many; the table shows the ones whose verdict
// differs from the neutral source's (neutralBefore), the others only count
// for the check; so do the established twins that pass.
func shownInTable(pr probe, row VerdictRow, after firewall.Verdict, neutralBefore map[string]string) bool {
	switch {
	case (pr.Kind == probeWANAPISrc || pr.Kind == probeWANAPI6Src) && after.Action != "accept" && row.Before == neutralBefore[classKey(pr)]:
		return false
	case pr.Kind == probeWANWGSrc:
		return false
	case pr.Est && after.Action == "accept":
		return false
	}
	return true
}

// problem returns why a probe's verdicts refuse the plan, or "".
func (p *planner) problem(pr probe, before, after, atMid firewall.Verdict) string {
	switch pr.Kind {
	case probeWANAPI, probeWANAPISrc, probeWANAPI6, probeWANAPI6Src:
		if after.Action == "accept" {
			return pr.Label + " would still be accepted after hardening: the API would stay open to the internet"
		}
	case probeVPNAPI:
		switch {
		case pr.Use && (after.Action != "accept" || atMid.Action != "accept"):
			return pr.Label + " would not be accepted: the tunnel could not be verified"
		case after.Action != "accept":
			return fmt.Sprintf("%s would be %s: the API could not be used through the tunnel on that port", pr.Label, verdictText(after))
		}
	case probeLANAPI:
		if p.s.LANKeepsAPI && before.Action != after.Action {
			return fmt.Sprintf("%s would change from %s to %s", pr.Label, before.Action, after.Action)
		}
	case probeWANWG:
		if after.Action != "accept" {
			return fmt.Sprintf("%s from an address no rule names would be %s: the technician could not bring the tunnel up from the internet", pr.Label, verdictText(after))
		}
	case probeOther:
		if before.Action != after.Action || before.DstNAT != after.DstNAT {
			return fmt.Sprintf("%s would change from %s to %s", pr.Label, verdictText(before), verdictText(after))
		}
	}
	return ""
}

// CheckError is a plan the evaluator refused: applying it would lock someone
// out or change what it must not change.
type CheckError struct {
	Problems []string
	moved    bool // the plan modified API-only rules (a plan without may pass)
}

func (e *CheckError) Error() string {
	return "onboard: the plan failed its firewall check, nothing was changed: " + strings.Join(e.Problems, "; ")
}

// ErrCheck matches every *CheckError with errors.Is.
var ErrCheck = errors.New("onboard: plan check failed")

// Is makes errors.Is(err, ErrCheck) work.
func (e *CheckError) Is(target error) bool { return target == ErrCheck }
