package onboard

import (
	"strings"
	"testing"
)

// --listen-port is a UDP port: the router's TCP services (WinBox 8291,
// api-ssl 8729, ssh 22, ...) are no conflict; WireGuard interfaces and
// RouterOS's own UDP listeners are.
func TestListenPortConflictsOnlyWithUDP(t *testing.T) {
	tests := []struct {
		port    int
		mod     func(r *Router)
		wantErr string
	}{
		{port: 8291},
		{port: 8729},
		{port: 8728},
		{port: 22},
		{port: 443},
		{port: 13231, mod: func(r *Router) { r.WireGuard = []Row{{"name": "wg0", "listen-port": "13231"}} }, wantErr: "WireGuard interface wg0"},
		{port: 5678, wantErr: "neighbor discovery"},
		{port: 20561, wantErr: "MAC server"},
	}
	for _, tt := range tests {
		t.Run(itoa(tt.port), func(t *testing.T) {
			r := defconf()
			if tt.mod != nil {
				tt.mod(r)
			}
			d, err := decide(r, decideInput{RunID: "t", User: "admin", Settings: Settings{ListenPort: tt.port}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("--listen-port %d: err = %v, want a conflict naming %q", tt.port, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("--listen-port %d: %v", tt.port, err)
			}
			if d.ListenPort != tt.port {
				t.Errorf("listen port %d, want %d", d.ListenPort, tt.port)
			}
		})
	}
}
