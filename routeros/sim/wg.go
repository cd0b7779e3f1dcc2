package sim

import (
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/wgboot/wgboot/firewall"
	"github.com/wgboot/wgboot/routeros/sim/wgdev"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// wgInst is the running WireGuard device of one /interface wireguard, with
// the API served inside its tunnel.
type wgInst struct {
	name string
	key  string
	port uint16
	mtu  int
	dev  *wgdev.Device
	lns  map[string]*svcListener // service -> listener inside the tunnel
	wg   sync.WaitGroup          // accept loops and sessions inside the tunnel

	mu     sync.Mutex // guards following
	conns  map[net.Conn]struct{}
	closed bool
}

// shut stops the device at once: its listeners and every connection inside
// the tunnel go with it. It does not wait for the sessions' goroutines: one
// of them may be the very command that removed the interface, or a command
// waiting for r.recMu, which the caller holds (finding 11). The router
// waits for them through retire.
func (w *wgInst) shut() error {
	for _, l := range w.lns {
		l.ln.Close()
	}
	w.mu.Lock()
	w.closed = true
	for c := range w.conns {
		c.Close()
	}
	w.mu.Unlock()
	return w.dev.Close()
}

// retire waits, in the background, for the sessions of shut instances to
// end, so that Close still waits for every goroutine it owns.
func (r *Router) retire(insts ...*wgInst) {
	for _, inst := range insts {
		r.bg.Add(1)
		go func() {
			defer r.bg.Done()
			inst.wg.Wait()
		}()
	}
}

type peerStat = wgdev.PeerStats

// peerStats are the device figures of one peer, as last refreshed.
// Caller holds r.mu.
func (r *Router) peerStats(iface, pub string) (peerStat, bool) {
	k, err := wgtypes.ParseKey(pub)
	if err != nil {
		return peerStat{}, false
	}
	for _, s := range r.peerCache[iface] {
		if s.PublicKey == k {
			return s, true
		}
	}
	return peerStat{}, false
}

// refreshPeerStats reads every device's peer figures. It must not run under
// r.mu: a device asks the firewall (which takes r.mu) while holding its own
// locks, and reading its figures needs those locks.
func (r *Router) refreshPeerStats() {
	r.mu.Lock()
	devs := map[string]*wgdev.Device{}
	for name, w := range r.wgs {
		devs[name] = w.dev
	}
	r.mu.Unlock()
	stats := map[string][]wgdev.PeerStats{}
	for name, d := range devs {
		stats[name] = d.Stats()
	}
	r.mu.Lock()
	r.peerCache = stats
	r.mu.Unlock()
}

// wgWant is what one WireGuard interface should look like.
type wgWant struct {
	name  string
	key   string
	port  uint16
	mtu   int
	addrs []netip.Prefix
	peers []wgdev.Peer
	svc   map[string]uint16
}

// reconcileWG makes the WireGuard devices follow the state: created,
// re-keyed, re-addressed, given their peers, or closed at once. Caller
// holds r.recMu, not r.mu.
func (r *Router) reconcileWG() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	want := map[string]*wgWant{}
	wgt := r.st.tables["/interface wireguard"]
	for _, it := range wgt.items {
		if wgt.disabled(it) {
			continue
		}
		p, _ := wgt.get(it, "listen-port")
		port, _ := strconv.Atoi(p)
		m, _ := wgt.get(it, "mtu")
		mtu, _ := strconv.Atoi(m)
		want[it.props["name"]] = &wgWant{name: it.props["name"], key: it.props["private-key"], port: uint16(port), mtu: mtu, svc: map[string]uint16{}}
	}
	at := r.st.tables["/ip address"]
	for _, it := range at.items {
		if w := want[it.props["interface"]]; w != nil && !at.disabled(it) {
			if p, err := netip.ParsePrefix(it.props["address"]); err == nil {
				w.addrs = append(w.addrs, p)
			}
		}
	}
	pt := r.st.tables["/interface wireguard peers"]
	for _, it := range pt.items {
		w := want[it.props["interface"]]
		if w == nil {
			continue
		}
		if p, ok := peerOf(pt, it); ok {
			w.peers = append(w.peers, p)
		}
	}
	svc := r.st.tables["/ip service"]
	for _, name := range tcpServices {
		if it := r.findOne(svc, name); it != nil && !svc.disabled(it) {
			p, _ := svc.get(it, "port")
			port, _ := strconv.Atoi(p)
			for _, w := range want {
				w.svc[name] = uint16(port)
			}
		}
	}
	have := map[string]*wgInst{}
	for k, v := range r.wgs {
		have[k] = v
	}
	r.mu.Unlock()

	for name, inst := range have {
		w := want[name]
		if w == nil || w.key != inst.key || w.port != inst.port || w.mtu != inst.mtu {
			r.mu.Lock()
			delete(r.wgs, name)
			r.mu.Unlock()
			_ = inst.shut()
			r.retire(inst)
			delete(have, name)
		}
	}
	for name, w := range want {
		inst := have[name]
		if inst == nil {
			var err error
			if inst, err = r.newWG(w); err != nil {
				r.logf("sim: wireguard %s: %v", name, err)
				continue
			}
			r.mu.Lock()
			r.wgs[name] = inst
			r.mu.Unlock()
		}
		if err := inst.dev.SetAddresses(w.addrs); err != nil {
			r.logf("sim: wireguard %s: addresses: %v", name, err)
		}
		if err := inst.dev.SetPeers(w.peers); err != nil {
			r.logf("sim: wireguard %s: peers: %v", name, err)
		}
		r.tunnelServices(inst, w.svc)
	}
}

