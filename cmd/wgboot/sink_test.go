package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgboot/wgboot/onboard"
)

// The headless sink prints an inspect group once: the group's name is its
// first fact's name, so the first fact takes the event's line.
func TestSinkText(t *testing.T) {
	tests := []struct {
		name string
		ev   onboard.Event
		want string
	}{
		{
			name: "group named by its first fact",
			ev: onboard.Event{Step: onboard.StepInspect, Kind: onboard.KindProgress, Message: "Identity",
				Facts: []onboard.Fact{{Name: "Identity", Value: "MikroTik"}, {Name: "RouterOS", Value: "7.20.6 (stable)"}}},
			want: "inspect     ..    Identity: MikroTik\n" +
				"          RouterOS: 7.20.6 (stable)\n",
		},
		{
			name: "message is a prefix of the first fact line",
			ev: onboard.Event{Step: onboard.StepInspect, Kind: onboard.KindProgress, Message: "API exposure now: WAN→API ether1 tcp/8729",
				Facts: []onboard.Fact{{Name: "API exposure now", Value: "WAN→API ether1 tcp/8729: drop"}, {Name: "API exposure now", Value: "WAN→API ether1 tcp/8728: accept", Warning: "open"}}},
			want: "inspect     ..    API exposure now: WAN→API ether1 tcp/8729: drop\n" +
				"          API exposure now: WAN→API ether1 tcp/8728: accept  (warning: open)\n",
		},
		{
			name: "first fact with a warning keeps it",
			ev: onboard.Event{Step: onboard.StepInspect, Kind: onboard.KindProgress, Message: "API services",
				Facts: []onboard.Fact{{Name: "API services", Value: "api 8728", Warning: "plain-text API"}}},
			want: "inspect     ..    API services: api 8728  (warning: plain-text API)\n",
		},
		{
			name: "unrelated message keeps its own line",
			ev: onboard.Event{Step: onboard.StepInspect, Kind: onboard.KindDone, Message: "read MikroTik",
				Facts: []onboard.Fact{{Name: "Board", Value: "hAP ac^2"}}},
			want: "inspect   ok      read MikroTik\n" +
				"          Board: hAP ac^2\n",
		},
		{
			name: "no facts",
			ev:   onboard.Event{Step: onboard.StepApply, Kind: onboard.KindDone, Message: "router side applied"},
			want: "apply     ok      router side applied\n",
		},
		{
			// The engine's hint names a setting; the command line says it
			// as its flag, byte for byte what it printed before hints.
			name: "a hint's setting as its flag",
			ev: onboard.Event{Step: onboard.StepTunnel, Kind: onboard.KindFailed, Message: "no handshake",
				Err: &onboard.FailureInfo{Kind: onboard.ErrorNoHandshake, Hint: onboard.ErrorNoHandshake.Hint(), Try: onboard.ErrorNoHandshake.Hint().Text(nil)}},
			want: "tunnel    FAILED  no handshake\n" +
				"          try: no WireGuard handshake usually means the UDP port is blocked or forwarded elsewhere on the way (CGNAT, a router in front): try --verify-endpoint with an address on the router's LAN\n",
		},
		{
			name: "the password is the environment variable",
			ev: onboard.Event{Step: onboard.StepConnect, Kind: onboard.KindFailed, Message: "login refused",
				Err: &onboard.FailureInfo{Hint: &onboard.Hint{Parts: []string{"check the user name and the password in ", ""}, Settings: []onboard.Setting{onboard.SettingPassword}}}},
			want: "connect   FAILED  login refused\n" +
				"          try: check the user name and the password in WGBOOT_PASSWORD\n",
		},
		{
			name: "started lines are dropped",
			ev:   onboard.Event{Step: onboard.StepInspect, Kind: onboard.KindStarted, Message: "Identity"},
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			s := &sink{w: &b}
			s.event(tt.ev)
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

// --json is untouched: one object per event, facts included.
func TestSinkJSONKeepsFacts(t *testing.T) {
	var b bytes.Buffer
	s := &sink{w: &b, json: true}
	ev := onboard.Event{Step: onboard.StepInspect, Kind: onboard.KindProgress, Message: "Identity",
		Facts: []onboard.Fact{{Name: "Identity", Value: "MikroTik"}}}
	s.event(ev)
	var got onboard.Event
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || bytes.Count(b.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("want one JSON object on one line, got %q (%v)", b.String(), err)
	}
	if diff := cmp.Diff(ev, got); diff != "" {
		t.Errorf("json event (-want +got):\n%s", diff)
	}
}
