package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/internal/safetext"
	"github.com/wgboot/wgboot/onboard"
)

type planFlags struct{ json bool }

func (a *app) planCmd() *cobra.Command {
	var f planFlags
	c := &cobra.Command{
		Use:   "plan",
		Short: "Connect, inspect and print the plan (RouterOS commands and verdicts); changes nothing",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runPlan(cmd.Context(), f) },
	}
	c.Flags().BoolVar(&f.json, "json", false, "print one JSON object per event per line, like apply --json (the plan is in the plan step's event)")
	return c
}

func (a *app) runPlan(ctx context.Context, f planFlags) error {
	// Text: the events are progress on stderr, the plan goes to stdout.
	// JSON: every event on stdout, one per line, the plan in its own.
	events := a.Stderr
	if f.json {
		events = a.Stdout
	}
	e, err := a.engine(ctx, false, f.json, events)
	if err != nil {
		return err
	}
	defer e.Close()
	p, err := e.Plan(ctx, a.settings())
	if p != nil && !f.json {
		renderPlan(a.Stdout, e, p)
	}
	return err
}

// renderPlan prints the plan: settings, warnings, the commands in export
// syntax ready to paste, their inverses and the verdict table.
func renderPlan(w io.Writer, e *onboard.Engine, p *onboard.Plan) {
	w = safetext.NewWriter(w)
	r := e.Router()
	if r != nil {
		fmt.Fprintf(w, "# router %s (%s), RouterOS %s\n", e.Addr(), safetext.Line(r.Identity), safetext.Line(r.Version))
	}
	if p.Noop {
		fmt.Fprintln(w, "# already onboarded: nothing to change")
	}
	s := p.Settings
	fmt.Fprintf(w, "# subnet %s, listen port %d, endpoint %s\n", s.Subnet, s.ListenPort, s.Endpoint)
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "# warning: %s\n", safetext.Line(warn))
	}
	if len(p.Files) > 0 {
		fmt.Fprintf(w, "# files on the router while armed: %s (the configuration before the run, without secrets; removed at commit and at rollback)\n", strings.Join(p.Files, ", "))
	}
	section := func(title string, step onboard.Step) {
		n := 0
		for _, c := range p.Changes {
			if c.Step != step {
				continue
			}
			if n == 0 {
				fmt.Fprintf(w, "\n# %s\n", title)
			}
			n++
			fmt.Fprintf(w, "# %s\n%s\n", safetext.Line(c.Description), c.Command)
		}
	}
	section("apply (armed: undone automatically unless wgboot confirms)", onboard.StepApply)
	section("harden (after the API answered through the tunnel)", onboard.StepHarden)
	if len(p.Changes) > 0 {
		fmt.Fprintf(w, "\n# undo (in this order)\n")
		for i := len(p.Changes) - 1; i >= 0; i-- {
			fmt.Fprintln(w, p.Changes[i].Inverse)
		}
	}
	if len(p.Verdicts) > 0 {
		width := 0
		for _, v := range p.Verdicts {
			width = max(width, len([]rune(v.Probe)))
		}
		fmt.Fprintf(w, "\n# verdicts        before -> after\n")
		for _, v := range p.Verdicts {
			pad := strings.Repeat(" ", width-len([]rune(v.Probe)))
			mark := ""
			if v.Before != v.After {
				mark = "  *"
			}
			fmt.Fprintf(w, "#   %s%s  %-7s -> %s%s\n", v.Probe, pad, v.Before, v.After, mark)
		}
	}
}
