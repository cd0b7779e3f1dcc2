package main

// Placeholder until the TUI engineer lands the wizard: `wgboot` with no
// subcommand prints the help.

import "github.com/spf13/cobra"

func addWizard(root *cobra.Command, a *app) {
	root.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
}
