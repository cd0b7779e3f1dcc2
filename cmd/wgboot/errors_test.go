package main

import (
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// goPrefixes are the package prefixes and raw network errors a technician
// must not see without --debug.
var goPrefixes = []string{"onboard:", "routeros:", "fleet:", "vpn:", "dial tcp", "connect: connection refused", "i/o timeout", "context deadline exceeded"}

// Each error is printed once, in words, without package prefixes; --debug
// adds the full cause chain. Through the built binary.
func TestCLIErrorsInWords(t *testing.T) {
	refused := refusingAddr(t)
	silent := silentAddr(t)
	env := map[string]string{"WGBOOT_PASSWORD": "x"}
	tests := []struct {
		name   string
		args   []string
		code   int
		once   string   // printed exactly once
		want   []string // also said
		debug  bool     // the raw chain is expected
		maxDur time.Duration
	}{
		{name: "refused plan", args: []string{"plan", "--router", refused, "--plain"}, code: 1,
			once: "nothing listens", want: []string{refused, "try: "}},
		{name: "refused apply", args: []string{"apply", "--yes", "--router", refused, "--plain"}, code: 1,
			once: "nothing listens", want: []string{refused, "try: "}},
		{name: "refused apply --json", args: []string{"apply", "--yes", "--json", "--router", refused, "--plain"}, code: 1,
			once: "nothing listens", want: []string{"try: "}},
		{name: "refused api-ssl", args: []string{"status", "--router", refused, "--tofu"}, code: 1, once: "nothing listens"},
		{name: "refused with --debug", args: []string{"plan", "--router", refused, "--plain", "--debug"}, code: 1,
			want: []string{"nothing listens", "dial tcp", "connect: connection refused", "routeros:"}, debug: true},
		{name: "no answer in --connect-timeout", args: []string{"plan", "--router", silent, "--plain", "--connect-timeout", "1s"}, code: 1,
			once: "within 1s (--connect-timeout)", want: []string{"did not answer"}, maxDur: 8 * time.Second},
		{name: "usage error from the engine", args: []string{"plan", "--router", "127.0.0.1", "--subnet", "8.8.8.0/24"}, code: 2,
			once: "not a private range"},
		{name: "bad --connect-timeout", args: []string{"plan", "--router", "127.0.0.1", "--connect-timeout", "0s"}, code: 2,
			once: "--connect-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := runBin(t, env, tt.args...)
			took := time.Since(start)
			if res.code != tt.code {
				t.Errorf("exit %d, want %d\n%s", res.code, tt.code, res)
			}
			all := res.stdout + res.stderr
			human := all
			if strings.Contains(tt.name, "--json") {
				human = res.stderr // stdout is the JSON events, raw on purpose
			}
			if tt.once != "" && strings.Count(human, tt.once) != 1 {
				t.Errorf("%q printed %d times, want once:\n%s", tt.once, strings.Count(human, tt.once), res)
			}
			for _, w := range tt.want {
				if !strings.Contains(human, w) {
					t.Errorf("output does not say %q:\n%s", w, res)
				}
			}
			if !tt.debug {
				for _, p := range goPrefixes {
					if strings.Contains(human, p) {
						t.Errorf("output shows %q:\n%s", p, res)
					}
				}
			}
			if tt.maxDur > 0 && took > tt.maxDur {
				t.Errorf("took %s, want under %s", took, tt.maxDur)
			}
		})
	}
}

// refusingAddr is a loopback address:port where nothing listens.
func refusingAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// silentAddr is a loopback address:port whose connection attempts get no
// answer: a listening socket with a full accept queue that never accepts
// (Linux then drops further SYNs, as a firewall drop would).
func silentAddr(t *testing.T) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	// Fill the queue: these complete and are never accepted.
	for range 4 {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	if c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond); err == nil {
		c.Close()
		t.Skip("this kernel completes connections beyond a full accept queue: cannot make a silent address on loopback")
	}
	return addr
}

// The rendering of the engine's error chains, case by case.
func TestTechnicianText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"onboard: connect to 127.0.0.1:1: routeros: connection refused by 127.0.0.1:1: nothing listens there; check the address: dial tcp 127.0.0.1:1: connect: connection refused",
			"connect to 127.0.0.1:1: connection refused by 127.0.0.1:1: nothing listens there; check the address"},
		{"onboard: connect to r.example:8729: dial tcp: lookup r.example on 127.0.0.53:53: no such host",
			"connect to r.example:8729: the name r.example does not resolve (a typo, or this computer's DNS does not know it)"},
		{"onboard: inspect: routeros: /system/resource/print: read tcp 10.0.0.2:5555->10.0.0.1:8729: read: connection reset by peer",
			"inspect: /system/resource/print: 10.0.0.1:8729 closed the connection (reset)"},
		{"onboard: verify: dial tcp 10.77.0.1:8729: connect: no route to host",
			"verify: there is no route to 10.77.0.1:8729: check the address and this computer's network"},
		{"fleet: 2 of 3 routers failed", "2 of 3 routers failed"},
		{"onboard: plan: context deadline exceeded", "plan: timed out"},
		{"routeros: no answer before the deadline: 192.0.2.1:8729 did not answer the connection attempt within 10s; the host may be down: dial tcp 192.0.2.1:8729: i/o timeout",
			"no answer before the deadline: 192.0.2.1:8729 did not answer the connection attempt within 10s; the host may be down"},
		{"onboard: connect to 192.0.2.1:8729: routeros: no answer before the deadline: 192.0.2.1:8729 did not answer the connection attempt within 10s: 192.0.2.1:8729 did not answer within 2s (--connect-timeout)",
			"192.0.2.1:8729 did not answer the connection attempt within 2s (--connect-timeout): the host may be down, or a firewall may drop the API port; check the address, or give a longer --connect-timeout"},
		{"a sentence that says onboard: in the middle (routeros: x)", "a sentence that says onboard: in the middle (x)"},
		{"plain words", "plain words"},
	}
	for _, tt := range tests {
		if got := technicianText(tt.in); got != tt.want {
			t.Errorf("technicianText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}