func peerOf(t *table, it *item) (wgdev.Peer, bool) {
	k, err := wgtypes.ParseKey(it.props["public-key"])
	if err != nil {
		return wgdev.Peer{}, false
	}
	p := wgdev.Peer{PublicKey: k, Disabled: t.disabled(it)}
	if v := it.props["preshared-key"]; v != "" {
		if psk, err := wgtypes.ParseKey(v); err == nil {
			b := [32]byte(psk)
			p.PresharedKey = &b
		}
	}
	for _, a := range splitList(it.props["allowed-address"]) {
		if pr, err := netip.ParsePrefix(a); err == nil {
			p.AllowedIPs = append(p.AllowedIPs, pr)
		} else if ad, err := netip.ParseAddr(a); err == nil {
			p.AllowedIPs = append(p.AllowedIPs, netip.PrefixFrom(ad, ad.BitLen()))
		}
	}
	if ad, err := netip.ParseAddr(it.props["endpoint-address"]); err == nil {
		port, _ := strconv.Atoi(it.props["endpoint-port"])
		if port > 0 {
			p.Endpoint = netip.AddrPortFrom(ad, uint16(port))
		}
	}
	if v, _ := t.get(it, "persistent-keepalive"); v != "" {
		if d, err := parseDuration(v); err == nil {
			p.Keepalive = d
		}
	}
	return p, true
}

func (r *Router) newWG(w *wgWant) (*wgInst, error) {
	k, err := wgtypes.ParseKey(w.key)
	if err != nil {
		return nil, err
	}
	var listen []netip.AddrPort
	for _, la := range r.net.addrs {
		listen = append(listen, netip.AddrPortFrom(la.addr, w.port))
	}
	name := w.name
	dev, err := wgdev.New(wgdev.Options{
		PrivateKey: k,
		Listen:     listen,
		Addresses:  w.addrs,
		MTU:        w.mtu,
		Latency:    r.o.Latency,
		Logf:       func(f string, a ...any) { r.logf("sim: wg %s: "+f, append([]any{name}, a...)...) },
		Admit:      func(local, remote netip.AddrPort) bool { return r.admitUDP(local, remote) },
	})
	if err != nil {
		return nil, err
	}
	return &wgInst{name: w.name, key: w.key, port: w.port, mtu: w.mtu, dev: dev, lns: map[string]*svcListener{}, conns: map[net.Conn]struct{}{}}, nil
}

// admitUDP runs a new WireGuard flow through the input chain.
func (r *Router) admitUDP(local, remote netip.AddrPort) bool {
	var la *listenAddr
	for i := range r.net.addrs {
		if r.net.addrs[i].addr == local.Addr().Unmap() {
			la = &r.net.addrs[i]
		}
	}
	if la == nil {
		return false
	}
	src := la.src
	if !src.IsValid() {
		src = remote.Addr().Unmap()
	}
	r.udpSrcMu.Lock()
	if r.udpSrc == nil {
		r.udpSrc = map[netip.AddrPort]netip.Addr{}
	}
	r.udpSrc[netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())] = src
	r.udpSrcMu.Unlock()
	v := r.evaluate(firewall.Packet{InInterface: la.iface, Src: src, Dst: r.ifaceAddr(la.iface, src, la.addr), Protocol: "udp",
		SrcPort: remote.Port(), DstPort: local.Port(), State: "new"}, true)
	return v.Action == "accept"
}

// tunnelServices serves the API inside the tunnel at the service ports.
func (r *Router) tunnelServices(inst *wgInst, ports map[string]uint16) {
	for name, l := range inst.lns {
		if p, ok := ports[name]; !ok || p != l.port {
			l.ln.Close()
			delete(inst.lns, name)
		}
	}
	for name, port := range ports {
		if _, ok := inst.lns[name]; ok {
			continue
		}
		ln, err := inst.dev.ListenTCP(port)
		if err != nil {
			r.logf("sim: wireguard %s: %s: %v", inst.name, name, err)
			continue
		}
		inst.lns[name] = &svcListener{ln: ln, port: port}
		inst.wg.Add(1)
		go func() {
			defer inst.wg.Done()
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				local, _ := netip.ParseAddrPort(nc.LocalAddr().String())
				la := listenAddr{iface: inst.name, addr: local.Addr()}
				inst.mu.Lock()
				if inst.closed {
					// Accepted just before shut closed the listener.
					inst.mu.Unlock()
					nc.Close()
					return
				}
				inst.conns[nc] = struct{}{}
				inst.mu.Unlock()
				inst.wg.Add(1)
				go func() {
					defer inst.wg.Done()
					r.net.serveConn(nc, la, name, port)
					inst.mu.Lock()
					delete(inst.conns, nc)
					inst.mu.Unlock()
				}()
			}
		}()
	}
}

// modelledSrc is the address the router sees a WireGuard peer's packets
// come from: the Src of the listen address the flow arrived on, else the
// real remote address.
func (r *Router) modelledSrc(remote netip.AddrPort) netip.Addr {
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	r.udpSrcMu.Lock()
	defer r.udpSrcMu.Unlock()
	if a, ok := r.udpSrc[remote]; ok {
		return a
	}
	return remote.Addr()
}
