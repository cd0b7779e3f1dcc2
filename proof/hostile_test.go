package proof

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/routeros"
	"github.com/wgboot/wgboot/routeros/rsc"
	"github.com/wgboot/wgboot/routeros/sim"
	"github.com/wgboot/wgboot/vpn"
)

// hostileCorpus are names a router may legally carry that break naive
// RouterOS script writing. Each goes on the WAN interface (or the WAN
// interface list), the bridge, the LAN list, an address list, the
// identity, a rule's comment and the API user of one router.
var hostileCorpus = []struct{ why, name string }{
	{"command separator", "ether1; fibre"},
	{"quote injection", `x" ; /user add name=evil group=full ; :put "`},
	{"expression", "$(/system reboot)"},
	{"substitution in $", "$[/user add name=evil group=full]"},
	{"substitution", "[/system reboot]"},
	{"backslashes", `back\slash\"q\\`},
	{"help", "wan?"},
	{"block", "{:error x}"},
	{"tab", "tab\there"},
	{"non-ASCII", "wän-€"},
	{"a number", "123"},
	{"an id", "*1F"},
	{"a boolean", "yes"},
	{"comment mark", "#hash"},
	{"63 bytes", strings.Repeat("a;\"$[]\\?{}", 6) + "xyz"},
}

// hostileRole says where the name goes besides the bridge, the LAN list,
// an address list, the identity, rule comments and the API user.
type hostileRole string

const (
	// roleWAN: on the WAN interface, in no list: the harden rule and its
	// tag name the interface.
	roleWAN hostileRole = "wan-interface"
	// roleList: the WAN interface is in the WAN list (the harden rule
	// names the list) and an API rule by source address, commented with
	// the name, must move to wgboot's address list (a set and an unset
	// on an existing rule, and a move).
	roleList hostileRole = "wan-list"
)

// hostileRouter is a router whose names come from the corpus.
type hostileRouter struct {
	name   string
	role   hostileRole
	wan    string // WAN interface
	bridge string
	config string
}

func newHostile(name string, role hostileRole) hostileRouter {
	h := hostileRouter{name: name, role: role, wan: name, bridge: name + " br"}
	q := rsc.Quote
	lanList := name + " LAN"
	lines := []string{
		"/interface ethernet", "set [ find default-name=ether1 ] name=" + q(h.wan),
		"/interface bridge", "add name=" + q(h.bridge),
		"/interface list", "add name=WAN", "add name=" + q(lanList),
		"/interface bridge port", "add bridge=" + q(h.bridge) + " interface=ether2",
		"/interface list member", "add interface=" + q(h.bridge) + " list=" + q(lanList)}
	if role == roleList {
		lines = append(lines, "add interface="+q(h.wan)+" list=WAN")
	}
	lines = append(lines,
		"/ip address", "add address=192.168.88.1/24 interface="+q(h.bridge)+" network=192.168.88.0",
		"/ip firewall address-list", "add address=192.0.2.1 list="+q(name),
		"/ip firewall filter",
		"add action=accept chain=input comment="+q(name)+" connection-state=established,related,untracked",
		"add action=drop chain=input comment="+q(name+" invalid")+" connection-state=invalid",
		"add action=accept chain=input protocol=icmp",
		"add action=drop chain=input in-interface-list="+q("!"+lanList))
	if role == roleList {
		lines = append(lines, "add action=accept chain=input comment="+q(name+" api")+" dst-port=8728,8729 protocol=tcp src-address=192.168.88.0/24")
	}
	lines = append(lines,
		"add action=drop chain=forward src-address-list="+q(name),
		"/system identity", "set name="+q(name))
	h.config = strings.Join(lines, "\n") + "\n"
	return h
}

// hostileUserAddress is the API user's address restriction: it admits the LAN
// client, not the tunnel, so the plan sets the user by its name.
const hostileUserAddress = "192.168.88.0/24"

// hostileRun is one rossim router of the corpus, reached on its LAN side
// as the corpus user.
type hostileRun struct {
	*simtest.Router
	h hostileRouter
}

