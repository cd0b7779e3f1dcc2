package vpn

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// KernelOptions configures the kernel backend.
type KernelOptions struct {
	// Name is the interface name; empty picks the first free wgboot0..wgboot99.
	Name string
	// Keep leaves the interface in place at Close. It only applies when the
	// interface is a kernel WireGuard link, which outlives wgboot; a
	// wireguard-go interface always ends with the process.
	Keep bool
	// Logf receives progress and errors; nil discards them.
	Logf func(string, ...any)
}

// Kernel is the backend that creates a real OS interface: a kernel
// WireGuard link configured with wgctrl when the module is present,
// otherwise wireguard-go on a TUN device with a UAPI socket, so that wgctrl
// and `wg show` see it either way. The address and the routes to the
// allowed IPs are set over rtnetlink. It needs root or CAP_NET_ADMIN.
type Kernel struct {
	o    KernelOptions
	logf func(string, ...any)

	mu      sync.Mutex // guards following
	up      bool
	closed  bool
	name    string
	index   int
	module  bool           // a kernel WireGuard link (outlives the process)
	us      *userspace     // wireguard-go device (TUN path)
	uapi    net.Listener   // TUN path: UAPI socket for wgctrl and wg(8)
	serving sync.WaitGroup // TUN path: UAPI accept loop and handlers
	conns   map[net.Conn]struct{}
	wg      *wgctrl.Client // module path
	peerKey wgtypes.Key
	events  chan struct{}
}

var _ Backend = (*Kernel)(nil)

// NewKernel returns an unconfigured kernel backend. Up fails with an error
// wrapping ErrKernelUnavailable when the process lacks the privileges.
func NewKernel(o KernelOptions) *Kernel {
	return &Kernel{o: o, logf: orDiscard(o.Logf), conns: map[net.Conn]struct{}{}, events: make(chan struct{}, 1)}
}

// kernelUsable reports why this process cannot create a WireGuard
// interface, or nil when it can.
func kernelUsable() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("%w: cannot read process capabilities: %v", ErrKernelUnavailable, err)
	}
	if data[0].Effective&(1<<unix.CAP_NET_ADMIN) == 0 {
		return fmt.Errorf("%w: needs root or CAP_NET_ADMIN, which this process lacks (run as root, or choose netstack)", ErrKernelUnavailable)
	}
	if _, err := os.Stat("/sys/module/wireguard"); err == nil {
		return nil
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Errorf("%w: needs the wireguard kernel module or /dev/net/tun, and neither is present (modprobe wireguard or tun, or choose netstack)", ErrKernelUnavailable)
	}
	return nil
}

// Kind reports "kernel".
func (k *Kernel) Kind() string { return KindKernel }

// Name reports the interface name once Up succeeded.
func (k *Kernel) Name() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.name
}

// Up creates and configures the interface, assigns the address, adds routes
// to the allowed IPs and triggers the first handshake.
func (k *Kernel) Up(ctx context.Context, cfg Config) (err error) {
	if err := cfg.validate(); err != nil {
		return err
	}
	if err := kernelUsable(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.closed:
		return ErrClosed
	case k.up:
		return errors.New("vpn: kernel tunnel is already up")
	}
	nl, err := dialRTNL()
	if err != nil {
		return err
	}
	defer nl.Close()
	// Checked before anything is created: a refused tunnel leaves the
	// machine as it was.
	local, err := nl.routes()
	if err != nil {
		return err
	}
	hosts, err := checkRoutes(cfg, local)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			k.teardownLocked(nl)
		}
	}()

	names := []string{k.o.Name}
	if k.o.Name == "" {
		// Another wgboot may take a name between the check and the create:
		// on a clash the next free name is tried.
		if names = freeNames(); len(names) == 0 {
			return errors.New("vpn: no free interface name wgboot0..wgboot99; remove stale interfaces with `ip link del`")
		}
	}
	var tdev tun.Device
	for _, name := range names {
		tdev, err = k.createLinkLocked(nl, name)
		if err == nil || k.o.Name != "" || !(errors.Is(err, unix.EEXIST) || errors.Is(err, unix.EBUSY)) {
			break
		}
	}
	if err != nil {
		return err
	}
	name := k.name
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		if tdev != nil {
			tdev.Close()
		}
		return fmt.Errorf("vpn: find interface %s: %w", name, err)
	}
	k.index = ifc.Index
	if !k.module {
		k.us = &userspace{events: k.events}
		k.us.dev = device.NewDevice(tdev, conn.NewDefaultBind(), newUserspaceLogger(k.logf, k.events, &k.us.attempts))
	}
	// The address goes on as a single address (/32, /128): with its
	// prefix the kernel would add a route to the whole subnet.
	self := hostPrefix(cfg.Address.Addr())
	if err := nl.addAddress(k.index, self); err != nil {
		return fmt.Errorf("vpn: add address %s to %s: %w", self, name, err)
	}
	if err := nl.setLinkUp(k.index, DefaultMTU); err != nil {
		return fmt.Errorf("vpn: set %s up: %w", name, err)
	}
	for _, p := range hosts {
		if err := nl.addRoute(k.index, p, self.Addr()); err != nil {
			return fmt.Errorf("vpn: add route %s via %s: %w", p, name, err)
		}
	}
	k.peerKey = cfg.Peer.PublicKey
	if k.module {
		err = k.configureModuleLocked(ctx, cfg)
	} else {
		err = k.configureUserspaceLocked(cfg)
	}
	if err != nil {
		return err
	}
	k.up = true
	k.logf("vpn: interface %s up with %s, peer %s at %s", name, cfg.Address, cfg.Peer.PublicKey, cfg.Peer.Endpoint)
	return nil
}

