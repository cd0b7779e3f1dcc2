package sim

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/wgboot/wgboot/firewall"
)

// tcpServices are the /ip service entries rossim binds; the others are
// stored and exported but not served. ssh, winbox and www only greet (see
// servePlain), so that firewall verdicts on them can be probed on the wire.
var tcpServices = []string{"api", "api-ssl", "ssh", "winbox", "www"}

// apiService reports the services that speak the RouterOS API.
func apiService(name string) bool { return name == "api" || name == "api-ssl" }

type listenAddr struct {
	iface string
	addr  netip.Addr
	src   netip.Addr
}

type lnKey struct {
	idx     int
	service string
}

type svcListener struct {
	ln   net.Listener
	port uint16
}

// tracked is one TCP connection the router holds, for connection tracking.
type tracked struct {
	nc      net.Conn
	pkt     firewall.Packet
	api     *apiConn // nil while the firewall drops it (never answered)
	service string
}

// network binds the router's services on the listen addresses and applies
// the input firewall to every new connection.
type network struct {
	r     *Router
	addrs []listenAddr
	wg    sync.WaitGroup

	mu     sync.Mutex // guards following
	lns    map[lnKey]*svcListener
	conns  map[*tracked]struct{}
	closed bool
}

func newNetwork(r *Router) *network {
	return &network{r: r, lns: map[lnKey]*svcListener{}, conns: map[*tracked]struct{}{}}
}

func (n *network) start(ctx context.Context) error {
	for _, l := range n.r.o.Listen {
		a := l.Addr
		if !a.IsValid() {
			a = freeLoopback()
		}
		if !a.IsLoopback() {
			return fmt.Errorf("sim: listen address %s is not a loopback address", a)
		}
		n.addrs = append(n.addrs, listenAddr{iface: l.Iface, addr: a, src: l.Src})
	}
	return n.reconcile()
}

// freeLoopback picks a random 127.x.y.z address on which the default API
// ports are free (the whole 127/8 is routed to lo on Linux).
func freeLoopback() netip.Addr {
	var a netip.Addr
	for try := 0; try < 20; try++ {
		a = netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(254))})
		free := true
		for _, port := range []uint16{8728, 8729} {
			ln, err := net.Listen("tcp", netip.AddrPortFrom(a, port).String())
			if err != nil {
				free = false
				break
			}
			ln.Close()
		}
		if free {
			break
		}
	}
	return a
}

// reconcile binds each enabled TCP service at its configured port and
// closes listeners of disabled services or changed ports.
func (n *network) reconcile() error {
	r := n.r
	want := map[lnKey]uint16{}
	r.mu.Lock()
	svc := r.st.tables["/ip service"]
	for _, name := range tcpServices {
		it := r.findOne(svc, name)
		if it == nil || svc.disabled(it) {
			continue
		}
		p, _ := svc.get(it, "port")
		port, _ := strconv.Atoi(p)
		for i := range n.addrs {
			want[lnKey{i, name}] = uint16(port)
		}
	}
	r.mu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	for k, l := range n.lns {
		if p, ok := want[k]; !ok || p != l.port {
			l.ln.Close()
			delete(n.lns, k)
		}
	}
	var firstErr error
	for k, port := range want {
		if _, ok := n.lns[k]; ok {
			continue
		}
		la := n.addrs[k.idx]
		ln, err := net.Listen("tcp", netip.AddrPortFrom(la.addr, port).String())
		if err != nil {
			if !apiService(k.service) {
				// Ports below 1024 need privileges rossim may not have; the
				// greeting services are a convenience, the API is not.
				r.logf("sim: %s not served on %s port %d: %v", k.service, la.addr, port, err)
				continue
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("sim: bind %s on %s port %d: %w", k.service, la.addr, port, err)
			}
			continue
		}
		n.lns[k] = &svcListener{ln: ln, port: port}
		n.wg.Add(1)
		go n.accept(ln, la, k.service, port)
	}
	return firstErr
}

func (n *network) accept(ln net.Listener, la listenAddr, service string, port uint16) {
	defer n.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.serveConn(nc, la, service, port)
		}()
	}
}