func startHostile(t *testing.T, h hostileRouter, mod func(*sim.Options)) *hostileRun {
	t.Helper()
	ex := simtest.Example{Name: h.name, Config: h.config, Wiring: sim.Wiring{LAN: h.bridge, LANClient: netip.MustParseAddr("192.168.88.100"),
		Dynamic: []sim.DynamicAddress{{Iface: h.wan, Prefix: netip.MustParsePrefix("198.51.100.77/24")}}}}
	hr := &hostileRun{Router: simtest.Start(t, ex, simtest.Options{User: h.name, Password: password, Quiet: true, Sim: mod}), h: h}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := hr.client(t)
	defer cl.Close()
	// By .id: a name may read as an id or a number.
	rep, err := cl.Run(ctx, "/user/print", "?name="+h.name)
	if err != nil || len(rep.Re) != 1 {
		t.Fatalf("find the user: %v", err)
	}
	if _, err := cl.Run(ctx, "/user/set", "=numbers="+rep.Re[0][".id"], "=address="+hostileUserAddress); err != nil {
		t.Fatalf("restrict the user: %v", err)
	}
	return hr
}

func (hr *hostileRun) apiAddr() string { return hr.APIAddr(hr.LAN, false) }

// client is a session of the test's own (not counted as wgboot's).
func (hr *hostileRun) client(t *testing.T) *routeros.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := hr.Dial(ctx, hr.LAN, false, 5*time.Second)
	if err != nil {
		t.Fatalf("log in as %q: %v", hr.h.name, err)
	}
	return cl
}

// injected reports what an injected command would have left: the user
// evil, a reboot, or a user no longer restricted as it was.
func (hr *hostileRun) injected(t *testing.T, wantAddress string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := hr.client(t)
	defer cl.Close()
	var out []string
	if rep, err := cl.Run(ctx, "/user/print"); err != nil {
		out = append(out, "users: "+err.Error())
	} else {
		for _, u := range rep.Re {
			switch {
			case u["name"] == "evil":
				out = append(out, "a user evil exists")
			case u["name"] == hr.h.name && wantAddress != "" && u["address"] != wantAddress:
				out = append(out, fmt.Sprintf("user address %q, want %q", u["address"], wantAddress))
			}
		}
	}
	if rep, err := cl.Run(ctx, "/log/print", "?message=router rebooted"); err != nil || len(rep.Re) > 0 {
		out = append(out, fmt.Sprintf("the router rebooted (%v)", err))
	}
	if len(out) > 0 {
		hostileInjected.Add(1)
	}
	return out
}

// hostileInjected counts the checks that found the trace of an injected
// command.
var hostileInjected atomic.Int64