func hostPrefix(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen())
}

// checkRoutes returns the routes Up may add for cfg: one per allowed
// address, each a single address (the router's tunnel address). A
// default route, a wider prefix, or a route or tunnel address that
// overlaps a route this machine already has would take traffic away from
// where it goes now (the internet, the LAN, another VPN); Up refuses them.
func checkRoutes(cfg Config, local []route) ([]netip.Prefix, error) {
	overlap := func(p netip.Prefix) *route {
		for i, r := range local {
			if r.Dst.Overlaps(p) {
				return &local[i]
			}
		}
		return nil
	}
	if r := overlap(hostPrefix(cfg.Address.Addr())); r != nil {
		return nil, fmt.Errorf("vpn: refusing the tunnel address %s: this computer already routes %s%s; "+
			"choose a VPN subnet (--subnet) that no local network or VPN uses", cfg.Address.Addr(), r.Dst, via(r))
	}
	var out []netip.Prefix
	for _, p := range cfg.Peer.AllowedIPs {
		p = p.Masked()
		switch {
		case p.Bits() == 0:
			return nil, fmt.Errorf("vpn: refusing to route %s (a default route) through the tunnel: wgboot sends only "+
				"the router's tunnel address through it, never this computer's other traffic", p)
		case p.Bits() != p.Addr().BitLen():
			return nil, fmt.Errorf("vpn: refusing to route %s through the tunnel: the kernel backend routes only "+
				"single addresses (the router's tunnel address, like 10.77.0.1/32), so this computer's other "+
				"routes stay as they are", p)
		}
		if r := overlap(p); r != nil {
			return nil, fmt.Errorf("vpn: refusing to route %s through the tunnel: this computer already routes %s%s; "+
				"choose a VPN subnet (--subnet) that no local network or VPN uses", p, r.Dst, via(r))
		}
		out = append(out, p)
	}
	return out, nil
}

// via names a route's interface for an error message.
func via(r *route) string {
	if r.Index == 0 {
		return ""
	}
	if ifc, err := net.InterfaceByIndex(r.Index); err == nil {
		return " via " + ifc.Name
	}
	return fmt.Sprintf(" via interface %d", r.Index)
}

// LocalRoutes returns the prefixes this machine already routes: every
// routing table but the local one, without default routes and IPv6
// link-local prefixes. A VPN subnet that overlaps one of them would take
// traffic from a LAN or another VPN.
func LocalRoutes() ([]netip.Prefix, error) {
	nl, err := dialRTNL()
	if err != nil {
		return nil, err
	}
	defer nl.Close()
	rs, err := nl.routes()
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, len(rs))
	for i, r := range rs {
		out[i] = r.Dst
	}
	return out, nil
}

// freeNames lists the names wgboot0..wgboot99 that no interface or UAPI
// socket uses yet.
func freeNames() []string {
	var names []string
	for i := range 100 {
		name := fmt.Sprintf("wgboot%d", i)
		if _, err := net.InterfaceByName(name); err != nil {
			if _, err := os.Stat(filepath.Join(uapiDir, name+".sock")); err != nil {
				names = append(names, name)
			}
		}
	}
	return names
}

