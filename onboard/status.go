package onboard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wgboot/wgboot/firewall"
	"github.com/wgboot/wgboot/routeros/rsc"
)

// Status is what wgboot manages on a router, read from the router itself.
type Status struct {
	Identity   string       `json:"identity"`
	RunID      string       `json:"run_id,omitempty"`    // "" when wgboot manages nothing there
	Armed      string       `json:"armed,omitempty"`     // run id of an armed (unconfirmed) run
	Interface  Row          `json:"interface,omitempty"` // the tagged WireGuard interface (no private key)
	Peers      []Row        `json:"peers,omitempty"`     // its peers, with last-handshake
	Rules      []Row        `json:"rules,omitempty"`     // tagged firewall rules, in order
	APIClosed  bool         `json:"api_closed_on_wan"`   // every WAN→API probe is dropped by the ruleset
	WANVerdict []VerdictRow `json:"wan_verdicts,omitempty"`
	// LeftoverFiles are wgboot's files still on the router from runs that
	// are over (an export, or the unencrypted backup older versions saved,
	// which holds every secret of the router): remove them.
	LeftoverFiles []string `json:"leftover_files,omitempty"`
}

// Status inspects the router and reports what wgboot manages there.
func (e *Engine) Status(ctx context.Context) (*Status, error) {
	if e.cl == nil {
		return nil, errors.New("onboard: status before connect")
	}
	r, err := inspect(ctx, e.cl)
	if err != nil {
		return nil, err
	}
	e.router = r
	return statusOf(r, e.o.Plain), nil
}

func statusOf(r *Router, plain bool) *Status {
	s := &Status{Identity: r.Identity, RunID: r.onboardedRun(), Armed: r.armedRun(), LeftoverFiles: r.leftoverFiles()}
	for _, w := range r.WireGuard {
		if wgbootTagged(w) {
			s.Interface = Row{"name": w["name"], "listen-port": w["listen-port"], "public-key": w["public-key"], "comment": w["comment"]}
			for _, p := range r.Peers {
				if p["interface"] == w["name"] {
					name, _, _ := peerName(s.RunID, p)
					s.Peers = append(s.Peers, Row{"name": name, "public-key": p["public-key"], "allowed-address": p["allowed-address"],
						"last-handshake": p["last-handshake"], "current-endpoint-address": p["current-endpoint-address"], "comment": p["comment"]})
				}
			}
		}
	}
	for _, rows := range [][]Row{r.Filter, r.Filter6} {
		for _, row := range rows {
			if wgbootTagged(row) {
				s.Rules = append(s.Rules, row)
			}
		}
	}
	d := &decision{API: r.apiServices()}
	d.WANs, _ = wansOf(r)
	s.APIClosed = len(d.WANs) > 0
	fw := r.compiled()
	probes, _ := d.probesOn(r, fw)
	for _, p := range probes {
		if p.Kind != probeWANAPI && p.Kind != probeWANAPI6 {
			continue
		}
		v := fw.eval(p)
		s.WANVerdict = append(s.WANVerdict, VerdictRow{Probe: p.Label, Before: verdictText(v), After: verdictText(v)})
		if v.Action == "accept" {
			s.APIClosed = false
		}
	}
	return s
}

// wansOf returns the WAN interfaces (list ∪ default routes) with their addresses.
func wansOf(r *Router) ([]wanIface, []string) {
	lists := r.resolveLists()
	set := map[string]bool{}
	for _, n := range lists["WAN"] {
		set[n] = true
	}
	for _, n := range r.defaultRouteIfaces() {
		set[n] = true
	}
	var ws []wanIface
	for _, n := range sortedKeys(set) {
		ws = append(ws, wanIface{Name: n, Addrs: r.ifaceAddrs(n), Addr6: r.globalAddrs6(n)})
	}
	var ls []string
	if _, ok := lists["WAN"]; ok {
		ls = []string{"WAN"}
	}
	return ws, ls
}

// Audit is a read-only review of API exposure: which API ports the WAN
// reaches and from where, service settings, certificate, and whether
// refused attempts are logged. Each Fact with a Warning is a finding.
func (e *Engine) Audit(ctx context.Context) ([]Fact, error) {
	if e.cl == nil {
		return nil, errors.New("onboard: audit before connect")
	}
	r, err := inspect(ctx, e.cl)
	if err != nil {
		return nil, err
	}
	e.router = r
	return audit(r, e.fingerprint), nil
}

