package main

// Placeholder until the TUI engineer lands `wgboot demo`.

import "github.com/spf13/cobra"

func addDemo(root *cobra.Command, a *app) {}
