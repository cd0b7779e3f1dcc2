package rsc

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkParseExport(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "soho-defconf.rsc"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseString(string(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatExport(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "soho-defconf.rsc"))
	if err != nil {
		b.Fatal(err)
	}
	f, err := ParseString(string(data))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = Format(f)
	}
}

// BenchmarkRollbackScript parses and runs a typical rollback against the
// in-memory fake with 8 items.
func BenchmarkRollbackScript(b *testing.B) {
	src := `/ip firewall filter remove [find where comment~"^wgboot:"]
/ip address remove [find where comment~"^wgboot:"]
:log warning "wgboot: rolled back"
/system scheduler remove [find name="wgboot-rollback"]`
	for b.Loop() {
		s, err := ParseScript(src)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Run(context.Background(), newFake(defconfInput)); err != nil {
			b.Fatal(err)
		}
	}
}