// engine is an in-process wgboot for hr. After the router severs its
// connections (DropAfterCommands) it never comes back: no new connection
// on the original path or through the tunnel.
func (hr *hostileRun) engine(t *testing.T) *onboard.Engine {
	t.Helper()
	gone := func() bool { return hr.Sim.Stats().Severed > 0 }
	o := onboard.Options{Router: hr.apiAddr(), User: hr.h.name, Password: password, Fingerprint: hr.Info.Fingerprint,
		StateDir: t.TempDir(), RunID: "hostile",
		Settings: onboard.Settings{LANKeepsAPI: true, ConfirmTimeout: confirmTimeout, VerifyEndpoint: hr.LAN.String()},
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if gone() {
				return nil, errors.New("proof: the technician's link is gone")
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
		NewLocal: func(string) (vpn.Backend, error) {
			return hostileBackend{Backend: vpn.NewNetstack(nil), gone: gone}, nil
		},
	}
	e, err := onboard.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// hostileBackend is a local peer whose tunnel is dead once gone says so.
type hostileBackend struct {
	vpn.Backend
	gone func() bool
}

func (b hostileBackend) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if b.gone() {
		return nil, errors.New("proof: the technician's link is gone")
	}
	return b.Backend.DialContext(ctx, network, addr)
}

// hostilePlanText is the plan as `wgboot plan` prints it: the commands, then the
// undo in order.
func hostilePlanText(p *onboard.Plan) (apply, undo string) {
	var a, u []string
	for _, c := range p.Changes {
		a = append(a, c.Command)
	}
	for i := len(p.Changes) - 1; i >= 0; i-- {
		u = append(u, p.Changes[i].Inverse)
	}
	return strings.Join(a, "\n") + "\n", strings.Join(u, "\n") + "\n"
}

// runScript runs src on the router as a /system script and reports its error.
func (hr *hostileRun) runScript(t *testing.T, name, src string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := hr.client(t)
	defer cl.Close()
	if _, err := cl.Run(ctx, "/system/script/add", "=name="+name, "=source="+src); err != nil {
		t.Fatalf("add script: %v", err)
	}
	_, err := cl.Run(ctx, "/system/script/run", "=number="+name)
	if _, rerr := cl.Run(ctx, "/system/script/remove", "=numbers="+name); rerr != nil {
		t.Fatalf("remove script: %v", rerr)
	}
	return err
}

// cleanHostile onboards a corpus router from start to end, and returns the
// commands the run sent (first and last as the router counts them). The
// plan text, run on a second router as a script, does what it says and its
// undo restores the router exactly; no injected command runs either way.
func cleanHostile(t *testing.T, h hostileRouter) (first, last, tagged int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hr := startHostile(t, h, nil)
	before := hr.Export()
	e := hr.engine(t)
	if err := e.Connect(ctx); err != nil {
		t.Fatalf("connect: %v", err)
	}
	p, err := e.Plan(ctx, onboard.Settings{LANKeepsAPI: true, ConfirmTimeout: confirmTimeout, VerifyEndpoint: hr.LAN.String()})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	key := "harden-" + h.name
	if h.role == roleList {
		key = "harden-WAN"
	}
	named := false
	for _, c := range p.Changes {
		named = named || strings.Contains(c.Command, "comment="+rsc.Quote("wgboot:hostile "+key))
	}
	if h.role == roleList {
		// The moved API rule: a set with an unset (two commands on one
		// plan line) and a move.
		named = named && slices.ContainsFunc(p.Changes, func(c onboard.Change) bool { return strings.Contains(c.Inverse, "; /ip firewall filter unset") }) &&
			slices.ContainsFunc(p.Changes, func(c onboard.Change) bool { return strings.Contains(c.Command, "/ip firewall filter move") })
	}
	if !named {
		t.Errorf("no harden rule carries the name (the case does not test what it should):\n%+v", p.Changes)
	}
	first = int(hr.Sim.Stats().Commands) + 1
	if _, err := e.Apply(ctx, p); err != nil {
		t.Fatalf("apply: %v", err)
	}
	last = int(hr.Sim.Stats().Commands)
	tagged = strings.Count(hr.Export(), "wgboot:hostile ")
	if bad := hr.injected(t, hostileUserAddress+",10.77.0.0/24"); len(bad) > 0 {
		t.Errorf("after apply: %s", strings.Join(bad, "; "))
	}

	// The plan text on a twin router.
	twin := startHostile(t, h, nil)
	apply, undo := hostilePlanText(p)
	if err := twin.runScript(t, "plan", apply); err != nil {
		t.Fatalf("the plan text fails as a script: %v\n%s", err, apply)
	}
	if bad := twin.injected(t, hostileUserAddress+",10.77.0.0/24"); len(bad) > 0 {
		t.Errorf("after the plan text: %s", strings.Join(bad, "; "))
	}
	if err := twin.runScript(t, "undo", undo); err != nil {
		t.Fatalf("the plan's undo fails as a script: %v\n%s", err, undo)
	}
	if diff := cmp.Diff(before, twin.Export()); diff != "" {
		t.Errorf("the plan's undo does not restore the router (-before +after):\n%s", diff)
	}
	if bad := twin.injected(t, hostileUserAddress); len(bad) > 0 {
		t.Errorf("after the plan's undo: %s", strings.Join(bad, "; "))
	}
	return first, last, tagged
}

// severHostile cuts the technician's link right after the router carried
// out command n of the run; wgboot never comes back. The router's own
// scheduler, its clock moved past the deadline, must restore it exactly.
// tagged is how many wgboot-tagged items a completed run leaves.
func severHostile(t *testing.T, h hostileRouter, n, tagged int) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hr := startHostile(t, h, func(o *sim.Options) { o.DropAfterCommands = n })
	before := hr.Export()
	e := hr.engine(t)
	if err := e.Connect(ctx); err != nil {
		t.Fatalf("connect: %v", err)
	}
	p, err := e.Plan(ctx, onboard.Settings{LANKeepsAPI: true, ConfirmTimeout: confirmTimeout, VerifyEndpoint: hr.LAN.String()})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if _, err := e.Apply(ctx, p); err == nil {
		if strings.Contains(hr.Sim.Export(), "wgboot-undo") {
			t.Errorf("onboarded but still armed")
		}
		return "completed"
	}
	e.Close()
	how := "nothing changed"
	if now := hr.Export(); now != before {
		how = "restored by the scheduler"
		if !strings.Contains(now, "wgboot-undo") {
			// The sever came right after the commit: the router is
			// onboarded and disarmed, only wgboot missed the reply.
			if strings.Count(now, "wgboot:hostile ") != tagged {
				t.Errorf("changed and not armed, and not onboarded either (-before +after):\n%s", cmp.Diff(before, now))
				return ""
			}
			return "committed (reply lost)"
		}
		// Commands the router read before the link died still finish
		// (tagged API commands run concurrently); on a real router they
		// do so long before the timer fires. Let them, then jump the
		// clock past the deadline.
		for stable, last, lastN := 0, now, hr.Sim.Stats().Commands; stable < 3; {
			time.Sleep(20 * time.Millisecond)
			cur, n := hr.Export(), hr.Sim.Stats().Commands
			if cur == last && n == lastN {
				stable++
			} else {
				stable, last, lastN = 0, cur, n
			}
		}
		hr.Sim.AdvanceClock(3 * confirmTimeout)
		for now != before {
			select {
			case <-ctx.Done():
				t.Errorf("the armed scheduler did not restore the router (-before +after):\n%s", cmp.Diff(before, now))
				return ""
			case <-time.After(20 * time.Millisecond):
			}
			now = hr.Export()
		}
	}
	if bad := hr.injected(t, hostileUserAddress); len(bad) > 0 {
		t.Errorf("after the sever: %s", strings.Join(bad, "; "))
		return ""
	}
	return how
}

