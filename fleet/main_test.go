package fleet

import (
	"testing"

	"github.com/wgboot/wgboot/internal/leakcheck"
)

// TestMain fails the package when goroutines outlive the tests: every engine and simulated router a run opens must have been closed.
func TestMain(m *testing.M) { leakcheck.Main(m, "fleet", 0) }
