package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/internal/safetext"
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
	w := safetext.NewWriter(a.Stdout)
	fmt.Fprintf(w, "audit of %s\n", e.Addr())
	findings := 0
	for _, fa := range facts {
		fmt.Fprintf(w, "  %s: %s\n", safetext.Line(fa.Name), safetext.Line(fa.Value))
		if fa.Warning != "" {
			findings++
			fmt.Fprintf(w, "    ! %s\n", safetext.Line(fa.Warning))
		}
	}
	fmt.Fprintf(w, "%d findings\n", findings)
	return nil
}

// writeJSON prints v as indented JSON; the bidi and C1 runes
// encoding/json leaves raw are escaped too (the JSON means the same).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(safetext.NewWriter(w))
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