// TestHostileNames onboards a router for every corpus name (on the WAN
// interface, then on the WAN list), runs its plan text as a script, and
// runs the sever matrix over it: fast mode, every command for the first
// name and two commands for the rest; WGBOOT_FAULTS=full, every command for
// every name (about 750 cases, a minute).
func TestHostileNames(t *testing.T) {
	var mu sync.Mutex
	var run, recovered int
	hows := map[string]int{}
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, c := range hostileCorpus {
		for _, role := range []hostileRole{roleWAN, roleList} {
			h := newHostile(c.name, role)
			t.Run(string(role)+"/"+c.why, func(t *testing.T) {
				first, last, tagged := cleanHostile(t, h)
				if t.Failed() {
					return
				}
				var ns []int
				for n := first; n <= last; n++ {
					ns = append(ns, n)
				}
				if !full && i > 0 && len(ns) > 2 {
					// A sample: right after the timer is armed, and midway.
					ns = []int{ns[2], ns[len(ns)/2]}
				}
				for _, n := range ns {
					wg.Add(1)
					sem <- struct{}{}
					go func() {
						defer wg.Done()
						defer func() { <-sem }()
						t.Run(fmt.Sprintf("sever %02d", n), func(t *testing.T) {
							how := severHostile(t, h, n, tagged)
							if testing.Verbose() {
								t.Logf("%s", how)
							}
							mu.Lock()
							defer mu.Unlock()
							run++
							if how != "" && !t.Failed() {
								recovered++
								hows[how]++
							}
						})
					}()
				}
				wg.Wait()
			})
		}
	}
	var hs []string
	for h, n := range hows {
		hs = append(hs, fmt.Sprintf("%s %d", h, n))
	}
	sort.Strings(hs)
	mode := "fast"
	if full {
		mode = "full"
	}
	t.Logf("hostile names summary (%s): names %d × roles 2, sever cases run %d, recovered %d, injected commands found %d\n  how: %s",
		mode, len(hostileCorpus), run, recovered, hostileInjected.Load(), strings.Join(hs, ", "))
	if run != recovered {
		t.Errorf("%d of %d sever cases did not recover", run-recovered, run)
	}
}
