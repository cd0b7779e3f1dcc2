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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, LookupEnv: os.LookupEnv}
	code := a.main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
