package sim

import (
	"testing"

	"github.com/wgboot/wgboot/internal/leakcheck"
)

// TestMain fails the package when goroutines outlive the tests: every router, listener and WireGuard device must have been closed (2 of slack for the runtime's own).
func TestMain(m *testing.M) { leakcheck.Main(m, "sim", 2) }
