package main

import (
	"github.com/spf13/cobra"
)

// argsAreUsage makes every command's argument check a usage error (exit
// 2) that points to its --help: cobra's own checks (NoArgs, ExactArgs)
// return plain errors, which would exit 1 like a failed onboarding.
func argsAreUsage(c *cobra.Command) {
	for _, sub := range c.Commands() {
		argsAreUsage(sub)
	}
	check := c.Args
	if check == nil || !c.HasParent() {
		return
	}
	c.Args = func(cmd *cobra.Command, args []string) error {
		err := check(cmd, args)
		if err == nil {
			return nil
		}
		if _, ok := err.(usageError); ok {
			return err
		}
		return badInput("%v (see `%s --help`)", err, cmd.CommandPath())
	}
}
