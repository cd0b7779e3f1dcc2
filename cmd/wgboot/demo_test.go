package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runDemoCLI runs `wgboot demo --accessible args...` with enter at every prompt.
func runDemoCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{}
	a := &app{Stdin: strings.NewReader(strings.Repeat("\n", 12)), Stdout: &out, Stderr: &errb,
		Getenv:    func(k string) string { return env[k] },
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := a.main(ctx, append([]string{"demo", "--accessible"}, args...))
	return code, out.String(), errb.String()
}

// TestDemoOwnExport: wgboot demo --config rehearses the whole onboarding on
// a simulated copy of the technician's router, after saying which router
// it is and where its WAN and LAN are.
func TestDemoOwnExport(t *testing.T) {
	code, out, errOut := runDemoCLI(t, "--config", "../../examples/real/rb941-7.2.1-pppoe.rsc")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"Demo: a simulated copy of rb941-7.2.1-pppoe.rsc (RouterBOARD 941-2nD, RouterOS 7.2.1).",
		"WAN pppoe-out1 on 127.", "(address 203.0.113.7/32, as its DHCP or PPPoE client would get)",
		"LAN ether3 on 127.", "(you are 192.168.200.100 there)",
		"its API is closed on the WAN",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestDemoBadExport: an export that does not load stops the demo with its
// line number and the offending text; an unreadable file says so.
func TestDemoBadExport(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.rsc")
	text := "# 2025-06-10 18:46:11 by RouterOS 7.19.1\r\n/ip dhcp-client\r\nadd interface=ether1\r\n/ip firewall filter\r\nadd chain=input action=explode\r\n"
	if err := os.WriteFile(bad, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ file, want string }{
		{bad, "config line 5: /ip firewall filter add: input does not match any value of action\n  5 | add chain=input action=explode"},
		{filepath.Join(t.TempDir(), "missing.rsc"), "demo: read the export:"},
	}
	for _, tt := range tests {
		code, out, errOut := runDemoCLI(t, "--config", tt.file)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("exit %d, stderr:\n%s\nwant it to hold:\n%s\nstdout:\n%s", code, errOut, tt.want, out)
		}
	}
}
