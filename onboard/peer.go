package onboard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wgboot/wgboot/vpn"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// peerKeyPrefix starts the tag key of a peer added after onboarding for
// another person or device: "wgboot:<run> peer:NAME". The run is the
// onboarding's, so a rollback of that run finds the peer by its tag even
// without a journal (journalFromTags) and with one (addedPeerOps).
const peerKeyPrefix = "peer:"

// peerNameRE is what a peer name may be: it goes into a router comment,
// a RouterOS name and a file name, so nothing that quotes, separates or
// climbs directories.
var peerNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// ValidatePeerName reports whether name can name a peer.
func ValidatePeerName(name string) error {
	if !peerNameRE.MatchString(name) {
		return fmt.Errorf("onboard: peer name %q: use 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// PeerInfo is one peer on the router's wgboot interface, as the router
// reports it.
type PeerInfo struct {
	Name          string `json:"name"`
	Address       string `json:"address"` // its tunnel address (allowed-address)
	PublicKey     string `json:"public_key"`
	LastHandshake string `json:"last_handshake,omitempty"` // as the router says it ("1m3s"); "" = never
	Endpoint      string `json:"endpoint,omitempty"`       // current endpoint address:port
	Rx            uint64 `json:"rx"`
	Tx            uint64 `json:"tx"`
	// Technician is the onboarding's own peer; Added a peer added by
	// wgboot peer add. A peer with neither is not wgboot's.
	Technician bool `json:"technician,omitempty"`
	Added      bool `json:"added,omitempty"`

	id       string
	endpoint netip.Addr
}

// NewPeer is a peer just added or rotated: its wg-quick config (the
// private key: never log it) and where it was written.
type NewPeer struct {
	PeerInfo
	Config     vpn.QuickConfig `json:"-"`
	ConfigPath string          `json:"config_path,omitempty"`
}

// wgSetup is the onboarding found on the router: its run, interface and
// the router's tunnel address.
type wgSetup struct {
	run, iface string
	port       int
	pub        wgtypes.Key
	routerAddr netip.Prefix // 10.77.0.1/24
}

// onboarded inspects the router and finds the onboarding peers belong to.
func (e *Engine) onboarded(ctx context.Context) (*wgSetup, error) {
	if e.cl == nil {
		return nil, errors.New("onboard: peers before connect")
	}
	r, err := inspect(ctx, e.cl)
	if err != nil {
		return nil, err
	}
	e.router = r
	run := r.onboardedRun()
	if run == "" {
		return nil, fmt.Errorf("onboard: %s (%s) is not onboarded by wgboot: run wgboot apply first", e.addr, r.Identity)
	}
	s := &wgSetup{run: run}
	for _, w := range r.WireGuard {
		if w["comment"] == tag(run, "wg-interface") {
			s.iface, s.port = w["name"], atoi(w["listen-port"])
			if s.pub, err = wgtypes.ParseKey(w["public-key"]); err != nil {
				return nil, fmt.Errorf("onboard: the public key of %s: %w", s.iface, err)
			}
		}
	}
	for _, a := range r.Addresses {
		if a["comment"] == tag(run, "wg-address") {
			if p, ok := ifacePrefix(a["address"]); ok {
				s.routerAddr = p
			}
		}
	}
	if !s.routerAddr.IsValid() || !s.routerAddr.Addr().Is4() {
		return nil, fmt.Errorf("onboard: the tunnel address of run %s (%s) is gone from /ip address: roll back and onboard again", run, tag(run, "wg-address"))
	}
	return s, nil
}

// peerName is how wgboot names a peer of run's interface: the name in
// wgboot's tag for a peer it added (the router's name property came only in
// 7.15), else the router's name, else "technician" for the run's own peer.
// A peer wgboot did not add and that has no name has none ("").
func peerName(run string, p Row) (name string, technician, added bool) {
	name = p["name"]
	switch c := p["comment"]; {
	case c == tag(run, "wg-peer"):
		if name == "" {
			name = "technician"
		}
		return name, true, false
	case strings.HasPrefix(c, tagPrefix+run+" "+peerKeyPrefix):
		return strings.TrimPrefix(c, tagPrefix+run+" "+peerKeyPrefix), false, true
	}
	return name, false, false
}

// peersOf are the peers on the setup's interface.
func (r *Router) peersOf(s *wgSetup) []PeerInfo {
	var out []PeerInfo
	for _, p := range r.Peers {
		if p["interface"] != s.iface {
			continue
		}
		pi := PeerInfo{Name: p["name"], Address: p["allowed-address"], PublicKey: p["public-key"], LastHandshake: p["last-handshake"], id: p[".id"]}
		pi.Rx, _ = strconv.ParseUint(p["rx"], 10, 64)
		pi.Tx, _ = strconv.ParseUint(p["tx"], 10, 64)
		if a, err := netip.ParseAddr(p["current-endpoint-address"]); err == nil && !a.IsUnspecified() {
			pi.endpoint = a.Unmap()
			pi.Endpoint = net.JoinHostPort(a.Unmap().String(), p["current-endpoint-port"])
		}
		pi.Name, pi.Technician, pi.Added = peerName(s.run, p)
		out = append(out, pi)
	}
	return out
}

// Peers lists the peers on the router's wgboot interface, read from the
// router (handshake, endpoint and traffic as it reports them).
func (e *Engine) Peers(ctx context.Context) ([]PeerInfo, error) {
	s, err := e.onboarded(ctx)
	if err != nil {
		return nil, err
	}
	// The inspection leaves the traffic counters out; no key but the
	// public one is read.
	rep, err := e.cl.Run(ctx, "/interface/wireguard/peers/print", "?interface="+s.iface,
		"=.proplist=.id,name,interface,public-key,allowed-address,current-endpoint-address,current-endpoint-port,last-handshake,rx,tx,comment")
	if err != nil {
		return nil, fmt.Errorf("onboard: list the peers of %s: %w", s.iface, err)
	}
	return (&Router{Peers: rowsOf(rep)}).peersOf(s), nil
}

// nextAddress is the first host of the VPN subnet that neither the router
// nor any peer of the interface uses.
func (r *Router) nextAddress(s *wgSetup) (netip.Addr, error) {
	var used []netip.Prefix
	used = append(used, netip.PrefixFrom(s.routerAddr.Addr(), 32))
	for _, p := range r.Peers {
		used = append(used, prefixes(p["allowed-address"])...)
	}
	sub := s.routerAddr.Masked()
	for a := sub.Addr().Next(); sub.Contains(a); a = a.Next() {
		if !sub.Contains(a.Next()) {
			break // the broadcast address
		}
		if !slices.ContainsFunc(used, func(p netip.Prefix) bool { return p.Contains(a) }) {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("onboard: the VPN subnet %s has no free address left: remove a peer first", sub)
}

// peerEndpoint is the host:port a new peer's config points at: --endpoint,
// else what the onboarding published, else the DDNS name or WAN address.
func (e *Engine) peerEndpoint(s *wgSetup) string {
	port := strconv.Itoa(s.port)
	if ep := e.o.Settings.Endpoint; ep != "" {
		if _, _, err := net.SplitHostPort(ep); err == nil {
			return ep
		}
		return net.JoinHostPort(strings.Trim(ep, "[]"), port)
	}
	if j, _, err := findJournal(e.o.StateDir, s.run, func(x *Journal) bool { return e.owns(x, e.router) }); err == nil && j != nil && j.Summary != nil && j.Summary.Endpoint != "" {
		return j.Summary.Endpoint
	}
	r := e.router
	if isTrue(r.Cloud["ddns-enabled"]) && r.Cloud["dns-name"] != "" {
		return net.JoinHostPort(r.Cloud["dns-name"], port)
	}
	wans, _ := wansOf(r)
	for _, w := range wans {
		if len(w.Addrs) > 0 {
			return net.JoinHostPort(w.Addrs[0].Addr().String(), port)
		}
	}
	return net.JoinHostPort(e.host, port)
}

// peerPath is where a peer's config is kept: next to the journal.
func (e *Engine) peerPath(name string) string {
	if e.o.StateDir == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(journalPath(e.o.StateDir, e.addr)), vpn.QuickFileName("peer-"+name))
}

// peerConfig writes a peer's wg-quick config to path (0600; "" writes
// nothing).
func (e *Engine) peerConfig(s *wgSetup, name, path string, key wgtypes.Key, psk *wgtypes.Key, addr netip.Addr, endpoint string) (*NewPeer, error) {
	qc := vpn.QuickConfig{
		Interface: vpn.QuickInterface{PrivateKey: key, Address: []netip.Prefix{netip.PrefixFrom(addr, s.routerAddr.Bits())}},
		Peer: vpn.QuickPeer{PublicKey: s.pub, Endpoint: endpoint, AllowedIPs: []netip.Prefix{netip.PrefixFrom(s.routerAddr.Addr(), 32)},
			PersistentKeepalive: defaultKeepSec * time.Second},
	}
	if psk != nil {
		qc.Peer.PresharedKey = *psk
	}
	np := &NewPeer{PeerInfo: PeerInfo{Name: name, Address: netip.PrefixFrom(addr, 32).String(), PublicKey: key.PublicKey().String(), Added: true}, Config: qc}
	if path != "" {
		np.ConfigPath = path
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("onboard: state dir: %w", err)
		}
		if err := vpn.WriteQuick(np.ConfigPath, qc); err != nil {
			return nil, fmt.Errorf("onboard: write the config of peer %s: %w", name, err)
		}
	}
	return np, nil
}

func (e *Engine) newPeerKeys(psk bool) (wgtypes.Key, *wgtypes.Key, error) {
	newKey := e.o.NewKey
	if newKey == nil {
		newKey = wgtypes.GeneratePrivateKey
	}
	key, err := newKey()
	if err != nil {
		return key, nil, fmt.Errorf("onboard: peer key: %w", err)
	}
	if !psk {
		return key, nil, nil
	}
	p, err := wgtypes.GenerateKey()
	if err != nil {
		return key, nil, fmt.Errorf("onboard: preshared key: %w", err)
	}
	return key, &p, nil
}

// AddPeer adds a peer for another person or device on the router's wgboot
// interface: the next free tunnel address, a keypair made here (only the
// public key and, with psk, a preshared key are sent), tagged
// "wgboot:<run> peer:NAME". Its wg-quick config is written to the state
// dir and returned.
func (e *Engine) AddPeer(ctx context.Context, name string, psk bool) (*NewPeer, error) {
	if err := ValidatePeerName(name); err != nil {
		return nil, err
	}
	s, err := e.onboarded(ctx)
	if err != nil {
		return nil, err
	}
	return e.addPeer(ctx, s, e.router, name, e.peerEndpoint(s), psk)
}

// addPeer adds name on s's interface; r holds the interface's peers (for
// the free address and the names in use).
func (e *Engine) addPeer(ctx context.Context, s *wgSetup, r *Router, name, endpoint string, psk bool) (*NewPeer, error) {
	for _, p := range r.peersOf(s) {
		if p.Added && p.Name == name || p.Name == name && e.router.minorVersion() >= 15 {
			return nil, fmt.Errorf("onboard: %s already has a peer named %s: remove it or rotate its key (wgboot peer rotate %s)", s.iface, name, name)
		}
	}
	addr, err := r.nextAddress(s)
	if err != nil {
		return nil, err
	}
	key, pk, err := e.newPeerKeys(psk)
	if err != nil {
		return nil, err
	}
	words := []string{"/interface/wireguard/peers/add", "=interface=" + s.iface, "=public-key=" + key.PublicKey().String(),
		"=allowed-address=" + netip.PrefixFrom(addr, 32).String(), "=comment=" + tag(s.run, peerKeyPrefix+name)}
	if e.router.MajorVersion() > 7 || e.router.minorVersion() >= 15 {
		words = append(words, "=name="+name) // the name property came in 7.15
	}
	if pk != nil {
		words = append(words, "=preshared-key="+pk.String())
	}
	np, err := e.peerConfig(s, name, e.peerPath(name), key, pk, addr, endpoint)
	if err != nil {
		return nil, err
	}
	rep, err := e.cl.Run(ctx, words...)
	if err != nil {
		os.Remove(np.ConfigPath)
		return nil, fmt.Errorf("onboard: add peer %s: %w", name, err)
	}
	np.id = rep.Done["ret"]
	e.emit(Event{Step: StepPeer, Kind: KindDone, Message: "added peer " + name + " at " + np.Address + " on " + s.iface})
	return np, nil
}

// findAdded finds the added peer name on the router.
func (e *Engine) findAdded(ctx context.Context, name string) (*wgSetup, *PeerInfo, error) {
	if err := ValidatePeerName(name); err != nil {
		return nil, nil, err
	}
	s, err := e.onboarded(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range e.router.peersOf(s) {
		if p.Added && p.Name == name {
			return s, &p, nil
		}
	}
	return nil, nil, fmt.Errorf("onboard: no peer named %s that wgboot added on %s (wgboot peer list shows them)", name, s.iface)
}

// RemovePeer removes an added peer by name; its config need not exist.
func (e *Engine) RemovePeer(ctx context.Context, name string) error {
	_, p, err := e.findAdded(ctx, name)
	if err != nil {
		return err
	}
	if _, err := e.cl.Run(ctx, "/interface/wireguard/peers/remove", "=numbers="+p.id); err != nil {
		return fmt.Errorf("onboard: remove peer %s: %w", name, err)
	}
	if path := e.peerPath(name); path != "" {
		os.Remove(path) // useless now, and it holds a private key
	}
	e.emit(Event{Step: StepPeer, Kind: KindDone, Message: "removed peer " + name})
	return nil
}

// RotatePeer gives an added peer a new key: the router forgets the old
// public key in the same command, so the old config stops working at once.
func (e *Engine) RotatePeer(ctx context.Context, name string, psk bool) (*NewPeer, error) {
	s, p, err := e.findAdded(ctx, name)
	if err != nil {
		return nil, err
	}
	addr, err := netip.ParsePrefix(p.Address)
	if err != nil {
		return nil, fmt.Errorf("onboard: peer %s has allowed-address %q, not one address: remove and add it again", name, p.Address)
	}
	key, pk, err := e.newPeerKeys(psk)
	if err != nil {
		return nil, err
	}
	words := []string{"/interface/wireguard/peers/set", "=numbers=" + p.id, "=public-key=" + key.PublicKey().String()}
	if pk != nil {
		words = append(words, "=preshared-key="+pk.String())
	} else {
		words = append(words, "=preshared-key=")
	}
	// The new config waits beside the old one until the router has the
	// new key: a refused rotate leaves the old config working.
	path := e.peerPath(name)
	tmp := ""
	if path != "" {
		tmp = path + ".new"
		os.Remove(tmp)
	}
	np, err := e.peerConfig(s, name, tmp, key, pk, addr.Addr(), e.peerEndpoint(s))
	if err != nil {
		return nil, err
	}
	if _, err := e.cl.Run(ctx, words...); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("onboard: rotate the key of peer %s: %w", name, err)
	}
	if tmp != "" {
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("onboard: the key of peer %s was rotated; its new config is %s: %w", name, tmp, err)
		}
		np.ConfigPath = path
	}
	np.id = p.id
	e.emit(Event{Step: StepPeer, Kind: KindDone, Message: "rotated the key of peer " + name + ": its old config no longer connects"})
	return np, nil
}

// addedPeerOps are the rollback ops for the peers added to run after the
// onboarding (tagged "peer:NAME"), which the run's journal does not list.
// They go last, so the undo (in reverse) removes them first.
func addedPeerOps(r *Router, run string, have []JournalOp) []JournalOp {
	var out []JournalOp
	for _, p := range r.Peers {
		key, ok := strings.CutPrefix(p["comment"], tagPrefix+run+" ")
		if !ok || !strings.HasPrefix(key, peerKeyPrefix) ||
			slices.ContainsFunc(have, func(o JournalOp) bool { return o.Menu == "/interface wireguard peers" && o.Key == key }) {
			continue
		}
		out = append(out, JournalOp{Key: key, Menu: "/interface wireguard peers", Verb: "add", Desc: "added peer " + strings.TrimPrefix(key, peerKeyPrefix)})
	}
	return out
}

func removeQuiet(path string) { os.Remove(path) }

// removePeerConfigs deletes the configs of the added peers among ops once
// they are gone from the router: their keys are useless, and secret.
func (e *Engine) removePeerConfigs(ops []JournalOp) {
	for _, o := range ops {
		if name, ok := strings.CutPrefix(o.Key, peerKeyPrefix); ok && ValidatePeerName(name) == nil {
			if path := e.peerPath(name); path != "" {
				os.Remove(path)
			}
		}
	}
}
