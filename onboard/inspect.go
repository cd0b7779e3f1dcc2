// Facts: reading the router once (inspect) and describing it to the technician.

package onboard

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/wgboot/wgboot/routeros"
)

// Inspect reads everything the plan needs in one batch of prints. The
// checklist goes out as it is decided, one progress Event per group of
// facts, and comes back whole.
func (e *Engine) Inspect(ctx context.Context) ([]Fact, error) {
	if e.cl == nil {
		return nil, errors.New("onboard: inspect before connect")
	}
	start := e.now()
	e.emit(Event{Step: StepInspect, Kind: KindStarted, Message: "reading the router"})
	r, err := inspect(ctx, e.cl)
	if err != nil {
		e.emit(Event{Step: StepInspect, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{What: err.Error()}})
		return nil, err
	}
	e.router = r
	if r.Clock != nil {
		e.noteClock(r.Clock)
	}
	var facts []Fact
	for _, g := range r.factGroups() {
		facts = append(facts, g...)
		e.emit(Event{Step: StepInspect, Kind: KindProgress, Message: g[0].Name, Facts: g})
	}
	if !r.hasWireGuard() {
		err := fmt.Errorf("onboard: the router runs RouterOS %s, which has no WireGuard (wgboot needs RouterOS 7.1 or later): upgrade to RouterOS 7.1 or later first", r.Version)
		try := "upgrade to RouterOS 7.1 or later (/system package update), then run wgboot again; nothing was changed"
		if r.versionHasWireGuard() {
			// A recent RouterOS that refused the print: not an upgrade matter.
			err = fmt.Errorf("onboard: the router (RouterOS %s) refused to list /interface wireguard: check the user's group policies (read, write)", r.Version)
			try = "fix the user's permissions and run wgboot again; nothing was changed"
		}
		e.emit(Event{Step: StepInspect, Kind: KindFailed, Message: err.Error(), Err: &FailureInfo{What: err.Error(), Try: try, Kind: KindOf(err)}})
		return facts, err
	}
	e.emit(Event{Step: StepInspect, Kind: KindDone, Message: "read " + r.Identity, Elapsed: e.now().Sub(start)})
	return facts, nil
}

// Router returns the last snapshot read by Inspect (nil before).
func (e *Engine) Router() *Router { return e.router }

func inspect(ctx context.Context, cl session) (*Router, error) {
	cmds := make([][]string, len(inspectQueries))
	for i, q := range inspectQueries {
		cmds[i] = q.words()
	}
	replies, errs := cl.Batch(ctx, cmds...)
	rows := make([][]Row, len(replies))
	for i, rep := range replies {
		if rep == nil {
			continue
		}
		for _, m := range rep.Re {
			rows[i] = append(rows[i], Row(m))
		}
	}
	if len(errs) != len(cmds) {
		errs = make([]error, len(cmds))
	}
	// A broken session fails every print: report the first failure.
	for _, err := range errs {
		var de *routeros.DeviceError
		if err != nil && !errors.As(err, &de) {
			return nil, fmt.Errorf("onboard: inspect: %w", err)
		}
	}
	r, err := buildRouter(rows, errs)
	if err != nil {
		return nil, err
	}
	if err := readNamedLists(ctx, cl, r); err != nil {
		return nil, err
	}
	return r, nil
}

// hasWireGuard reports whether the router can run WireGuard: RouterOS 7.1
// or later (7.0.x had none), with the /interface wireguard menu.
func (r *Router) hasWireGuard() bool {
	return r.versionHasWireGuard() && !slices.Contains(r.Missing, "/interface/wireguard/print")
}

// versionHasWireGuard reports whether the version is 7.1 or later (or
// unknown).
func (r *Router) versionHasWireGuard() bool {
	major, minor := r.MajorVersion(), r.minorVersion()
	return major == 0 || major > 7 || major == 7 && minor >= 1
}

// minorVersion returns the RouterOS minor version (20 for "7.20.6").
func (r *Router) minorVersion() int {
	_, rest, ok := strings.Cut(strings.TrimSpace(r.Version), ".")
	if !ok {
		return 0
	}
	return atoi(rest)
}

