package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wgboot/wgboot/internal/demo"
	"github.com/wgboot/wgboot/routeros/rsc"
	"github.com/wgboot/wgboot/tui"
)

// addDemo adds `wgboot demo`: the wizard against an embedded rossim.
func addDemo(root *cobra.Command, a *app) {
	var accessible bool
	var config string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try the wizard on a simulated router (rossim), no hardware needed",
		Long: "demo starts a simulated MikroTik hAP ac2 with the factory default configuration,\n" +
			"its WAN and LAN on loopback addresses, and opens the wizard with its address\n" +
			"filled in (user admin, empty password). Press enter at each default to reach Done.\n\n" +
			"With --config, the simulated router loads your own export instead (/export file=x,\n" +
			"then copy x.rsc from Files): its WAN and LAN are found in the export, so you see\n" +
			"the exact plan and walk the whole onboarding on a copy before touching the router.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runDemo(cmd.Context(), accessible, cmd.Flags().Changed("state-dir"), config)
		},
	}
	cmd.Flags().BoolVar(&accessible, "accessible", false, "plain line-by-line prompts for screen readers and dumb terminals")
	cmd.Flags().StringVar(&config, "config", "", "rehearse on a simulated copy of your router: its export `file` (.rsc)")
	root.AddCommand(cmd)
}

func (a *app) runDemo(ctx context.Context, accessible, keepStateDir bool, configFile string) error {
	var config string
	if configFile != "" {
		b, err := os.ReadFile(configFile)
		if err != nil {
			return fmt.Errorf("demo: read the export: %w", err)
		}
		config = string(b)
	}
	if !accessible && a.Getenv("TERM") != "dumb" && !isTerminal(a.Stdout) {
		return usageError{errNotTerminal}
	}
	stateDir := a.common.StateDir
	if !keepStateDir {
		// A fresh state dir: the simulated router has a new certificate on
		// every start, which a remembered one would call a changed one.
		d, err := os.MkdirTemp("", "wgboot-demo-")
		if err != nil {
			return fmt.Errorf("demo: state dir: %w", err)
		}
		defer os.RemoveAll(d)
		stateDir = d
	}
	r, err := demo.Start(ctx, demo.Options{Config: config})
	if err != nil {
		return err
	}
	defer r.Close()
	banner := fmt.Sprintf("Demo: a simulated hAP ac2 with factory defaults. LAN %s, WAN %s.\n"+
		"User admin, empty password: press enter at each step.", r.LAN.Addr(), r.WAN.Addr())
	if config != "" {
		banner = fmt.Sprintf("Demo: a simulated copy of %s (%s). %s\n"+
			"User admin, empty password. Nothing here touches your router.", filepath.Base(configFile), exportOrigin(config), r.Describe())
	}
	w := wizardRun{
		accessible: accessible,
		banner:     banner,
		host:       r.LAN.Addr().String(),
		port:       int(r.LAN.Port()),
		stateDir:   stateDir,
		base:       r.Engine(nil),
	}
	err = a.runWizard(ctx, w)
	// Exactly a quit (==): an ErrAborted joined with a failed clean-up is
	// still a failure.
	if err == tui.ErrAborted && ctx.Err() == nil {
		// Quitting the demo is how it ends: not a failure (make demo
		// would say "Error 1").
		err = nil
	}
	if !keepStateDir {
		fmt.Fprintln(a.Stdout, "demo: the simulated router stopped; its state dir (and the config above) is removed.")
	}
	return err
}

// exportOrigin names the router an export comes from, as its header says
// ("RB5009UG+S+, RouterOS 7.1.5").
func exportOrigin(config string) string {
	model, ver := "model not named", "RouterOS version not named"
	if f, err := rsc.ParseString(config); err == nil {
		if m := f.Model(); m != "" {
			model = m
		}
		if v := f.Version(); v != "" {
			ver = "RouterOS " + v
		}
	}
	return model + ", " + ver
}
