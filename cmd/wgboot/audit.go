package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

type auditFlags struct{ json bool }

func (a *app) auditCmd() *cobra.Command {
	var f auditFlags
	c := &cobra.Command{
		Use:   "audit",
		Short: "Read-only review of API exposure: WAN reachability, services, certificate, logging",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runAudit(cmd.Context(), f) },
	}
	c.Flags().BoolVar(&f.json, "json", false, "print the findings as JSON")
	return c
}

func (a *app) runAudit(ctx context.Context, f auditFlags) error {
	e, err := a.engine(ctx, false, f.json, a.Stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	facts, err := e.Audit(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(a.Stdout, facts)
	}
	fmt.Fprintf(a.Stdout, "audit of %s\n", e.Addr())
	findings := 0
	for _, fa := range facts {
		fmt.Fprintf(a.Stdout, "  %s: %s\n", fa.Name, fa.Value)
		if fa.Warning != "" {
			findings++
			fmt.Fprintf(a.Stdout, "    ! %s\n", fa.Warning)
		}
	}
	fmt.Fprintf(a.Stdout, "%d findings\n", findings)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
