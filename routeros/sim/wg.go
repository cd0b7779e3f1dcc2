package sim

import (
	"net/netip"
	"time"
)

// wgInst is the running WireGuard device of one /interface wireguard.
type wgInst struct{}

func (w *wgInst) close() error { return nil }

type peerStat struct {
	LastHandshake time.Time
	Endpoint      netip.AddrPort
	Rx, Tx        uint64
}

func (r *Router) peerStats(iface, pub string) (peerStat, bool) { return peerStat{}, false }

func (r *Router) reconcileWG() {}
