package main

import (
	"os"
	"testing"

	"github.com/wgboot/wgboot/internal/leakcheck"
)

// TestMain fails the package when goroutines outlive the tests: every engine, simulator and local peer the commands open must have been closed.
// The wgboot binary some tests build is removed at the end.
func TestMain(m *testing.M) {
	code := leakcheck.Run(m, "wgboot", 0)
	binBuild.Remove()
	os.Exit(code)
}
