package onboard

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Plan variations: IPv6 on the WAN, --log-refused, --lan-keeps-api=false,
// an /ip service and /user address restriction.
func TestPlanOptions(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(r *Router)
		s     Settings
		want  []string // substrings of some command, in order of the changes
		after map[string]string
	}{
		{
			name: "ipv6 wan",
			mod: func(r *Router) {
				r.Addresses6 = []Row{{".id": "*1", "address": "2001:db8:1::2/64", "interface": "ether1"}, {".id": "*2", "address": "fe80::1/64", "interface": "ether1"}}
				r.Filter6 = []Row{{".id": "*1", "chain": "input", "action": "accept", "connection-state": "established,related"}}
			},
			s:     Settings{LANKeepsAPI: true},
			want:  []string{"/ipv6 firewall filter add action=drop chain=input dst-port=8728,8729 in-interface=ether1 protocol=tcp"},
			after: map[string]string{"WAN→API ether1 IPv6 tcp/8729": "drop"},
		},
		{
			name:  "log refused",
			s:     Settings{LANKeepsAPI: true, LogRefused: true},
			want:  []string{"in-interface-list=WAN protocol=tcp log=yes log-prefix=wgboot-api-refused"},
			after: map[string]string{"WAN→API ether1 tcp/8729": "drop"},
		},
		{
			name:  "lan loses api",
			s:     Settings{LANKeepsAPI: false},
			want:  []string{"in-interface=!wgboot protocol=tcp"},
			after: map[string]string{"LAN→API bridge tcp/8729": "drop", "VPN→API wgboot tcp/8729": "accept", "LAN→ssh bridge tcp/22": "accept"},
		},
		{
			name: "service and user restricted",
			mod: func(r *Router) {
				r.Services[1]["address"] = "192.168.88.0/24"
				r.Users[0]["address"] = "192.168.88.0/24"
			},
			s: Settings{LANKeepsAPI: true},
			want: []string{
				"/ip service set [find where name=\"api-ssl\"] address=192.168.88.0/24,10.77.0.0/24",
				"/user set [find where name=\"admin\"] address=192.168.88.0/24,10.77.0.0/24",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defconf()
			if tt.mod != nil {
				tt.mod(r)
			}
			_, p, err := testPlan(t, r, tt.s)
			if err != nil {
				t.Fatal(err)
			}
			var cmds []string
			for _, c := range p.Changes {
				cmds = append(cmds, c.Command)
			}
			all := strings.Join(cmds, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("no command contains %q:\n%s", w, all)
				}
			}
			got := map[string]string{}
			for _, v := range p.Verdicts {
				if _, ok := tt.after[v.Probe]; ok {
					got[v.Probe] = v.After
				}
			}
			if diff := cmp.Diff(tt.after, got, cmpEmptyMap); diff != "" {
				t.Errorf("verdicts after (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmptyMap = cmp.FilterValues(func(a, b map[string]string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func TestRouterClock(t *testing.T) {
	tests := []struct {
		date, tm string
		want     string
		bad      bool
	}{
		{"2026-11-27", "08:00:05", "2026-11-27 08:00:05", false},
		{"nov/27/2026", "23:59:59", "2026-11-27 23:59:59", false},
		{"Nov/27/2026", "00:00:00", "2026-11-27 00:00:00", false},
		{"27.11.2026", "00:00:00", "", true},
		{"", "", "", true},
	}
	for _, tt := range tests {
		got, err := routerClock(Row{"date": tt.date, "time": tt.tm})
		if tt.bad {
			if err == nil {
				t.Errorf("%q %q: no error", tt.date, tt.tm)
			}
			continue
		}
		if err != nil || got.Format(time.DateTime) != tt.want {
			t.Errorf("%q %q = %v, %v; want %s", tt.date, tt.tm, got, err, tt.want)
		}
	}
}

func FuzzRouterClock(f *testing.F) {
	f.Add("2026-11-27", "08:00:05")
	f.Add("nov/27/2026", "23:59:59")
	f.Add("x", "")
	f.Fuzz(func(t *testing.T, date, tm string) {
		got, err := routerClock(Row{"date": date, "time": tm})
		if err == nil && got.IsZero() {
			t.Fatal("zero time without error")
		}
	})
}

func TestPrefixes(t *testing.T) {
	got := prefixes("192.168.88.0/24, 10.0.0.1,10.1.0.5-10.1.0.9,host.example,!1.2.3.4, 2001:db8::/32")
	want := []netip.Prefix{
		netip.MustParsePrefix("192.168.88.0/24"), netip.MustParsePrefix("10.0.0.1/32"),
		netip.MustParsePrefix("10.1.0.0/28"), netip.MustParsePrefix("2001:db8::/32"),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func FuzzPrefixes(f *testing.F) {
	f.Add("192.168.88.0/24,10.0.0.1")
	f.Add("10.1.0.5-10.1.0.9")
	f.Add("::1-10.0.0.1")
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range prefixes(s) {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("%q gave %v", s, p)
			}
		}
	})
}

// The WAN, subnet and port decisions never use time or I/O: the same
// snapshot gives the same plan.
func TestPlanIsPure(t *testing.T) {
	_, a, err := testPlan(t, defconf(), Settings{LANKeepsAPI: true})
	if err != nil {
		t.Fatal(err)
	}
	_, b, _ := testPlan(t, defconf(), Settings{LANKeepsAPI: true})
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two plans differ:\n%s", diff)
	}
	if !slices.ContainsFunc(a.Changes, func(c Change) bool { return c.Step == StepHarden }) {
		t.Error("no harden change")
	}
}

func BenchmarkPlan(b *testing.B) {
	r := defconf()
	for b.Loop() {
		d, err := decide(r, decideInput{RunID: "b", User: "admin", Settings: Settings{LANKeepsAPI: true}})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := makePlan(r, d, Settings{LANKeepsAPI: true}, "PUB="); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzRulePorts(f *testing.F) {
	f.Add("8728,8729")
	f.Add("8000-9000")
	f.Add("1-65535,0,x")
	f.Fuzz(func(t *testing.T, ports string) {
		row := Row{"chain": "input", "action": "accept", "protocol": "tcp", "dst-port": ports, "src-address": "10.0.0.0/8"}
		got := rulePorts(row)
		if apiOnlyRule(row, map[uint16]bool{8728: true, 8729: true}) {
			for p := range got {
				if p != 8728 && p != 8729 {
					t.Fatalf("%q: api-only rule with port %d", ports, p)
				}
			}
		}
	})
}

// TestFireWords: the timer's start-date is in the form the clock printed.
func TestFireWords(t *testing.T) {
	fire := time.Date(2026, 12, 6, 9, 5, 3, 0, time.UTC)
	tests := []struct {
		clock string
		want  []string
	}{
		{"2026-12-06", []string{"=start-date=2026-12-06", "=start-time=09:05:03"}},
		{"dec/06/2026", []string{"=start-date=dec/06/2026", "=start-time=09:05:03"}},
		{"Dec/06/2026", []string{"=start-date=dec/06/2026", "=start-time=09:05:03"}},
	}
	for _, tt := range tests {
		e := &Engine{now: time.Now}
		if err := e.noteClock(Row{"date": tt.clock, "time": "09:00:00"}); err != nil {
			t.Fatal(err)
		}
		if got := fireWords(fire, e.clockOld); !slices.Equal(got, tt.want) {
			t.Errorf("clock %q: %q, want %q", tt.clock, got, tt.want)
		}
	}
}