// serveConn applies the firewall and the service's address restriction to
// a new connection, then serves the API on it.
func (n *network) serveConn(nc net.Conn, la listenAddr, service string, port uint16) {
	r := n.r
	remote, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
	src := la.src
	if !src.IsValid() {
		src = remote.Addr().Unmap()
	}
	pkt := firewall.Packet{InInterface: la.iface, Src: src, Dst: r.ifaceAddr(la.iface, src, la.addr), Protocol: "tcp", SrcPort: remote.Port(), DstPort: port, State: "new"}
	v := r.evaluate(pkt, true)
	r.logf("sim: %s %s:%d -> %s:%d on %s: %s (%s %d)", service, src, pkt.SrcPort, pkt.Dst, port, la.iface, v.Action, v.Stage, v.Index)
	tr := &tracked{nc: nc, pkt: pkt, service: service}
	switch v.Action {
	case "reject":
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST, as tcp-reset does
		}
		nc.Close()
		return
	case "drop":
		n.hold(tr)
		return
	}
	// Only the SYN is new: the handshake's last ACK and every request after
	// it are established. A ruleset that accepts new but drops established
	// traffic lets the client connect and then never answers it, from the
	// start, not only after the next firewall change (finding 11).
	est := pkt
	est.State = "established"
	if ev := r.evaluate(est, false); ev.Action != "accept" {
		r.logf("sim: %s %s:%d -> %s:%d on %s: established traffic %s (%s %d)", service, src, pkt.SrcPort, pkt.Dst, port, la.iface, ev.Action, ev.Stage, ev.Index)
		r.mu.Lock()
		r.stats.Dropped++
		r.mu.Unlock()
		n.hold(tr)
		return
	}
	if !r.serviceAllows(service, src) {
		// RouterOS denies access without dropping packets: the connection stays silent.
		r.logf("sim: %s from %s refused by /ip service address", service, src)
		n.hold(tr)
		return
	}
	if !apiService(service) {
		n.servePlain(tr)
		return
	}
	conn := nc
	if service == "api-ssl" {
		cert := r.currentCert()
		if cert == nil {
			r.logf("sim: api-ssl from %s: no certificate, handshake refused", src)
			_ = refuseTLS(nc)
			nc.Close()
			return
		}
		tc := tls.Server(nc, &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12})
		conn = tc
	}
	c := r.newAPIConn(conn, src, service)
	tr.api = c
	if !n.track(tr) {
		nc.Close()
		return
	}
	c.serve()
	n.untrack(tr)
}

// Greetings of the services rossim binds but does not implement.
const (
	sshBanner    = "SSH-2.0-ROSSSH\r\n"
	winboxBanner = "ROSSIM-WINBOX\r\n"
	wwwPage      = "<html><head><title>RouterOS router configuration page</title></head></html>\n"
)

// servePlain answers an accepted ssh, winbox or www connection just enough
// to tell it apart from a dropped one (silent) or a rejected one (reset):
// ssh sends its version line as a real SSH server does, winbox a line of
// rossim's own, www answers the first HTTP request with a page and closes.
// Nothing behind the greeting is implemented.
func (n *network) servePlain(tr *tracked) {
	if !n.track(tr) {
		tr.nc.Close()
		return
	}
	defer n.untrack(tr)
	defer tr.nc.Close()
	switch tr.service {
	case "ssh":
		if _, err := io.WriteString(tr.nc, sshBanner); err != nil {
			return
		}
	case "winbox":
		if _, err := io.WriteString(tr.nc, winboxBanner); err != nil {
			return
		}
	case "www":
		br := bufio.NewReader(io.LimitReader(tr.nc, 64<<10))
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if strings.TrimRight(line, "\r\n") == "" {
				break
			}
		}
		_, _ = fmt.Fprintf(tr.nc, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(wwwPage), wwwPage)
		return
	}
	_, _ = io.Copy(io.Discard, tr.nc)
}

// hold keeps a dropped connection open and silent until the client leaves.
func (n *network) hold(tr *tracked) {
	if !n.track(tr) {
		tr.nc.Close()
		return
	}
	_, _ = io.Copy(io.Discard, tr.nc)
	tr.nc.Close()
	n.untrack(tr)
}

func (n *network) track(tr *tracked) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	n.conns[tr] = struct{}{}
	return true
}

func (n *network) untrack(tr *tracked) {
	n.mu.Lock()
	delete(n.conns, tr)
	n.mu.Unlock()
}

// recheck re-evaluates live connections as established traffic after a
// firewall change: those the ruleset no longer accepts go silent.
func (n *network) recheck() {
	n.mu.Lock()
	var live []*tracked
	for tr := range n.conns {
		if tr.api != nil {
			live = append(live, tr)
		}
	}
	n.mu.Unlock()
	for _, tr := range live {
		p := tr.pkt
		p.State = "established"
		v := n.r.evaluate(p, false)
		tr.api.silent.Store(v.Action != "accept")
	}
}

