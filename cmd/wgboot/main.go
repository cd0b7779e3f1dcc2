// Command wgboot onboards a MikroTik RouterOS 7 router onto a WireGuard
// tunnel for the technician, then closes the API on the WAN. See doc.go.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		// A closed terminal ends the run like ctrl+c: what is armed is
		// rolled back and temporary files (the demo's keys) are removed.
		// Under nohup the hangup stays ignored.
		sigs = append(sigs, syscall.SIGHUP)
	}
	ctx, stop := signal.NotifyContext(context.Background(), sigs...)
	a := &app{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, LookupEnv: os.LookupEnv}
	code := a.main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
