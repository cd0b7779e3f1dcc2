package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/internal/safetext"
	"github.com/wgboot/wgboot/onboard"
	"github.com/wgboot/wgboot/vpn"
)

type peerFlags struct {
	json, yes, psk, qr bool
	qrPNG              string
}

// addPeer adds "wgboot peer add|list|remove|rotate": more people and
// devices on an onboarded router's tunnel.
func addPeer(root *cobra.Command, a *app) {
	var f peerFlags
	p := &cobra.Command{Use: "peer", Short: "Add, list, remove or rotate WireGuard peers for the team on an onboarded router"}
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a peer for another person or device: its own key, the next free tunnel address, a wg-quick config and a QR code",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.qr = qrWanted(cmd, a)
			return a.runPeerNew(cmd.Context(), f, args[0], false)
		},
	}
	rotate := &cobra.Command{
		Use:   "rotate NAME",
		Short: "Give a peer a new key: its old config stops working at once; a new config and QR code",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.qr = qrWanted(cmd, a)
			return a.runPeerNew(cmd.Context(), f, args[0], true)
		},
	}
	for _, c := range []*cobra.Command{add, rotate} {
		c.Flags().BoolVar(&f.psk, "preshared-key", false, "also give the peer a preshared key")
		c.Flags().StringVar(&f.qrPNG, "qr-png", "", "also write the QR code to this PNG file (0600: it holds the private key)")
		c.Flags().Bool("qr", false, "print the QR code even when the output is not a terminal (it holds the private key)")
		c.Flags().BoolVar(&f.json, "json", false, "print the peer as JSON (no key, no QR code)")
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the peers of the router's wgboot interface: name, tunnel address, last handshake, endpoint, traffic",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runPeerList(cmd.Context(), f) },
	}
	list.Flags().BoolVar(&f.json, "json", false, "print the peers as JSON")
	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a peer wgboot added, by name (its config is not needed)",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.runPeerRemove(cmd.Context(), f, args[0]) },
	}
	remove.Flags().BoolVar(&f.yes, "yes", false, "do not ask")
	p.AddCommand(add, list, remove, rotate)
	root.AddCommand(p)
}

