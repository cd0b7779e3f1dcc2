package onboard

import (
	"testing"

	"github.com/wgboot/wgboot/internal/leakcheck"
)

// TestMain fails the package when goroutines outlive the tests: every engine, simulator and local peer must have been closed.
func TestMain(m *testing.M) { leakcheck.Main(m, "onboard", 0) }
