package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/internal/safetext"
	"github.com/wgboot/wgboot/onboard"
)

type auditFlags struct{ json bool }

func (a *app) auditCmd() *cobra.Command {
	var f auditFlags
	c := &cobra.Command{
		Use:   "audit",
		Short: "Read-only review of API exposure: WAN reachability, services, certificate, logging",
		Long: "Read-only review of API exposure: WAN reachability, services, certificate, logging.\n\n" +
			"Exit code: 0 when the API is closed on the WAN, 1 when it is reachable from the WAN\n" +
			"(or the router has no WAN to judge, or the audit failed), 2 for a usage error; so cron\n" +
			"and CI can run it as a check:\n\n" +
			"  wgboot audit --router 192.0.2.1 --tofu || echo 'API open on the WAN'",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAudit(cmd.Context(), f) },
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
		if err := writeJSON(a.Stdout, facts); err != nil {
			return err
		}
		return exposure(facts)
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
	return exposure(facts)
}

// exposure is the audit's verdict as an error (exit 1): the API reachable
// from the WAN on any probe, or no WAN to judge it by; nil when closed.
func exposure(facts []onboard.Fact) error {
	var open []string
	for _, fa := range facts {
		switch {
		case strings.HasPrefix(fa.Name, "WAN→API") && fa.Warning != "":
			open = append(open, strings.TrimPrefix(fa.Name, "WAN→API "))
		case fa.Name == "WAN" && fa.Warning != "":
			return errors.New("no WAN interface found: whether the API is reachable from the internet could not be judged")
		}
	}
	if len(open) > 0 {
		return fmt.Errorf("the API is reachable from the WAN (%s): close it with wgboot apply, or restrict it", strings.Join(open, ", "))
	}
	return nil
}

// writeJSON prints v as indented JSON; the bidi and C1 runes
// encoding/json leaves raw are escaped too (the JSON means the same).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(safetext.NewWriter(w))
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
