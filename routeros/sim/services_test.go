package sim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// probe connects to a greeting service and says what came back: the first
// line, "silent" (nothing before a short deadline: dropped) or "reset".
func probe(t *testing.T, addr, service string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return "refused"
		}
		if errors.Is(err, syscall.ECONNRESET) {
			// The reset can beat the end of connect on loopback.
			return "reset"
		}
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer nc.Close()
	if service == "www" {
		if _, err := io.WriteString(nc, "GET / HTTP/1.0\r\n\r\n"); err != nil {
			return "reset"
		}
	}
	_ = nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	line, err := bufio.NewReader(nc).ReadString('\n')
	var ne net.Error
	switch {
	case err == nil:
		return strings.TrimRight(line, "\r\n")
	case errors.As(err, &ne) && ne.Timeout():
		return "silent"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF):
		return "reset"
	}
	return "error: " + err.Error()
}

// TestGreetingServices: ssh, winbox and www are bound and go through the
// same input chain as the API, so each verdict shows on the wire.
func TestGreetingServices(t *testing.T) {
	ports := map[string]uint16{"ssh": 2222, "winbox": 18291, "www": 8080}
	greet := map[string]string{"ssh": "SSH-2.0-ROSSSH", "winbox": "ROSSIM-WINBOX", "www": "HTTP/1.1 200 OK"}
	tests := []struct {
		service, action, want string
	}{
		{"ssh", "accept", greet["ssh"]},
		{"ssh", "drop", "silent"},
		{"ssh", "reject", "reset"},
		{"winbox", "accept", greet["winbox"]},
		{"winbox", "drop", "silent"},
		{"winbox", "reject", "reset"},
		{"www", "accept", greet["www"]},
		{"www", "drop", "silent"},
		{"www", "reject", "reset"},
	}
	for _, tt := range tests {
		t.Run(tt.service+"/"+tt.action, func(t *testing.T) {
			cfg := fmt.Sprintf(`/ip service
set ssh port=%d
set winbox port=%d
set www port=%d
/ip firewall filter
add action=%s chain=input dst-port=%d protocol=tcp
`, ports["ssh"], ports["winbox"], ports["www"], tt.action, ports[tt.service])
			r := startRouter(t, Options{Config: cfg})
			li := r.Info().Listen[0]
			got := map[string]uint16{"ssh": li.SSH, "winbox": li.Winbox, "www": li.WWW}
			if diff := cmp.Diff(ports, got); diff != "" {
				t.Fatalf("bound ports (-want +got):\n%s", diff)
			}
			before := r.Stats()
			if got := probe(t, netip.AddrPortFrom(li.Addr, ports[tt.service]).String(), tt.service); got != tt.want {
				t.Errorf("%s with %s: got %q, want %q", tt.service, tt.action, got, tt.want)
			}
			after := r.Stats()
			counted := map[string]int64{"accept": after.Accepted - before.Accepted, "drop": after.Dropped - before.Dropped, "reject": after.Rejected - before.Rejected}
			if counted[tt.action] != 1 {
				t.Errorf("stats after one %s: %+v", tt.action, counted)
			}
		})
	}
	t.Run("disabled", func(t *testing.T) {
		r := startRouter(t, Options{Config: "/ip service\nset ssh disabled=yes port=2222\n"})
		li := r.Info().Listen[0]
		if li.SSH != 0 {
			t.Errorf("disabled ssh bound on %d", li.SSH)
		}
		if got := probe(t, netip.AddrPortFrom(li.Addr, 2222).String(), "ssh"); got != "refused" {
			t.Errorf("disabled ssh: %q, want refused", got)
		}
	})
}
