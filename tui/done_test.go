package tui

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQRHint(t *testing.T) {
	qr := strings.TrimSuffix(strings.Repeat(strings.Repeat("█", 30)+"\n", 20), "\n") // 30×20
	tests := []struct {
		name string
		w, h int
		want string
	}{
		{"fits", 80, 22, "Scan with the WireGuard app.\nThe whole code is on screen."},
		{"too short", 80, 21, "Scan with the WireGuard app.\nTaller than the terminal (19 of 20 lines): ↑/↓ scroll, or enlarge it."},
		{"too narrow", 29, 40, "Scan with the WireGuard app.\nThe code is 30 columns wide, the terminal 29: widen it."},
		{"too small", 20, 10, "Scan with the WireGuard app.\nThe code needs 30×22, the terminal has 20×10: enlarge it (↑/↓ scroll)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, qrHint(qr, tt.w, tt.h)); diff != "" {
				t.Errorf("qrHint (-want +got):\n%s", diff)
			}
		})
	}
}