// audit reviews the snapshot; fp is the certificate fingerprint this run
// verified over api-ssl ("" on the plain API).
func audit(r *Router, fp string) []Fact {
	var fs []Fact
	fs = append(fs, Fact{Name: "RouterOS", Value: r.Version})
	svcs := r.apiServices()
	if len(svcs) == 0 {
		fs = append(fs, Fact{Name: "API services", Value: "api and api-ssl disabled"})
	}
	for _, s := range r.Services {
		if s["name"] != "api" && s["name"] != "api-ssl" {
			continue
		}
		v := fmt.Sprintf("port %s", s["port"])
		f := Fact{Name: "service " + s["name"]}
		if isTrue(s["disabled"]) {
			f.Value = "disabled"
			fs = append(fs, f)
			continue
		}
		from := s["address"]
		if from == "" {
			from = s["available-from"]
		}
		if from == "" {
			v += ", from any address"
		} else {
			v += ", only from " + from
		}
		if s["name"] == "api-ssl" {
			cert := s["certificate"]
			switch {
			case (cert == "" || cert == "none") && fp != "":
				// The TLS session of this run shows a certificate is served
				// (RouterOS picks one when none is set).
				cert = "none set, the router serves sha256 " + fp
			case cert == "" || cert == "none":
				f.Warning = "api-ssl has no certificate: no client without anonymous Diffie-Hellman can use it; create and sign one"
				cert = "none"
			case fp != "":
				cert += " (sha256 " + fp + ")"
			}
			v += ", certificate " + cert
			if tv := s["tls-version"]; tv != "" {
				v += ", tls " + tv
			}
		} else {
			f.Warning = "the plain API sends the password unencrypted: disable it and use api-ssl"
		}
		f.Value = v
		fs = append(fs, f)
	}
	wans, _ := wansOf(r)
	d := &decision{API: svcs, WANs: wans}
	anyLogged := false
	fw := r.compiled()
	probes, _ := d.probesOn(r, fw)
	for _, p := range probes {
		if p.Kind != probeWANAPI && p.Kind != probeWANAPI6 {
			continue
		}
		v := fw.eval(p)
		f := Fact{Name: p.Label, Value: verdictText(v) + " " + decidedBy(r, p, v)}
		if v.Action == "accept" {
			f.Warning = "the API is reachable from the WAN" + sources(r, p, v) + ": close it (wgboot apply) or restrict it"
		}
		if len(v.Logs) > 0 {
			anyLogged = true
		}
		fs = append(fs, f)
	}
	lf := Fact{Name: "logging of refused API attempts", Value: "no"}
	if anyLogged {
		lf.Value = "yes"
	} else if len(d.WANs) > 0 {
		lf.Warning = "refused API attempts from the WAN are not logged: add a log rule (wgboot --log-refused) to review them"
	}
	fs = append(fs, lf)
	if len(wans) == 0 {
		fs = append(fs, Fact{Name: "WAN", Value: "none found", Warning: "no WAN interface list and no default route: exposure could not be judged"})
	}
	return fs
}

func decidedBy(r *Router, p probe, v firewall.Verdict) string {
	rows := r.Filter
	if p.V6 {
		rows = r.Filter6
	}
	switch {
	case v.DstNAT:
		return "(a dstnat rule forwards it away)"
	case v.Stage == "default":
		return "(no rule matched: the chain's default accepts)"
	case v.Table == "filter" && v.Index >= 0 && v.Index < len(rows):
		row := rows[v.Index]
		s := fmt.Sprintf("(filter rule %d, chain %s", v.Index, row["chain"])
		if c := row["comment"]; c != "" {
			s += ", " + rsc.Quote(c)
		}
		return s + ")"
	case v.Table != "":
		return fmt.Sprintf("(%s rule %d)", v.Table, v.Index)
	}
	return ""
}

// sources says from where an accepted WAN→API probe is admitted.
func sources(r *Router, p probe, v firewall.Verdict) string {
	rows := r.Filter
	if p.V6 {
		rows = r.Filter6
	}
	if v.Table != "filter" || v.Index < 0 || v.Index >= len(rows) {
		return " from any address"
	}
	row := rows[v.Index]
	var parts []string
	if s := row["src-address"]; s != "" {
		parts = append(parts, s)
	}
	if l := row["src-address-list"]; l != "" {
		parts = append(parts, "address list "+l)
	}
	if len(parts) == 0 {
		return " from any address"
	}
	return " from " + strings.Join(parts, ", ")
}
