package onboard

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/firewall"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/rsc"
	"github.com/wgboot/wgboot/routeros/sim"
)

// wanClient6 is the internet client of an IPv6 listener.
var wanClient6 = netip.MustParseAddr("2001:db8:ffff::99")

// exportView is what the firewall evaluator needs, read from an export
// without wgboot's help: the IPv4 and IPv6 filter, the interface and
// address lists, the addresses and the API ports.
type exportView struct {
	v4, v6   firewall.Tables
	env      firewall.Env
	apiPorts []uint16
	addr     map[string]netip.Addr // first IPv4 address per interface
	addr6    map[string]netip.Addr // first global IPv6 address per interface
}

func readExportView(t testing.TB, export string) exportView {
	t.Helper()
	f, err := rsc.ParseString(export)
	if err != nil {
		t.Fatalf("export does not parse: %v", err)
	}
	v := exportView{addr: map[string]netip.Addr{}, addr6: map[string]netip.Addr{}}
	v.env.InterfaceLists = map[string][]string{}
	v.env.AddressLists = map[string][]string{}
	for i := 1; i <= 5; i++ {
		v.env.Interfaces = append(v.env.Interfaces, firewall.Interface{Name: "ether" + strconv.Itoa(i), Type: "ether"})
	}
	ports := map[string]uint16{"api": 8728, "api-ssl": 8729}
	off := map[string]bool{}
	for _, b := range f.Blocks {
		for _, c := range b.Commands {
			get := func(k string) string { s, _ := c.Get(k); return s }
			switch b.Menu {
			case "/interface bridge", "/interface wireguard", "/interface pppoe-client", "/interface vlan":
				v.env.Interfaces = append(v.env.Interfaces, firewall.Interface{Name: get("name"), Type: b.Menu[len("/interface "):]})
			case "/interface list member":
				if get("disabled") != "yes" {
					v.env.InterfaceLists[get("list")] = append(v.env.InterfaceLists[get("list")], get("interface"))
				}
			case "/ip firewall address-list", "/ipv6 firewall address-list":
				if get("disabled") != "yes" {
					v.env.AddressLists[get("list")] = append(v.env.AddressLists[get("list")], get("address"))
				}
			case "/ip address", "/ipv6 address":
				p, err := netip.ParsePrefix(get("address"))
				if err != nil || get("disabled") == "yes" {
					continue
				}
				v.env.LocalAddrs = append(v.env.LocalAddrs, p.Addr())
				m := v.addr
				if p.Addr().Is6() {
					m = v.addr6
				}
				if _, ok := m[get("interface")]; !ok {
					m[get("interface")] = p.Addr()
				}
			case "/ip firewall filter", "/ip firewall nat", "/ip firewall raw", "/ipv6 firewall filter":
				r := firewall.Rule{}
				for _, a := range c.Args {
					r[a.Key] = a.Value
				}
				switch b.Menu {
				case "/ip firewall filter":
					v.v4.Filter = append(v.v4.Filter, r)
				case "/ip firewall nat":
					v.v4.NAT = append(v.v4.NAT, r)
				case "/ip firewall raw":
					v.v4.Raw = append(v.v4.Raw, r)
				default:
					v.v6.Filter = append(v.v6.Filter, r)
				}
			case "/ip service":
				if _, ok := ports[c.Target]; !ok {
					continue
				}
				if p, err := strconv.Atoi(get("port")); err == nil {
					ports[c.Target] = uint16(p)
				}
				off[c.Target] = get("disabled") == "yes"
			}
		}
	}
	var all []string
	for _, i := range v.env.Interfaces {
		all = append(all, i.Name)
	}
	v.env.InterfaceLists["all"] = all
	for _, n := range []string{"api", "api-ssl"} {
		if !off[n] {
			v.apiPorts = append(v.apiPorts, ports[n])
		}
	}
	return v
}

