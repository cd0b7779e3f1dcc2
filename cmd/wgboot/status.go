package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/internal/safetext"
)

type statusFlags struct{ json bool }

func (a *app) statusCmd() *cobra.Command {
	var f statusFlags
	c := &cobra.Command{
		Use:   "status",
		Short: "Show what wgboot manages on the router: interface, peers, rules, API on the WAN",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runStatus(cmd.Context(), f) },
	}
	c.Flags().BoolVar(&f.json, "json", false, "print the status as JSON")
	return c
}

func (a *app) runStatus(ctx context.Context, f statusFlags) error {
	e, err := a.engine(ctx, false, f.json, a.Stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	s, err := e.Status(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(a.Stdout, s)
	}
	// Every value below comes from the router: one line each, escaped.
	w, l := safetext.NewWriter(a.Stdout), safetext.Line
	fmt.Fprintf(w, "router %s (%s)\n", e.Addr(), l(s.Identity))
	if s.Armed != "" {
		fmt.Fprintf(w, "armed: run %s is not confirmed; the router will roll it back by itself\n", s.Armed)
	}
	if s.RunID == "" {
		fmt.Fprintln(w, "wgboot manages nothing here")
	} else {
		fmt.Fprintf(w, "run %s: interface %s, UDP %s, public key %s\n", l(s.RunID), l(s.Interface["name"]), l(s.Interface["listen-port"]), l(s.Interface["public-key"]))
		for _, p := range s.Peers {
			hs := p["last-handshake"]
			if hs == "" {
				hs = "never"
			}
			name := p["name"]
			if name == "" {
				name = "(unnamed)" // a peer someone else added without a name
			}
			fmt.Fprintf(w, "  peer %s %s %s, last handshake %s\n", l(name), l(p["allowed-address"]), l(p["public-key"]), l(hs))
		}
	}
	for _, r := range s.Rules {
		fmt.Fprintf(w, "  rule %s chain=%s action=%s %s\n", l(r[".id"]), l(r["chain"]), l(r["action"]), l(r["comment"]))
	}
	state := "OPEN"
	if s.APIClosed {
		state = "closed"
	}
	fmt.Fprintf(w, "API on the WAN (from the ruleset): %s\n", state)
	for _, v := range s.WANVerdict {
		fmt.Fprintf(w, "  %s: %s\n", l(v.Probe), l(string(v.After)))
	}
	for _, f := range s.LeftoverFiles {
		what := "an export"
		if strings.HasSuffix(f, ".backup") {
			what = "an unencrypted backup holding every secret of the router"
		}
		fmt.Fprintf(w, "leftover file %s from an earlier wgboot run (%s): remove it with /file remove %s\n", f, what, f)
	}
	return nil
}
