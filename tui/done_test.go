package tui

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/onboard"
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

// TestFormValidators: the wizard's fields refuse what the engine's Plan
// would refuse, without the package prefix.
func TestFormValidators(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) error
		in   string
		want string // "" valid
	}{
		{"subnet ok", validateSubnet, "10.77.0.0/24", ""},
		{"subnet public", validateSubnet, "8.8.8.0/24", "VPN subnet 8.8.8.0/24 is not a private range (10/8, 172.16/12, 192.168/16): give one like 10.77.0.0/24"},
		{"subnet empty: the engine picks a free one", validateSubnet, " ", ""},
		{"endpoint empty", validateEndpoint, "", ""},
		{"endpoint ok", validateEndpoint, "wg.example.com:13231", ""},
		{"endpoint space", validateEndpoint, "wg example", `Published endpoint "wg example": a host name has no spaces; give the router's public host name or address, optionally with :PORT (like wg.example.com or 203.0.113.7:13231)`},
		{"host ok", validateHost, "192.168.88.1", ""},
		{"host non-ASCII", validateHost, "routér", `Router "routér": a host name with non-ASCII letters must be given in its xn-- (punycode) form; give the router's address or host name, optionally with :PORT (like 192.168.88.1 or router.example.com:8729)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := tt.fn(tt.in); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestDoneProven: the Done screen says how the tunnel was proven, and says
// plainly when it has not been reached from outside (the internet) yet:
// proven from the LAN only on a router whose API answered on the WAN.
func TestDoneProven(t *testing.T) {
	lan := *fakeSummary
	lan.ProvenVia, lan.OutsideUnproven = "lan", true
	const notReached = "has not been reached from outside (the internet) yet"
	tests := []struct {
		name string
		sum  *onboard.Summary
		says bool
	}{
		{"wan", fakeSummary, false},
		{"lan-not-reached", &lan, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := &fakeEngine{summary: tt.sum}
			factory, _ := fakeFactory(fe)
			h := start(t, demoOptions(factory, newFakeClock()))
			h.waitFor("Router", "Password", "api-ssl")
			h.submitConnect()
			h.waitFor("Trust and continue")
			h.key("enter")
			h.waitFor("Press enter")
			h.key("enter")
			h.waitFor("Commands (7)")
			h.key("enter")
			h.waitFor("Yes, close it")
			h.key("enter")
			v := h.waitFor("Reconnect next time", "Proven via  "+tt.sum.ProvenVia)
			if got := strings.Contains(strings.Join(strings.Fields(v), " "), notReached); got != tt.says {
				t.Errorf("the Done screen says %q: %v, want %v:\n%s", notReached, got, tt.says, v)
			}
			h.golden(t, v)
		})
	}
}