// openUplinks lists "iface tcp/port" (" IPv6" for IPv6) for every API port
// the export's firewall accepts from the internet on one of the uplinks.
func (v exportView) openUplinks(uplinks []string) []string {
	var open []string
	for _, w := range uplinks {
		for _, port := range v.apiPorts {
			p := firewall.Packet{InInterface: w, Src: simtest.WANClient, Dst: v.addr[w], Protocol: "tcp", SrcPort: 40000, DstPort: port, State: "new"}
			if firewall.EvaluateInput(v.v4, v.env, p).Action == "accept" {
				open = append(open, fmt.Sprintf("%s tcp/%d", w, port))
			}
			if a6, ok := v.addr6[w]; ok && a6.IsGlobalUnicast() {
				p.Src, p.Dst = wanClient6, a6
				if firewall.EvaluateInput(v.v6, v.env, p).Action == "accept" {
					open = append(open, fmt.Sprintf("%s tcp/%d IPv6", w, port))
				}
			}
		}
	}
	return open
}

// TestEveryUplinkClosed: on a backup uplink outside the WAN list, on a
// PPPoE uplink whose physical port is what the firewall names, and over
// IPv6 on the WAN, the API answers from the internet before the onboarding
// and nowhere after it (firewall evaluator on the export, and a real dial
// on every uplink); the rollback opens it again exactly as it was.
func TestEveryUplinkClosed(t *testing.T) {
	for _, name := range []string{"backup-uplink", "pppoe-uplink", "ipv6-wan"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ex := simtest.LoadExample(t, "../examples/"+name+".rsc")
			before := readExportView(t, ex.Config)
			if len(before.openUplinks(ex.WAN)) == 0 {
				t.Fatalf("the example is meant to leave the API open on an uplink, but its firewall closes it everywhere")
			}
			// One listener per uplink, and one more per uplink with a
			// global IPv6 address that carries IPv6 from the internet.
			type uplink struct {
				label string
				addr  netip.Addr
			}
			var ups []uplink
			s := startExample(t, ex, func(o *sim.Options) {
				for _, w := range ex.WAN {
					a := simtest.Loopback()
					o.Listen = append(o.Listen, sim.Listen{Iface: w, Addr: a, Src: simtest.WANClient})
					ups = append(ups, uplink{w, a})
					if a6, ok := before.addr6[w]; ok && a6.IsGlobalUnicast() {
						a := simtest.Loopback()
						o.Listen = append(o.Listen, sim.Listen{Iface: w, Addr: a, Src: wanClient6})
						ups = append(ups, uplink{w + " IPv6", a})
					}
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			o := simOptions(t, s, s.LAN, nil)
			o.Settings.VerifyEndpoint = s.LAN.String()
			answers := func() map[string]bool {
				got := map[string]bool{}
				for _, u := range ups {
					err := s.Answers(ctx, u.addr, o.Plain, 2*time.Second)
					if err != nil && !errors.Is(err, routeros.ErrFiltered) && !errors.Is(err, routeros.ErrRefused) {
						t.Errorf("API on %s: %v", u.label, err)
					}
					got[u.label] = err == nil
				}
				return got
			}
			openBefore := answers()
			if !slicesContainsTrue(openBefore) {
				t.Fatalf("no uplink answered the API before the onboarding: %v", openBefore)
			}
			exportBefore := s.Export()

			e, p := simtest.Plan(t, ctx, New, o, o.Settings)
			defer e.Close()
			if _, err := e.Apply(ctx, p); err != nil {
				t.Fatalf("apply: %v", err)
			}
			if open := readExportView(t, s.Sim.Export()).openUplinks(ex.WAN); len(open) > 0 {
				t.Errorf("after apply the export's firewall still accepts the API from the internet on %v", open)
			}
			for label, ok := range answers() {
				if ok {
					t.Errorf("after apply the API still answers on uplink %s", label)
				}
			}
			st, err := e.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !st.APIClosed {
				t.Errorf("status says the API is not closed on the WAN: %+v", st.WANVerdict)
			}

			if err := e.Rollback(ctx); err != nil {
				t.Fatalf("rollback: %v", err)
			}
			if diff := cmp.Diff(exportBefore, s.Export()); diff != "" {
				t.Errorf("export after rollback differs (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(openBefore, answers()); diff != "" {
				t.Errorf("API answers after rollback (-before +after):\n%s", diff)
			}
		})
	}
}

func slicesContainsTrue(m map[string]bool) bool {
	for _, v := range m {
		if v {
			return true
		}
	}
	return false
}
