package onboard

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wgboot/wgboot/internal/simtest"
)

// notReached is what every front end must say when the tunnel was proven
// from the LAN only while the API answered on the WAN before.
const notReached = "the tunnel has not been reached from outside (the internet) yet"

// What the run proved is said as it happened: a technician who came from
// the WAN proved the tunnel over the WAN (the router saw the handshake
// arrive there), and a proof from the LAN only, on a router whose API was
// open on the WAN, says plainly that nobody reached the tunnel from
// outside yet, in the harden question, the summary, its JSON and
// summary.txt (finding 24).
func TestProvenVia(t *testing.T) {
	tests := []struct {
		name    string
		example string
		fromWAN bool // the technician reaches the router on its WAN side
		via     string
		outside bool // OutsideUnproven
	}{
		{"lan, API closed on the WAN before", "../examples/soho-defconf.rsc", false, "lan", false},
		{"lan, API open on the WAN before", "../examples/custom-ports.rsc", false, "lan", true},
		{"technician on the WAN", "../examples/custom-ports.rsc", true, "wan", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := simtest.LoadExample(t, tt.example)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s := startExample(t, ex, nil)
			at := s.LAN
			if tt.fromWAN {
				// Reached by an address that is not one of the router's
				// (a name, a forwarded public address): only the router
				// knows where the packets came from.
				at = s.WAN
			}
			o := simOptions(t, s, at, nil)
			var detail string
			o.Prompter = funcPrompter(func(ctx context.Context, q Question) (bool, error) {
				if q.ID == "harden" {
					detail = q.Detail
				}
				return true, nil
			})
			e, p := simtest.Plan(t, ctx, New, o, o.Settings)
			defer e.Close()
			sum, err := e.Apply(ctx, p)
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if sum.ProvenVia != tt.via || sum.OutsideUnproven != tt.outside {
				t.Errorf("proven via %q, outside unproven %v; want %q, %v", sum.ProvenVia, sum.OutsideUnproven, tt.via, tt.outside)
			}
			b, _ := json.Marshal(sum)
			var js map[string]any
			if err := json.Unmarshal(b, &js); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]any{"proven_via": tt.via, "outside_unproven": tt.outside},
				map[string]any{"proven_via": js["proven_via"], "outside_unproven": js["outside_unproven"]}); diff != "" {
				t.Errorf("summary JSON (-want +got):\n%s", diff)
			}
			txt, err := os.ReadFile(filepath.Join(filepath.Dir(journalPath(o.StateDir, e.addr)), "summary.txt"))
			if err != nil {
				t.Fatal(err)
			}
			for what, text := range map[string]string{"the harden question": detail, "summary.txt": string(txt)} {
				if got := strings.Contains(text, notReached); got != tt.outside {
					t.Errorf("%s says %q: %v, want %v:\n%s", what, notReached, got, tt.outside, text)
				}
			}
			lanOnly := strings.Contains(string(txt), "from the LAN only")
			if lanOnly != (tt.via == "lan") {
				t.Errorf("summary.txt says \"from the LAN only\": %v, want %v:\n%s", lanOnly, tt.via == "lan", txt)
			}
		})
	}
}

// A loopback or unspecified endpoint is on no side: it must not fall
// through to the default route and be called the WAN (it made the WAN
// probe dial the LAN listener of a simulated router).
func TestSideOfLoopback(t *testing.T) {
	r := &Router{
		Addresses: []Row{{"address": "198.51.100.77/24", "interface": "ether1"}, {"address": "192.168.88.1/24", "interface": "bridge"}},
		Routes:    []Row{{"dst-address": "0.0.0.0/0", "gateway": "198.51.100.1", "active": "true"}},
	}
	wans := []wanIface{{Name: "ether1"}}
	for _, tt := range []struct {
		addr, want string
	}{
		{"127.0.0.1", ""},
		{"::1", ""},
		{"0.0.0.0", ""},
		{"192.168.88.50", "lan"},
		{"198.51.100.9", "wan"},
		{"203.0.113.5", "wan"}, // by the default route
	} {
		if got := r.sideOf(netip.MustParseAddr(tt.addr), wans); got != tt.want {
			t.Errorf("sideOf(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