// createLinkLocked creates interface name: a kernel WireGuard link when the
// module is there, otherwise a TUN device for wireguard-go (returned).
func (k *Kernel) createLinkLocked(nl *rtnl, name string) (tun.Device, error) {
	switch err := nl.createWireGuardLink(name); {
	case err == nil:
		k.name, k.module = name, true
		return nil, nil
	case errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOENT):
		k.logf("vpn: no wireguard kernel module; running wireguard-go on a TUN device %s", name)
	default:
		return nil, fmt.Errorf("vpn: create interface %s: %w", name, err)
	}
	tdev, err := tun.CreateTUN(name, DefaultMTU)
	if err != nil {
		return nil, fmt.Errorf("vpn: create TUN interface %s: %w", name, err)
	}
	k.name = name
	return tdev, nil
}

func (k *Kernel) configureUserspaceLocked(cfg Config) error {
	if err := k.us.configure(cfg); err != nil {
		return err
	}
	f, err := uapiOpen(k.name)
	if err != nil {
		return fmt.Errorf("vpn: open UAPI socket for %s: %w", k.name, err)
	}
	l, err := ipc.UAPIListen(k.name, f)
	f.Close() // the listener holds its own descriptor
	if err != nil {
		return fmt.Errorf("vpn: listen on UAPI socket for %s: %w", k.name, err)
	}
	k.uapi = l
	k.serving.Add(1)
	go k.serveUAPI(l, k.us.dev)
	return nil
}

// uapiDir is where wg(8) and wgctrl look for userspace devices; it is not
// per network namespace.
const uapiDir = "/var/run/wireguard"

// uapiOpen is ipc.UAPIOpen without its descriptor leak: upstream returns a
// dup of its listener and leaves the listener itself to the garbage
// collector, so Close could not release every descriptor.
func uapiOpen(name string) (*os.File, error) {
	if err := os.MkdirAll(uapiDir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(uapiDir, name+".sock")
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s is in use by another WireGuard process", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	// The socket is created 0700 (only root may configure the device), as
	// wireguard-go does: through the process umask, for the instant of bind.
	old := unix.Umask(0o077)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(false) // the socket lives on in the returned file
	f, err := l.File()
	l.Close()
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	return f, nil
}

// serveUAPI answers wgctrl and wg(8) on the UAPI socket. wireguard-go's
// UAPIListener reports exactly two errors after Close (one from its accept
// goroutine, one from its inotify goroutine) and each blocks until read, so
// the loop drains both before returning.
func (k *Kernel) serveUAPI(l net.Listener, dev *device.Device) {
	defer k.serving.Done()
	for errs := 0; errs < 2; {
		c, err := l.Accept()
		if err != nil {
			errs++
			continue
		}
		k.mu.Lock()
		if k.conns == nil { // closing
			k.mu.Unlock()
			c.Close()
			continue
		}
		k.conns[c] = struct{}{}
		k.serving.Add(1)
		k.mu.Unlock()
		go func() {
			defer k.serving.Done()
			dev.IpcHandle(c) // closes c
			k.mu.Lock()
			delete(k.conns, c)
			k.mu.Unlock()
		}()
	}
}

func (k *Kernel) configureModuleLocked(ctx context.Context, cfg Config) error {
	c, err := wgctrl.New()
	if err != nil {
		return fmt.Errorf("vpn: open wgctrl: %w", err)
	}
	k.wg = c
	port := cfg.ListenPort
	ka := cfg.Peer.Keepalive
	pc := wgtypes.PeerConfig{
		PublicKey:                   cfg.Peer.PublicKey,
		PersistentKeepaliveInterval: &ka,
		ReplaceAllowedIPs:           true,
		AllowedIPs:                  ipNets(cfg.Peer.AllowedIPs),
	}
	if cfg.Peer.Endpoint.IsValid() {
		pc.Endpoint = net.UDPAddrFromAddrPort(cfg.Peer.Endpoint)
	}
	if cfg.Peer.PresharedKey != (wgtypes.Key{}) {
		psk := cfg.Peer.PresharedKey
		pc.PresharedKey = &psk
	}
	err = c.ConfigureDevice(k.name, wgtypes.Config{
		PrivateKey:   &cfg.PrivateKey,
		ListenPort:   &port,
		ReplacePeers: true,
		Peers:        []wgtypes.PeerConfig{pc},
	})
	if err != nil {
		return fmt.Errorf("vpn: configure %s: %w", k.name, err)
	}
	if ka == 0 && cfg.Peer.Endpoint.IsValid() {
		// The module sends a keepalive when one is configured on an up link;
		// without one, a datagram into the tunnel starts the handshake.
		poke(ctx, cfg.Peer.AllowedIPs)
	}
	return nil
}

// poke sends one empty UDP datagram to the discard port of the first
// address in the allowed IPs; the kernel queues it and starts a handshake.
func poke(ctx context.Context, allowed []netip.Prefix) {
	a := allowed[0].Masked().Addr()
	if allowed[0].Bits() < a.BitLen() {
		a = a.Next()
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", netip.AddrPortFrom(a, 9).String())
	if err != nil {
		return
	}
	c.Write(nil)
	c.Close()
}

func ipNets(ps []netip.Prefix) []net.IPNet {
	out := make([]net.IPNet, 0, len(ps))
	for _, p := range ps {
		p = p.Masked()
		out = append(out, net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())})
	}
	return out
}

