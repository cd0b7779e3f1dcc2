//go:build !linux

package vpn

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// KernelOptions configures the kernel backend.
type KernelOptions struct {
	Name string
	Keep bool
	Logf func(string, ...any)
}

// Kernel is the OS-interface backend; it is only implemented on Linux.
type Kernel struct{}

var _ Backend = (*Kernel)(nil)

var errKernelOS = fmt.Errorf("%w: only implemented on Linux; use netstack", ErrKernelUnavailable)

// NewKernel returns a backend whose methods all fail on this OS.
func NewKernel(o KernelOptions) *Kernel { return &Kernel{} }

func kernelUsable() error { return errKernelOS }

func (k *Kernel) Kind() string                                     { return KindKernel }
func (k *Kernel) Up(ctx context.Context, cfg Config) error         { return errKernelOS }
func (k *Kernel) WaitHandshake(ctx context.Context) (Stats, error) { return Stats{}, errKernelOS }
func (k *Kernel) Stats() (Stats, error)                            { return Stats{}, errKernelOS }
func (k *Kernel) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return nil, errKernelOS
}
func (k *Kernel) Close() error { return nil }

// Name reports "": no interface is ever created on this OS.
func (k *Kernel) Name() string { return "" }

// LocalRoutes returns nothing on this OS: the routing table is only read
// on Linux.
func LocalRoutes() ([]netip.Prefix, error) { return nil, nil }
