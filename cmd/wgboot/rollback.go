package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/fleet"
	"github.com/wgboot/wgboot/onboard"
)

type rollbackFlags struct {
	yes  bool
	json bool
}

func (a *app) rollbackCmd() *cobra.Command {
	var f rollbackFlags
	c := &cobra.Command{
		Use:   "rollback",
		Short: "Remove what wgboot created on the router and restore what it modified",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runRollback(cmd.Context(), f) },
	}
	c.Flags().BoolVar(&f.yes, "yes", false, "do not ask")
	c.Flags().BoolVar(&f.json, "json", false, "print one JSON object per event per line")
	return c
}

func (a *app) runRollback(ctx context.Context, f rollbackFlags) error {
	e, err := a.engine(ctx, f.yes, f.json, a.Stdout)
	if err != nil {
		return err
	}
	defer e.Close()
	if !f.yes {
		ok, err := (&prompter{a: a}).Confirm(ctx, onboard.Question{ID: onboard.QRollback, Title: "Roll back wgboot's changes on " + e.Addr() + "?",
			Detail: "The WireGuard interface, peer, rules and address list wgboot created are removed; rules it modified get their old values back."})
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("not rolled back")
		}
	}
	if err := e.Rollback(ctx); err != nil {
		return err
	}
	// The router no longer has the peer of a fleet run's config file: the
	// file (and its private key) goes, so the next fleet run can onboard
	// the router again under the same name.
	removed, err := fleet.Retire(a.common.StateDir, e.Addr())
	w := a.Stdout
	if f.json {
		w = a.Stderr
	}
	for _, p := range removed {
		fmt.Fprintf(w, "removed the fleet config %s: its peer is gone from the router\n", p)
	}
	if err != nil {
		return fmt.Errorf("rolled back, but the fleet config of this router could not be removed: %w", err)
	}
	return nil
}