func (k *Kernel) check() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.closed:
		return ErrClosed
	case !k.up:
		return ErrNotUp
	}
	return nil
}

// WaitHandshake returns at the first handshake; see Backend.
func (k *Kernel) WaitHandshake(ctx context.Context) (Stats, error) {
	if err := k.check(); err != nil {
		return Stats{}, err
	}
	return waitHandshake(ctx, k.Stats, k.events)
}

// Stats reports the router peer's state.
func (k *Kernel) Stats() (Stats, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.closed:
		return Stats{}, ErrClosed
	case !k.up:
		return Stats{}, ErrNotUp
	case k.us != nil:
		return k.us.stats()
	}
	d, err := k.wg.Device(k.name)
	if err != nil {
		return Stats{}, fmt.Errorf("vpn: read %s: %w", k.name, err)
	}
	for _, p := range d.Peers {
		if p.PublicKey != k.peerKey {
			continue
		}
		st := Stats{Rx: uint64(p.ReceiveBytes), Tx: uint64(p.TransmitBytes), HandshakeAttempts: -1}
		if !p.LastHandshakeTime.IsZero() && p.LastHandshakeTime.After(time.Unix(0, 0)) {
			st.LastHandshake = p.LastHandshakeTime
		}
		if p.Endpoint != nil {
			st.Endpoint = p.Endpoint.AddrPort()
		}
		return st, nil
	}
	return Stats{}, fmt.Errorf("vpn: configured peer is missing from %s", k.name)
}

// DialContext dials with the OS stack, which routes the tunnel's addresses
// through the interface.
func (k *Kernel) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("vpn: dial %s through %s: %w", addr, k.Name(), err)
	}
	return c, nil
}

// Close removes what Up created: the wireguard-go device and its TUN
// interface, the UAPI socket and its goroutines, or the kernel link (unless
// KernelOptions.Keep).
func (k *Kernel) Close() error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return nil
	}
	k.closed = true
	var err error
	if k.up {
		nl, derr := dialRTNL()
		if derr == nil {
			err = k.teardownLocked(nl)
			nl.Close()
		} else {
			err = k.teardownLocked(nil)
		}
	}
	k.mu.Unlock()
	k.serving.Wait()
	return err
}

// teardownLocked undoes Up, whatever stage it reached. nl may be nil when
// rtnetlink cannot be opened; a TUN interface disappears with its device.
func (k *Kernel) teardownLocked(nl *rtnl) error {
	var errs []error
	if k.uapi != nil {
		k.uapi.Close()
		k.uapi = nil
	}
	for c := range k.conns {
		c.Close()
	}
	k.conns = nil
	if k.us != nil {
		k.us.dev.Close() // closes the TUN, which removes the interface
		k.us = nil
	}
	if k.wg != nil {
		k.wg.Close()
		k.wg = nil
	}
	if k.module && k.index != 0 {
		if k.o.Keep && k.up {
			k.logf("vpn: keeping interface %s as asked", k.name)
		} else if nl == nil {
			errs = append(errs, fmt.Errorf("vpn: cannot remove %s: no rtnetlink; run `ip link del %s`", k.name, k.name))
		} else if err := nl.deleteLink(k.index); err != nil {
			errs = append(errs, fmt.Errorf("vpn: remove interface %s (run `ip link del %s`): %w", k.name, k.name, err))
		}
	} else if k.o.Keep && k.up {
		k.logf("vpn: interface %s is wireguard-go and ends with wgboot; use the wg-quick file to reconnect", k.name)
	}
	return errors.Join(errs...)
}