// factGroups is the inspect checklist in the order it is decided: the
// router, its API services, its WAN side and public endpoint, how the API
// is exposed now, the WireGuard it already has and wgboot's own objects.
func (r *Router) factGroups() [][]Fact {
	var gs [][]Fact
	sys := []Fact{{Name: "Identity", Value: r.Identity}, {Name: "RouterOS", Value: r.Version}}
	if !r.versionHasWireGuard() {
		sys[1].Warning = "this RouterOS has no WireGuard: upgrade to RouterOS 7.1 or later"
	}
	if r.Board != "" {
		sys = append(sys, Fact{Name: "Board", Value: r.Board})
	}
	gs = append(gs, sys)

	var svcs []string
	for _, s := range r.apiServices() {
		v := fmt.Sprintf("%s %d", s.Name, s.Port)
		if s.Address != "" {
			v += " from " + s.Address
		}
		svcs = append(svcs, v)
	}
	api := Fact{Name: "API services", Value: strings.Join(svcs, ", ")}
	if len(svcs) == 0 {
		api.Value, api.Warning = "none enabled", "enable api-ssl under /ip service"
	}
	gs = append(gs, []Fact{api})

	wans, _ := wansOf(r)
	wan := Fact{Name: "WAN interfaces"}
	var parts []string
	for _, w := range wans {
		var as []string
		for _, p := range append(slices.Clone(w.Addrs), w.Addr6...) {
			as = append(as, p.String())
		}
		if len(as) == 0 {
			as = []string{"no address"}
		}
		parts = append(parts, w.Name+" "+strings.Join(as, ", "))
	}
	wan.Value = strings.Join(parts, "; ")
	if len(wans) == 0 {
		wan.Value, wan.Warning = "none found", "no WAN interface list and no default route: wgboot cannot tell the WAN from the LAN; add the WAN interface to the interface list WAN"
	}
	gs = append(gs, []Fact{wan, r.endpointFact(wans)})

	d := &decision{API: r.apiServices(), WANs: wans}
	var exposure []Fact
	fw := r.compiled()
	probes, _ := d.probesOn(r, fw)
	for _, p := range probes {
		if p.Kind != probeWANAPI && p.Kind != probeWANAPISrc && p.Kind != probeWANAPI6 {
			continue
		}
		v := fw.eval(p)
		f := Fact{Name: "API exposure now: " + p.Label, Value: verdictText(v) + " " + decidedBy(r, p, v)}
		if v.Action == "accept" {
			f.Warning = "the API answers from the WAN" + sources(r, p, v) + ": wgboot closes it after the tunnel is proven"
		}
		exposure = append(exposure, f)
	}
	if len(exposure) > 0 {
		gs = append(gs, exposure)
	}

	wg := Fact{Name: "WireGuard interfaces", Value: "none"}
	var wgs []string
	for _, w := range r.WireGuard {
		v := w["name"] + " (UDP " + w["listen-port"]
		if wgbootTagged(w) {
			v += ", wgboot's"
		}
		wgs = append(wgs, v+")")
	}
	if len(wgs) > 0 {
		wg.Value = strings.Join(wgs, ", ")
	}
	if !r.hasWireGuard() {
		wg.Value = "not available"
	}
	var tagged int
	for _, rows := range [][]Row{r.WireGuard, r.Peers, r.Addresses, r.Filter, r.Filter6, r.AddressLists, r.Schedulers, r.Scripts} {
		for _, row := range rows {
			if wgbootTagged(row) {
				tagged++
			}
		}
	}
	f := Fact{Name: "wgboot objects", Value: fmt.Sprint(tagged)}
	if r.armedRun() != "" {
		f.Warning = "an earlier wgboot run " + r.armedRun() + " is still armed: it will roll back by itself, or run wgboot rollback"
	}
	return append(gs, []Fact{wg, f})
}

// endpointFact says which public name or address the technician's config
// will use, and warns when that address cannot be reached from the
// internet (CGNAT, private).
func (r *Router) endpointFact(wans []wanIface) Fact {
	f := Fact{Name: "Public endpoint"}
	if isTrue(r.Cloud["ddns-enabled"]) && r.Cloud["dns-name"] != "" {
		f.Value = r.Cloud["dns-name"] + " (IP cloud DDNS)"
		return f
	}
	for _, w := range wans {
		if len(w.Addrs) == 0 {
			continue
		}
		a := w.Addrs[0].Addr()
		f.Value = a.String() + " (" + w.Name + ")"
		switch {
		case cgnat.Contains(a):
			f.Warning = "the WAN address is in the carrier-grade NAT range 100.64.0.0/10: the router is not reachable from the internet; ask the provider for a public address, or give a reachable name with --endpoint"
		case slices.ContainsFunc(private, func(p netip.Prefix) bool { return p.Contains(a) }):
			f.Warning = "the WAN address is private: another router in front must forward UDP to this one; give its public name with --endpoint"
		}
		return f
	}
	f.Value = "unknown"
	f.Warning = "the router has no WAN address to publish: give the public name with --endpoint"
	return f
}

// armedRun returns the run id of an armed undo scheduler, or "".
func (r *Router) armedRun() string {
	for _, s := range r.Schedulers {
		if c := s["comment"]; strings.HasPrefix(c, tagPrefix) && strings.HasSuffix(c, " undo-timer") {
			return strings.TrimSuffix(strings.TrimPrefix(c, tagPrefix), " undo-timer")
		}
	}
	return ""
}

// onboardedRun returns the run id of a committed onboarding (a tagged
// WireGuard interface), or "".
func (r *Router) onboardedRun() string {
	for _, w := range r.WireGuard {
		if c := w["comment"]; strings.HasPrefix(c, tagPrefix) && strings.HasSuffix(c, " wg-interface") {
			return strings.TrimSuffix(strings.TrimPrefix(c, tagPrefix), " wg-interface")
		}
	}
	return ""
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return n
		}
		n = n*10 + int(c-'0')
	}
	return n
}
