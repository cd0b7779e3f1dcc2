package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/internal/safetext"
	"github.com/wgboot/wgboot/onboard"
)

type applyFlags struct {
	yes  bool
	json bool
	remote
}

func (a *app) applyCmd() *cobra.Command {
	var f applyFlags
	c := &cobra.Command{
		Use:   "apply",
		Short: "Onboard the router: tunnel, proof through it, then close the API on the WAN",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runApply(cmd.Context(), f) },
	}
	c.Flags().BoolVar(&f.yes, "yes", false, "do not ask before applying or hardening")
	c.Flags().BoolVar(&f.json, "json", false, "print one JSON object per event per line")
	f.remote.flags(c)
	return c
}

func (a *app) runApply(ctx context.Context, f applyFlags) error {
	if f.remote.prove {
		if err := onboard.ValidatePeerName(f.remote.name); err != nil {
			return usageError{fmt.Errorf("--phone-name: %w", err)}
		}
	}
	a.proveRemote = f.remote.options(a, f.json)
	e, events, err := a.engineSink(ctx, f.yes, f.json, a.Stdout)
	if err != nil {
		return err
	}
	defer e.Close()
	p, err := e.Plan(ctx, a.settings())
	if err != nil {
		if p != nil && !f.json {
			renderPlan(a.Stderr, e, p)
		}
		return err
	}
	if p.Noop {
		_, err := e.Apply(ctx, p)
		return err
	}
	if !f.yes {
		renderPlan(a.Stderr, e, p)
		ok, err := (&prompter{a: a}).Confirm(ctx, onboard.Question{ID: onboard.QApplyPlan, Title: "Apply this plan?",
			Detail: fmt.Sprintf("%d changes; the router undoes them by itself after %s unless wgboot confirms.", len(p.Changes), p.Settings.ConfirmTimeout)})
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("not applied: nothing was changed")
		}
	}
	sum, err := e.Apply(ctx, p)
	if errors.Is(err, onboard.ErrDeclined) {
		if events.runState().RolledBack {
			return errors.New("not onboarded: you declined to close the API on the WAN, so every change was rolled back and the router is as it was (run again and answer y, or give --yes)")
		}
		return fmt.Errorf("you declined to close the API on the WAN, but rolling back failed (see above): run `wgboot rollback --router %s`: %w", a.common.Router, err)
	}
	if err != nil {
		return err
	}
	if !f.json {
		fmt.Fprintf(safetext.NewWriter(a.Stdout), "\nconfig:    %s\nendpoint:  %s\nreconnect: %s\nundo:      %s\n",
			safetext.Line(sum.ConfigPath), safetext.Line(sum.Endpoint), safetext.Line(sum.Reconnect), safetext.Line(sum.Undo))
		if sum.ProvenVia == "outside" {
			fmt.Fprintln(a.Stdout, "proven:    from outside, by a phone at "+safetext.Line(sum.ProvenFrom))
		}
		if sum.ProvenVia == "lan" {
			fmt.Fprintln(a.Stdout, "note: the tunnel was proven from the LAN only; that the WireGuard port is reachable from the WAN rests on the firewall evaluator")
		}
		if note := sum.OutsideNote(); note != "" {
			fmt.Fprintln(a.Stdout, "warning: "+note)
		}
	}
	if !events.runState().Hardened {
		return errors.New("the tunnel works but the API was not closed on the WAN (hardening declined)")
	}
	return nil
}
