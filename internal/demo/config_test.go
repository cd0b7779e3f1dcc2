package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/routeros"
)

// TestStartOwnExport: the demo loads a technician's export, finds its WAN
// and LAN, puts them on loopback addresses and says where they are; the
// API answers where the export lets it (LAN, or WAN when there is none).
func TestStartOwnExport(t *testing.T) {
	tests := []struct {
		file, wan, lan string
		describe       []string
	}{
		{"rb941-7.2.1-pppoe.rsc", "pppoe-out1", "ether3", []string{"WAN pppoe-out1 on 127.", "(address 203.0.113.7/32,", "LAN ether3 on 127.", "you are 192.168.200.100 there"}},
		{"chr-7.19.1-dhcp.rsc", "ether1", "ether2", []string{"WAN ether1 on 127.", "(address 203.0.113.7/24,", "LAN ether2 on 127."}},
		{"hap-ac2-7.18.2-ap.rsc", "bridge", "", []string{"WAN bridge on 127.", "no LAN: you reach it from the WAN side"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "examples", "real", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			r, err := Start(ctx, Options{Config: string(b), Logf: t.Logf})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Wiring.WAN[0] != tt.wan || r.Wiring.LAN != tt.lan {
				t.Errorf("wiring %v, want wan %s lan %q", r.Wiring, tt.wan, tt.lan)
			}
			if !r.LAN.Addr().IsLoopback() || !r.WAN.Addr().IsLoopback() {
				t.Errorf("LAN %v, WAN %v: want loopback addresses", r.LAN, r.WAN)
			}
			d := r.Describe()
			for _, want := range tt.describe {
				if !strings.Contains(d, want) {
					t.Errorf("Describe() = %q, want it to say %q", d, want)
				}
			}
			cl, err := routeros.Dial(ctx, routeros.Config{Addr: r.LAN.String(), TLS: true, Fingerprint: r.Fingerprint, User: "admin", Timeout: 2 * time.Second})
			if err != nil {
				t.Fatalf("API where the technician stands (%v): %v", r.LAN, err)
			}
			cl.Close()
			if want := string(b)[strings.Index(string(b), "/system identity"):]; !strings.Contains(r.Sim.Export(), strings.TrimSpace(strings.SplitN(want, "\n", 3)[1])) {
				t.Errorf("the demo router lacks the export's identity:\n%s", r.Sim.Export())
			}
		})
	}
}

// TestStartBadExport: a bad export stops the demo with its line and text.
func TestStartBadExport(t *testing.T) {
	tests := []struct{ name, config, want string }{
		{"bad value", "/ip address\r\nadd address=10.0.0.300/24 interface=ether1\r\n", "config line 2: /ip address add: invalid value for argument address\n  2 | add address=10.0.0.300/24 interface=ether1"},
		{"bad syntax", "/ip dhcp-client\nadd interface=ether1\n/system identity\nset name=\"oops\n", "config line 4: unterminated quoted string\n  4 | set name=\"oops"},
		{"no WAN", "/system identity\nset name=r\n", "no WAN wgboot can tell"},
		{"api-ssl off", "/ip dhcp-client\nadd interface=ether1\n/ip service\nset api-ssl disabled=yes\n", "demo: api-ssl is off in this export"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Start(t.Context(), Options{Config: tt.config, Logf: t.Logf})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start error:\n%v\nwant it to hold:\n%s", err, tt.want)
			}
		})
	}
}
