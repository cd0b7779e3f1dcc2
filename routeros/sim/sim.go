package sim

import (
	"context"

	"crypto/tls"
	"errors"
	"fmt"
	"github.com/wgboot/wgboot/routeros/sim/wgdev"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a simulated router. The zero value is a bare router
// with ether1..ether5, user admin with an empty password, api and api-ssl
// on a random loopback address as ether1.
type Options struct {
	// Config is RouterOS export text applied at start (empty: defaults only).
	Config string
	// Version is the RouterOS version emulated (default "7.20.6").
	Version string
	// Listen says where services are bound and which interface traffic
	// arriving there enters. Nil: one ether1 listener on a random 127.x address.
	Listen []Listen
	// DynamicAddresses gives interfaces dynamic addresses, as DHCP or PPPoE would.
	DynamicAddresses []DynamicAddress
	// User and Password of the administrator (default admin and "").
	User, Password string
	// Cert is "auto" (default: self-signed api-ssl certificate) or "none"
	// (api-ssl without certificate: Go TLS clients fail the handshake).
	Cert string
	// ClockSpeed multiplies the simulated clock (default 1).
	ClockSpeed float64
	// Latency is added before every API reply and every WireGuard packet.
	Latency time.Duration
	// DropAfterCommands severs every open API connection right after the
	// Nth command has been carried out (0: never).
	DropAfterCommands int
	// TrapOn lists command paths answered with a trap ("/ip/firewall/filter/add").
	TrapOn []string
	// Logf receives diagnostics; nil discards them. Keys and passwords never reach it.
	Logf func(format string, args ...any)
}

// Listen binds the router's services on Addr as traffic of interface Iface.
type Listen struct {
	Iface string
	Addr  netip.Addr // zero: pick a free 127.x.y.z address
	Src   netip.Addr // source address the router sees; zero: the real source
}

// DynamicAddress is an address the router holds on Iface as if from DHCP/PPPoE.
type DynamicAddress struct {
	Iface  string
	Prefix netip.Prefix
}

// Info says where the router listens.
type Info struct {
	Listen      []ListenInfo
	Fingerprint string // lowercase hex SHA-256 of the api-ssl certificate DER ("" with Cert none)
	// WireGuard maps each running /interface wireguard to its UDP listen
	// port, bound on every listen address.
	WireGuard map[string]uint16
}

// ListenInfo is one listen address and the ports bound on it.
type ListenInfo struct {
	Iface  string
	Addr   netip.Addr
	API    uint16 // 0 when the service is disabled
	APISSL uint16
	// SSH, Winbox and WWW only greet (ssh's version line, a winbox line of
	// rossim's own, an HTTP page); 0 when disabled or not bindable (ports
	// below 1024 need privileges).
	SSH, Winbox, WWW uint16
}

// Stats are counters a test can read.
type Stats struct {
	Commands int64 // commands carried out (login included)
	Accepted int64 // connections (and WireGuard flows) the firewall accepted
	Dropped  int64 // connections the firewall dropped (silent)
	Rejected int64 // connections the firewall rejected (reset)
	Severed  int64 // connections cut by DropAfterCommands or reboot
}

// Router is a running simulated router. Its methods are safe for concurrent use.
type Router struct {
	o Options
	// bootUniq indexes the address lists while the configuration loads
	// (see bootIndex); nil otherwise.
	bootUniq map[*table]map[string]bool
	// lists caches the compiled address lists for the packet path;
	// listGen counts changes of /ip firewall address-list.
	lists   *listCache
	listGen int
	logf    func(string, ...any)
	clk     *simClock

	// recMu serialises reconcile: listeners and WireGuard devices follow
	// the state. Lock order: recMu, then mu; network.mu and wgInst.mu are
	// leaves. Holding recMu, nothing may wait for a connection's goroutine
	// (its command may be the reconcile itself, or wait for recMu), and
	// device Close never runs under mu (a device's Admit takes mu on the
	// receive goroutine Close waits for).
	recMu sync.Mutex

	mu        sync.Mutex // guards following
	st        *state
	stats     Stats
	cmdCount  int
	dirty     map[string]bool
	bootTime  time.Time // simulated time of the last boot
	hw        hardware  // the board, from the config's export header
	saved     string    // configuration a reboot starts from
	closed    bool
	loading   bool // applying a configuration: referenced certificates are created
	autoCert  *tls.Certificate
	certs     map[string]*tls.Certificate // signed /certificate entries by name
	net       *network
	wgs       map[string]*wgInst
	peerCache map[string][]wgdev.PeerStats // last figures read from the devices
	runs      map[uint32]int               // run counts of scripts and schedulers, by id
	nextRun   map[uint32]time.Time
	journal   []string                          // API commands received, for golden tests
	subs      map[string]map[chan struct{}]bool // followed prints, by menu

	// udpSrc is the modelled source of each WireGuard flow (a Listen's Src)
	// by its real loopback remote: what a peer's current-endpoint-address
	// shows, as a router shows the address the packets came from.
	udpSrcMu sync.Mutex
	udpSrc   map[netip.AddrPort]netip.Addr

	bg     sync.WaitGroup // background goroutines (scheduler, backups); Close waits
	stop   chan struct{}
	stopMu sync.Once
}

// Start builds the router from o and brings its listeners up.
func Start(ctx context.Context, o Options) (*Router, error) {
	if o.Version == "" {
		o.Version = "7.20.6"
	}
	if o.User == "" {
		o.User = "admin"
	}
	if o.Cert == "" {
		o.Cert = "auto"
	}
	if o.Cert != "auto" && o.Cert != "none" {
		return nil, fmt.Errorf("sim: cert must be auto or none, not %q", o.Cert)
	}
	if o.ClockSpeed <= 0 {
		o.ClockSpeed = 1
	}
	if len(o.Listen) == 0 {
		o.Listen = []Listen{{Iface: "ether1"}}
	}
	r := &Router{o: o, logf: o.Logf, stop: make(chan struct{}), certs: map[string]*tls.Certificate{},
		wgs: map[string]*wgInst{}, runs: map[uint32]int{}, nextRun: map[uint32]time.Time{}}
	if r.logf == nil {
		r.logf = func(string, ...any) {}
	}
	r.clk = newClock(time.Now(), o.ClockSpeed)
	if err := r.boot(ctx, o.Config); err != nil {
		return nil, err
	}
	if o.Cert == "auto" {
		if err := r.installAutoCert(); err != nil {
			return nil, err
		}
	}
	r.net = newNetwork(r)
	if err := r.net.start(ctx); err != nil {
		r.Close()
		return nil, err
	}
	r.reconcile(nil)
	r.bg.Add(1)
	go r.schedulerLoop()
	r.fireStartup()
	return r, nil
}

// boot builds a fresh state from config text.
func (r *Router) boot(ctx context.Context, config string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st = newState(r.o.Version)
	r.hw = hardwareOf(config)
	r.bootTime = r.clk.now()
	r.runs = map[uint32]int{}
	r.nextRun = map[uint32]time.Time{}
	r.initDefaults(config)
	r.loading = true
	err := r.loadConfig(ctx, config)
	r.loading = false
	if err != nil {
		return err
	}
	r.fitDynamicRoutes()
	r.saved = config
	r.dirty = nil
	return nil
}

var (
	etherRe = regexp.MustCompile(`\bether(\d+)\b`)
	// portRe finds the other ethernet-like ports of bigger models in a config.
	portRe = regexp.MustCompile(`\b(sfp\d+|sfp-sfpplus\d+|sfp28-\d+|qsfpplus\d+-\d+|qsfp28-\d+-\d+|combo\d+)\b`)
)

// initDefaults fills the state a RouterOS router has before any configuration.
func (r *Router) initDefaults(config string) {
	st := r.st
	for _, m := range []string{"/system identity", "/system resource", "/system routerboard", "/system clock", "/ip cloud", "/system note"} {
		t := st.tables[m]
		t.items = append(t.items, st.newItem(t))
	}
	pkg := st.tables["/system package"]
	it := st.newItem(pkg)
	it.props = map[string]string{"name": "routeros", "version": r.o.Version, "build-time": "2025-11-01 10:00:00", "size": "12.9MiB"}
	it.builtin = true
	pkg.items = append(pkg.items, it)

	ports := 5
	for _, m := range etherRe.FindAllStringSubmatch(config, -1) {
		if n, _ := strconv.Atoi(m[1]); n > ports && n <= 64 {
			ports = n
		}
	}
	for _, l := range r.o.Listen {
		if m := etherRe.FindStringSubmatch(l.Iface); m != nil {
			if n, _ := strconv.Atoi(m[1]); n > ports && n <= 64 {
				ports = n
			}
		}
	}
	eth := st.tables["/interface ethernet"]
	names := []string{}
	for i := 1; i <= ports; i++ {
		names = append(names, "ether"+strconv.Itoa(i))
	}
	seen := map[string]bool{}
	for _, m := range portRe.FindAllString(config, -1) {
		if !seen[m] {
			seen[m] = true
			names = append(names, m)
		}
	}
	for _, name := range names {
		it := st.newItem(eth)
		it.props = map[string]string{"name": name, "default-name": name}
		it.order = []string{"name", "default-name"}
		it.builtin = true
		eth.items = append(eth.items, it)
	}
	lists := st.tables["/interface list"]
	for _, n := range []string{"all", "none", "dynamic", "static"} {
		it := st.newItem(lists)
		it.props = map[string]string{"name": n}
		it.dynamic, it.builtin = true, true
		lists.items = append(lists.items, it)
	}
	groups := st.tables["/user group"]
	for _, g := range []struct{ name, policy string }{
		{"read", "local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api,!ftp,!write,!policy"},
		{"write", "local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api,!ftp,!policy"},
		{"full", "local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,rest-api"},
	} {
		it := st.newItem(groups)
		it.props = map[string]string{"name": g.name}
		it.defaults = map[string]string{"policy": g.policy}
		it.builtin = true
		groups.items = append(groups.items, it)
	}
	users := st.tables["/user"]
	u := st.newItem(users)
	u.props = map[string]string{"name": r.o.User, "group": "full", "password": r.o.Password}
	users.items = append(users.items, u)

	svc := st.tables["/ip service"]
	for _, s := range []struct {
		name string
		port int
		dis  bool
	}{{"telnet", 23, false}, {"ftp", 21, false}, {"www", 80, false}, {"ssh", 22, false}, {"www-ssl", 443, true}, {"api", 8728, false}, {"winbox", 8291, false}, {"api-ssl", 8729, false}} {
		it := st.newItem(svc)
		p := strconv.Itoa(s.port)
		it.props = map[string]string{"name": s.name}
		it.defaults = map[string]string{"port": p, "disabled": strconv.FormatBool(s.dis)}
		it.builtin = true
		svc.items = append(svc.items, it)
	}
	for _, d := range r.o.DynamicAddresses {
		t := st.tables["/ip address"]
		it := st.newItem(t)
		it.props = map[string]string{"address": d.Prefix.String(), "network": d.Prefix.Masked().Addr().String(), "interface": d.Iface}
		it.dynamic = true
		t.items = append(t.items, it)
		// DHCP and PPPoE clients install a dynamic default route by default.
		rt := st.tables["/ip route"]
		gw := d.Iface
		if !strings.HasPrefix(d.Iface, "pppoe") {
			gw = d.Prefix.Masked().Addr().Next().String()
		}
		route := st.newItem(rt)
		route.props = map[string]string{"dst-address": "0.0.0.0/0", "gateway": gw, "distance": "1"}
		route.order = []string{"dst-address", "gateway", "distance"}
		route.dynamic = true
		rt.items = append(rt.items, route)
	}
}

// Info says where the router listens and which certificate api-ssl serves.
func (r *Router) Info() Info {
	info := Info{Listen: r.net.info(), WireGuard: map[string]uint16{}}
	if c := r.currentCert(); c != nil {
		info.Fingerprint = fingerprint(c)
	}
	r.mu.Lock()
	for name, w := range r.wgs {
		info.WireGuard[name] = w.port
	}
	r.mu.Unlock()
	return info
}

// Stats returns the counters.
func (r *Router) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Close stops every listener, connection, WireGuard device and background job.
func (r *Router) Close() error {
	r.stopMu.Do(func() { close(r.stop) })
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	var errs []error
	if r.net != nil {
		errs = append(errs, r.net.close())
	}
	r.recMu.Lock()
	r.mu.Lock()
	wgs := r.wgs
	r.wgs = map[string]*wgInst{}
	r.mu.Unlock()
	for _, w := range wgs {
		errs = append(errs, w.shut())
		r.retire(w)
	}
	r.recMu.Unlock()
	r.bg.Wait()
	return errors.Join(errs...)
}

// subscribe returns a channel signalled after each change to menu.
func (r *Router) subscribe(menu string) chan struct{} {
	ch := make(chan struct{}, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.subs == nil {
		r.subs = map[string]map[chan struct{}]bool{}
	}
	if r.subs[menu] == nil {
		r.subs[menu] = map[chan struct{}]bool{}
	}
	r.subs[menu][ch] = true
	return ch
}

func (r *Router) unsubscribe(menu string, ch chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.subs[menu], ch)
}

// notify signals followers of menu (and of /interface for the typed
// interface menus). Caller holds r.mu.
func (r *Router) notify(menu string) {
	for _, m := range []string{menu, "/interface"} {
		if m == "/interface" && !strings.HasPrefix(menu, "/interface ") {
			continue
		}
		for ch := range r.subs[m] {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// touched marks a menu changed; reconcile follows once the command is done.
func (r *Router) touched(menu string) {
	r.notify(menu)
	if menu == "/ip firewall address-list" {
		r.listGen++
	}
	if r.dirty == nil {
		r.dirty = map[string]bool{}
	}
	r.dirty[menu] = true
	if menu == "/ip firewall filter" {
		r.fasttrackDummy()
	}
}

// fasttrackDummy keeps the dynamic counter rule RouterOS shows at the top of
// the filter table while a fasttrack-connection rule exists.
func (r *Router) fasttrackDummy() {
	t := r.st.tables["/ip firewall filter"]
	has := false
	for _, it := range t.items {
		if !it.dynamic && it.props["action"] == "fasttrack-connection" {
			has = true
		}
	}
	var dummy *item
	for _, it := range t.items {
		if it.dynamic && it.props["comment"] == fasttrackComment {
			dummy = it
		}
	}
	switch {
	case has && dummy == nil:
		it := r.st.newItem(t)
		it.props = map[string]string{"chain": "forward", "action": "passthrough", "comment": fasttrackComment}
		it.order = []string{"chain", "action", "comment"}
		it.dynamic = true
		t.items = append([]*item{it}, t.items...)
	case !has && dummy != nil:
		i, _ := t.byID(dummy.id)
		t.items = append(t.items[:i], t.items[i+1:]...)
	}
}

const fasttrackComment = "special dummy rule to show fasttrack counters"

// simClock is the router's clock, running ClockSpeed times real time.
type simClock struct {
	mu       sync.Mutex // guards following
	base     time.Time  // simulated time at realBase
	realBase time.Time
	speed    float64
}

func newClock(now time.Time, speed float64) *simClock {
	return &simClock{base: now, realBase: now, speed: speed}
}

func (c *simClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := time.Since(c.realBase)
	return c.base.Add(time.Duration(float64(el) * c.speed))
}

func (c *simClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.realBase = t, time.Now()
}

// real converts a simulated duration to wall time.
func (c *simClock) real(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.speed)
}

// parseClock reads "HH:MM:SS" as the time since midnight.
func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04:05", s)
	if err != nil {
		return 0, fmt.Errorf("sim: invalid time %q", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second, nil
}

// parseDate reads a date in the 7.10+ ISO form or the older "jan/02/2006".
func parseDate(s string) (time.Time, error) {
	for _, f := range []string{"2006-01-02", "Jan/02/2006", "jan/02/2006"} {
		if t, err := time.Parse(f, s); err == nil {
			return t, nil
		}
	}
	if len(s) == 11 && s[3] == '/' {
		if t, err := time.Parse("Jan/02/2006", string(s[0]-32)+s[1:]); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("sim: invalid date %q", s)
}

// parseDateInput reads a date a client gives. From 7.10 both forms are
// taken; before 7.10 only the old "dec/06/2026" form: whether those versions
// take ISO dates is not documented, so rossim refuses them there (the
// conservative side: a client that writes what the clock prints works on
// either).
func (r *Router) parseDateInput(s string) (time.Time, error) {
	if !versionAtLeast(r.o.Version, "7.10") && strings.Contains(s, "-") {
		return time.Time{}, fmt.Errorf("sim: RouterOS %s takes dates as mmm/dd/yyyy, not %q", r.o.Version, s)
	}
	return parseDate(s)
}

// formatDate writes a date as the emulated version prints it.
func (r *Router) formatDate(t time.Time) string {
	if versionAtLeast(r.o.Version, "7.10") {
		return t.Format("2006-01-02")
	}
	m := t.Format("Jan")
	return string(m[0]+32) + m[1:] + t.Format("/02/2006")
}