// qrWanted: the QR code carries the private key, so it goes to a terminal,
// or elsewhere only when --qr asks for it.
func qrWanted(cmd *cobra.Command, a *app) bool {
	if v, err := cmd.Flags().GetBool("qr"); err == nil && cmd.Flags().Changed("qr") {
		return v
	}
	f, ok := a.Stdout.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

func (a *app) runPeerNew(ctx context.Context, f peerFlags, name string, rotate bool) error {
	if err := onboard.ValidatePeerName(name); err != nil {
		return usageError{err}
	}
	e, err := a.engine(ctx, false, f.json, a.Stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	var np *onboard.NewPeer
	if rotate {
		np, err = e.RotatePeer(ctx, name, f.psk)
	} else {
		np, err = e.AddPeer(ctx, name, f.psk)
	}
	if err != nil {
		return err
	}
	if f.qrPNG != "" {
		if err := vpn.WriteQRPNG(f.qrPNG, np.Config, 512); err != nil {
			return fmt.Errorf("write the QR code: %w", err)
		}
	}
	if f.json {
		return writeJSON(a.Stdout, np)
	}
	w := safetext.NewWriter(a.Stdout)
	what := "added"
	if rotate {
		what = "new key for"
	}
	fmt.Fprintf(w, "%s peer %s: tunnel address %s, endpoint %s\n", what, np.Name, np.Address, safetext.Line(np.Config.Peer.Endpoint))
	if np.ConfigPath != "" {
		fmt.Fprintf(w, "config: %s (wg-quick up %s, or import it in the WireGuard app)\n", np.ConfigPath, np.ConfigPath)
	}
	if f.qrPNG != "" {
		fmt.Fprintf(w, "QR code: %s\n", f.qrPNG)
	}
	if rotate {
		fmt.Fprintln(w, "the old config no longer connects")
	}
	if f.qr {
		fmt.Fprintln(w, "scan with the WireGuard app (+, scan from QR code):")
		return vpn.WriteQRTerminal(a.Stdout, np.Config)
	}
	return nil
}

func (a *app) runPeerList(ctx context.Context, f peerFlags) error {
	e, err := a.engine(ctx, false, f.json, a.Stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	peers, err := e.Peers(ctx)
	if err != nil {
		return err
	}
	if f.json {
		if peers == nil {
			peers = []onboard.PeerInfo{}
		}
		return writeJSON(a.Stdout, peers)
	}
	// Names, endpoints and handshakes come from the router.
	w, l := safetext.NewWriter(a.Stdout), safetext.Line
	fmt.Fprintf(w, "%-16s %-18s %-14s %-24s %s\n", "NAME", "ADDRESS", "HANDSHAKE", "ENDPOINT", "RX/TX")
	for _, p := range peers {
		name := p.Name
		switch {
		case p.Technician:
			name += " (technician)"
		case !p.Added:
			name += " (not wgboot's)"
		}
		hs, ep := p.LastHandshake, p.Endpoint
		if hs == "" {
			hs = "never"
		}
		if ep == "" {
			ep = "-"
		}
		fmt.Fprintf(w, "%-16s %-18s %-14s %-24s %d/%d\n", l(name), l(p.Address), l(hs), l(ep), p.Rx, p.Tx)
	}
	return nil
}

func (a *app) runPeerRemove(ctx context.Context, f peerFlags, name string) error {
	if err := onboard.ValidatePeerName(name); err != nil {
		return usageError{err}
	}
	e, err := a.engine(ctx, f.yes, false, a.Stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	if !f.yes {
		ok, err := (&prompter{a: a}).Confirm(ctx, onboard.Question{ID: onboard.QPeerRemove, Title: "Remove peer " + name + " from " + e.Addr() + "?",
			Detail: "Its config stops working at once."})
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("not removed")
		}
	}
	if err := e.RemovePeer(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "removed peer %s\n", name)
	return nil
}

// viaRouter fills --router from --via: the router's address inside the
// tunnel the file describes.
func (a *app) viaRouter() error {
	if a.common.Via == "" || a.common.Router != "" {
		return nil
	}
	r, err := onboard.ViaRouter(a.common.Via)
	if err != nil {
		return usageError{err}
	}
	a.common.Router = r
	return nil
}

// remote are apply's flags for the proof from outside.
type remote struct {
	prove bool
	keep  bool
	name  string
	wait  time.Duration
}

func (r *remote) flags(c *cobra.Command) {
	c.Flags().BoolVar(&r.prove, "prove-remote", false, "before closing the API, prove the tunnel from outside: scan the QR code shown with the WireGuard app on a phone on mobile data")
	c.Flags().BoolVar(&r.keep, "keep-phone", false, "keep the phone's peer after the proof (a second device); default: remove it")
	c.Flags().StringVar(&r.name, "phone-name", "phone", "the phone peer's name")
	c.Flags().DurationVar(&r.wait, "prove-remote-wait", 3*time.Minute, "how long to wait for the phone (at most half of --confirm-timeout)")
}

// options are the engine's ProveRemote; the QR code goes to the terminal
// (stderr when stdout carries JSON), asked for by --prove-remote.
func (r *remote) options(a *app, jsonOut bool) *onboard.ProveRemote {
	if !r.prove {
		return nil
	}
	w := a.Stdout
	if jsonOut {
		w = a.Stderr
	}
	return &onboard.ProveRemote{Name: r.name, Wait: r.wait, Keep: r.keep, Show: func(np *onboard.NewPeer) {
		fmt.Fprintf(w, "Prove the tunnel from outside: on a phone, turn Wi-Fi OFF (mobile data), open the WireGuard app, + > scan from QR code, activate the tunnel %s:\n", np.Name)
		if err := vpn.WriteQRTerminal(w, np.Config); err != nil {
			fmt.Fprintf(w, "(no QR code: %v; import %s instead)\n", err, np.ConfigPath)
		}
	}}
}