// severAll cuts every open API connection (DropAfterCommands, reboot).
func (n *network) severAll() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	for tr := range n.conns {
		tr.nc.Close()
	}
	return len(n.conns)
}

func (n *network) info() []ListenInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []ListenInfo
	for i, la := range n.addrs {
		li := ListenInfo{Iface: la.iface, Addr: la.addr}
		if l := n.lns[lnKey{i, "api"}]; l != nil {
			li.API = l.port
		}
		if l := n.lns[lnKey{i, "api-ssl"}]; l != nil {
			li.APISSL = l.port
		}
		if l := n.lns[lnKey{i, "ssh"}]; l != nil {
			li.SSH = l.port
		}
		if l := n.lns[lnKey{i, "winbox"}]; l != nil {
			li.Winbox = l.port
		}
		if l := n.lns[lnKey{i, "www"}]; l != nil {
			li.WWW = l.port
		}
		out = append(out, li)
	}
	return out
}

func (n *network) close() error {
	n.mu.Lock()
	n.closed = true
	for k, l := range n.lns {
		l.ln.Close()
		delete(n.lns, k)
	}
	for tr := range n.conns {
		tr.nc.Close()
	}
	n.mu.Unlock()
	n.wg.Wait()
	return nil
}

func (r *Router) severAll() {
	if r.net == nil {
		return
	}
	k := r.net.severAll()
	r.mu.Lock()
	r.stats.Severed += int64(k)
	r.mu.Unlock()
}

// serviceConnections are the dynamic /ip service entries of 7.19 and
// later: one per open connection to a service, named after it. The caller
// holds r.mu (n.mu is a leaf).
func (r *Router) serviceConnections() []*item {
	if r.net == nil {
		return nil
	}
	n := r.net
	n.mu.Lock()
	var trs []*tracked
	for tr := range n.conns {
		if tr.api != nil { // a held (dropped) connection was never made
			trs = append(trs, tr)
		}
	}
	n.mu.Unlock()
	sort.Slice(trs, func(i, j int) bool { return trs[i].pkt.SrcPort < trs[j].pkt.SrcPort })
	var out []*item
	for i, tr := range trs {
		it := &item{id: 0xF000 + uint32(i), dynamic: true, props: map[string]string{
			"name": tr.service, "port": strconv.Itoa(int(tr.pkt.DstPort)), "proto": "tcp",
			"local": tr.pkt.Dst.String(), "remote": netip.AddrPortFrom(tr.pkt.Src, tr.pkt.SrcPort).String(),
			"connection": "true",
		}}
		out = append(out, it)
	}
	return out
}

// ifaceAddr is the router's address on iface (what the packet is sent to),
// of the family of src: a listener whose Src is an IPv6 address stands for
// the router's IPv6 side (its first global /ipv6 address on iface).
func (r *Router) ifaceAddr(iface string, src, fallback netip.Addr) netip.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	menu := "/ip address"
	if src.Is6() {
		menu = "/ipv6 address"
	}
	t := r.st.tables[menu]
	for _, it := range t.items {
		if it.props["interface"] == iface && !t.disabled(it) {
			if p, err := netip.ParsePrefix(it.props["address"]); err == nil && p.Addr().Is6() == src.Is6() && !p.Addr().IsLinkLocalUnicast() {
				return p.Addr()
			}
		}
	}
	if src.Is6() {
		return netip.IPv6Unspecified()
	}
	return fallback
}

// serviceAllows applies /ip service address (available-from from 7.24).
func (r *Router) serviceAllows(service string, src netip.Addr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.st.tables["/ip service"]
	it := r.findOne(t, service)
	if it == nil {
		return false
	}
	list := serviceAddress(t, it)
	return list == "" || addrInList(list, src)
}

