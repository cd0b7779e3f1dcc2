package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/fleet"
	"github.com/wgboot/wgboot/internal/simtest"
	"github.com/wgboot/wgboot/onboard"
)

// hostileIdentity retitles the terminal window (OSC), clears the screen
// (CSI), reverses what follows (bidi override), sends an 8-bit CSI and
// forges an output line.
const hostileIdentity = "\x1b]0;pwned\x07\x1b[2J evil\u202e\u009b31m\nplan ok"

// hostileComment hides the rest of a line (CSI 8m, concealed) and
// rewrites the line it is on (carriage return).
const hostileComment = "defconf\x1b[8m hidden\r\x9bforged"

// rawControls are what must never reach the terminal from a router.
var rawControls = []string{"\x1b", "\x07", "\u202e", "\u009b"}

// TestHostileRouterStrings: a router whose identity carries escape
// sequences cannot drive the technician's terminal. Text output shows the
// escapes visibly; JSON output stays JSON and decodes to the same name.
func TestHostileRouterStrings(t *testing.T) {
	ex := simtest.Named(t, "soho-defconf")
	r, addr := startSim(t, ex)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := r.Dial(ctx, r.Reach(), false, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Run(ctx, "/system/identity/set", "=name="+hostileIdentity)
	if err == nil {
		// The rule audit quotes as the one that drops the API.
		_, err = c.Run(ctx, "/ip/firewall/filter/set", "=numbers=*5", "=comment="+hostileComment)
	}
	c.Close()
	if err != nil {
		t.Fatal(err)
	}

	env := map[string]string{"WGBOOT_PASSWORD": "pw-golden"}
	hook := func(o *onboard.Options) { o.RunID = "hostile" }
	common := []string{"--router", addr, "--fingerprint", r.Info.Fingerprint, "--state-dir", t.TempDir()}
	identity := `\x1b]0;pwned\x07\x1b[2J evil\u202e\u009b31m\nplan ok`
	// Audit quotes the rule's comment in RouterOS form (rsc.Quote): ESC and
	// the 8-bit CSI become \1B and \9B, the carriage return \r.
	comment := `defconf\1B[8m hidden\r\9Bforged`
	for _, args := range [][]string{{"plan"}, {"status"}, {"audit"}} {
		t.Run(args[0], func(t *testing.T) {
			visible := identity
			if args[0] == "audit" {
				visible = comment
			}
			code, out, errOut := runCLI(t, env, hook, append(args, common...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			for _, raw := range rawControls {
				if strings.Contains(out+errOut, raw) {
					t.Errorf("%s output holds raw %q:\n%q\n%q", args[0], raw, out, errOut)
				}
			}
			if !strings.Contains(out+errOut, visible) {
				t.Errorf("%s output does not show the router's text as %s:\n%s\n%s", args[0], visible, out, errOut)
			}
		})
	}
	for _, args := range [][]string{{"plan", "--json"}, {"status", "--json"}, {"audit", "--json"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, env, hook, append(args, common...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			for _, raw := range rawControls {
				if strings.Contains(out+errOut, raw) {
					t.Errorf("%s output holds raw %q", args, raw)
				}
			}
			// Events are JSON lines (on stdout for plan, on stderr for
			// status and audit, whose stdout is one value); decoded, the
			// router's strings are intact.
			var decoded string
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if args[0] == "plan" {
				lines = append(lines, strings.Split(strings.TrimSpace(out), "\n")...)
			} else {
				decoded = decodedStrings(t, out)
			}
			for _, line := range lines {
				if line != "" {
					decoded += decodedStrings(t, line)
				}
			}
			want := hostileIdentity
			if args[0] == "audit" {
				want = comment // already quoted by the engine: no control byte left
			}
			if !strings.Contains(decoded, want) {
				t.Errorf("the JSON output does not decode to %q:\n%s\n%s", want, out, errOut)
			}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if args[0] != "plan" {
					line = out // one indented value
				}
				var v any
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Errorf("stdout is not JSON: %v\n%s", err, out)
				}
				if args[0] != "plan" {
					break
				}
			}
		})
	}
}

// decodedStrings joins every string in a JSON document.
func decodedStrings(t *testing.T, doc string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v + "\n")
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

// TestFleetViewHostile: the fleet table, line output and summary show a
// hostile identity and message as escapes; the live table's own cursor
// moves stay the only escape sequences it writes.
func TestFleetViewHostile(t *testing.T) {
	inv := &fleet.Inventory{Routers: []fleet.Router{{Address: "192.0.2.1"}}}
	ev := fleet.Event{Index: 0, Router: "192.0.2.1", Identity: hostileIdentity, Step: onboard.StepInspect,
		Kind: onboard.KindWarning, Message: "router said: " + hostileComment}
	res := []fleet.Result{{Router: "192.0.2.1", Identity: hostileIdentity, Err: errors.New("routeros: router said: \x1b[31mno\u202e")}}
	for _, live := range []bool{false, true} {
		t.Run(fmt.Sprintf("live=%v", live), func(t *testing.T) {
			var out bytes.Buffer
			v := newFleetView(&out, inv, false, live)
			v.event(ev)
			v.stop()
			v.summary(res, time.Second)
			got := out.String()
			if live {
				// Only the table's own sequences: cursor up, erase line.
				got = regexp.MustCompile(`\x1b\[(\d+A|2K)`).ReplaceAllString(got, "")
			}
			for _, raw := range append(rawControls, "\r") {
				if strings.Contains(got, raw) {
					t.Errorf("output holds raw %q:\n%q", raw, got)
				}
			}
			wants := []string{`defconf\x1b[8m hidden\r`, `\x1b[31mno\u202e`}
			if live {
				// The live table fits the terminal: the IDENTITY column
				// shows the escapes, cut with an ellipsis, never raw.
				wants = []string{`\x1b]0;pw…`, `\x1b[31mno\u202e`}
			}
			for _, want := range wants {
				if !strings.Contains(got, want) {
					t.Errorf("output does not show %s:\n%s", want, got)
				}
			}
		})
	}
}