// evaluate runs a packet through the input path and, for a new flow,
// counts rule hits, writes log lines and updates the statistics.
func (r *Router) evaluate(p firewall.Packet, count bool) firewall.Verdict {
	r.mu.Lock()
	defer r.mu.Unlock()
	tables := firewall.Tables{}
	var raw, nat, filter []*item
	conv := func(menu string) ([]firewall.Rule, []*item) {
		t := r.st.tables[menu]
		var rules []firewall.Rule
		for _, it := range t.items {
			rule := firewall.Rule{".id": formatID(it.id)}
			for k, v := range it.props {
				rule[k] = v
			}
			rules = append(rules, rule)
		}
		return rules, t.items
	}
	if p.Src.Is6() {
		// IPv6 has its own filter (/ipv6 firewall nat and raw are kept as
		// generic items with no effect).
		tables.Filter, filter = conv("/ipv6 firewall filter")
	} else {
		tables.Filter, filter = conv("/ip firewall filter")
		tables.NAT, nat = conv("/ip firewall nat")
		tables.Raw, raw = conv("/ip firewall raw")
	}
	v := firewall.EvaluateInput(tables, r.env(), p)
	if !count {
		return v
	}
	for _, h := range v.Hits {
		var items []*item
		switch h.Table {
		case "filter":
			items = filter
		case "nat":
			items = nat
		case "raw":
			items = raw
		}
		if h.Index >= 0 && h.Index < len(items) {
			items[h.Index].packets++
			items[h.Index].bytes += 60 // a SYN or a handshake initiation, roughly
		}
	}
	for _, l := range v.Logs {
		msg := l.Message
		if l.Prefix != "" {
			msg = l.Prefix + " " + msg
		}
		r.appendLog("firewall,info", msg)
	}
	switch v.Action {
	case "accept":
		r.stats.Accepted++
	case "reject":
		r.stats.Rejected++
	default:
		r.stats.Dropped++
	}
	return v
}

// env gathers interfaces, lists and local addresses for the evaluator.
// The caller holds r.mu.
func (r *Router) env() firewall.Env {
	st := r.st
	env := firewall.Env{AddressLists: map[string][]string{}}
	for _, ref := range st.interfaces() {
		env.Interfaces = append(env.Interfaces, firewall.Interface{Name: ref.name, Type: ref.typ, Dynamic: ref.it.dynamic})
	}
	// Resolved as the engine resolves them (one resolver for both).
	var lists []firewall.InterfaceList
	lt := st.tables["/interface list"]
	for _, it := range lt.items {
		lists = append(lists, firewall.InterfaceList{Name: it.props["name"], Include: it.props["include"], Exclude: it.props["exclude"]})
	}
	var members []firewall.ListMember
	mt := st.tables["/interface list member"]
	for _, it := range mt.items {
		if !mt.disabled(it) {
			members = append(members, firewall.ListMember{List: it.props["list"], Interface: it.props["interface"]})
		}
	}
	env.InterfaceLists = firewall.ResolveInterfaceLists(env.Interfaces, lists, members)
	env.AddressLists, env.Sets = r.addressLists()
	for _, menu := range []string{"/ip address", "/ipv6 address"} {
		addrT := st.tables[menu]
		for _, it := range addrT.items {
			if addrT.disabled(it) {
				continue
			}
			a, _, _ := strings.Cut(it.props["address"], "/")
			if ip, err := netip.ParseAddr(a); err == nil {
				env.LocalAddrs = append(env.LocalAddrs, ip)
			}
		}
	}
	if r.net != nil {
		for _, la := range r.net.addrs {
			env.LocalAddrs = append(env.LocalAddrs, la.addr)
		}
	}
	return env
}

// addressLists returns the enabled address-list entries by list and the
// lists compiled for the evaluator. They are rebuilt only after the table
// changed (listGen, or an item count that differs), not per packet: a
// router holding an imported blocklist of 50,000 entries would otherwise
// parse all of them for every packet. The caller holds r.mu.
func (r *Router) addressLists() (map[string][]string, map[string]*firewall.AddrSet) {
	at := r.st.tables["/ip firewall address-list"]
	if c := r.lists; c != nil && c.gen == r.listGen && c.n == len(at.items) {
		return c.entries, c.sets
	}
	entries := map[string][]string{}
	for _, it := range at.items {
		if !at.disabled(it) {
			entries[it.props["list"]] = append(entries[it.props["list"]], it.props["address"])
		}
	}
	r.lists = &listCache{gen: r.listGen, n: len(at.items), entries: entries, sets: firewall.CompileLists(entries)}
	return entries, r.lists.sets
}

// listCache is the compiled address lists of one state of the table.
type listCache struct {
	gen, n  int
	entries map[string][]string
	sets    map[string]*firewall.AddrSet
}

// appendLog writes one /log entry. The caller holds r.mu.
func (r *Router) appendLog(topics, msg string) {
	t := r.st.tables["/log"]
	it := r.st.newItem(t)
	now := r.clk.now()
	it.created = now
	it.props = map[string]string{"time": r.formatDateTime(now), "topics": topics, "message": msg}
	t.items = append(t.items, it)
	if len(t.items) > 1000 {
		t.items = t.items[len(t.items)-1000:]
	}
	r.notify("/log")
	r.logf("sim: log %s: %s", topics, msg)
}
