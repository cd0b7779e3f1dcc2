package rsc

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeTarget is an in-memory router: menus of items with ".id"s, add /
// set / remove / enable / disable / move, and a record of every call.
type fakeTarget struct {
	menus  map[string][]map[string]string
	nextID int
	calls  []string
	logs   []string
	sleeps []time.Duration
	fail   map[string]string // "menu verb" -> error text
}

func newFake(items map[string][]string) *fakeTarget {
	f := &fakeTarget{menus: map[string][]map[string]string{}, nextID: 1}
	var menus []string
	for menu := range items {
		menus = append(menus, menu)
	}
	sort.Strings(menus) // ids are handed out in a stable order
	for _, menu := range menus {
		f.menus[menu] = []map[string]string{}
		for _, it := range items[menu] {
			m := map[string]string{".id": fmt.Sprintf("*%X", f.nextID)}
			f.nextID++
			for _, kv := range strings.Split(it, "|") {
				k, v, _ := strings.Cut(kv, "=")
				m[k] = v
			}
			f.menus[menu] = append(f.menus[menu], m)
		}
	}
	return f
}

func (f *fakeTarget) Find(menu string, where func(get func(string) (string, bool)) bool) ([]string, error) {
	items, ok := f.menus[menu]
	if !ok {
		return nil, errors.New("no such command prefix")
	}
	var ids []string
	for _, it := range items {
		if where == nil || where(func(p string) (string, bool) { v, ok := it[p]; return v, ok }) {
			ids = append(ids, it[".id"])
		}
	}
	return ids, nil
}

func (f *fakeTarget) index(menu, ref string) int {
	for i, it := range f.menus[menu] {
		if it[".id"] == ref || it["name"] == ref {
			return i
		}
	}
	return -1
}

func (f *fakeTarget) Exec(_ context.Context, menu, verb string, args []Arg) (string, error) {
	parts := []string{menu, verb}
	props := map[string]string{}
	var keys []string
	for _, a := range args {
		parts = append(parts, a.Key+"="+a.Value)
		props[a.Key] = a.Value
		keys = append(keys, a.Key)
	}
	f.calls = append(f.calls, strings.Join(parts, " "))
	if msg, ok := f.fail[menu+" "+verb]; ok {
		return "", errors.New(msg)
	}
	if _, ok := f.menus[menu]; !ok {
		return "", errors.New("no such command prefix")
	}
	var targets []int
	if n, ok := props["numbers"]; ok {
		for _, ref := range strings.Split(n, ",") {
			i := f.index(menu, ref)
			if i < 0 {
				return "", errors.New("no such item")
			}
			targets = append(targets, i)
		}
	}
	items := f.menus[menu]
	switch verb {
	case "add":
		it := map[string]string{".id": fmt.Sprintf("*%X", f.nextID)}
		f.nextID++
		for _, k := range keys {
			if k != "place-before" {
				it[k] = props[k]
			}
		}
		pos := len(items)
		if pb, ok := props["place-before"]; ok {
			if pos = f.index(menu, pb); pos < 0 {
				return "", errors.New("no such item")
			}
		}
		f.menus[menu] = append(items[:pos:pos], append([]map[string]string{it}, items[pos:]...)...)
		return it[".id"], nil
	case "set", "enable", "disable":
		for _, i := range targets {
			for _, k := range keys {
				if k != "numbers" {
					items[i][k] = props[k]
				}
			}
			if verb != "set" {
				items[i]["disabled"] = map[string]string{"enable": "no", "disable": "yes"}[verb]
			}
		}
	case "remove", "move":
		sel := map[string]bool{}
		var moved []map[string]string
		for _, i := range targets {
			sel[items[i][".id"]] = true
			moved = append(moved, items[i])
		}
		var rest []map[string]string
		for _, it := range items {
			if !sel[it[".id"]] {
				rest = append(rest, it)
			}
		}
		f.menus[menu] = rest
		if verb == "move" {
			pos := len(rest)
			if d, ok := props["destination"]; ok {
				if pos = f.index(menu, d); pos < 0 {
					return "", errors.New("no such item")
				}
			}
			f.menus[menu] = append(rest[:pos:pos], append(moved, rest[pos:]...)...)
		}
	}
	return "", nil
}

func (f *fakeTarget) Log(_ context.Context, topic, message string) {
	f.logs = append(f.logs, topic+": "+message)
}

func (f *fakeTarget) Sleep(ctx context.Context, d time.Duration) error {
	f.sleeps = append(f.sleeps, d)
	return ctx.Err()
}

// dump lists every item as "menu id k=v ..." in order, for comparisons.
func (f *fakeTarget) dump() []string {
	var menus []string
	for m := range f.menus {
		menus = append(menus, m)
	}
	sort.Strings(menus)
	var out []string
	for _, m := range menus {
		for _, it := range f.menus[m] {
			var kv []string
			for k, v := range it {
				if k != ".id" {
					kv = append(kv, k+"="+v)
				}
			}
			sort.Strings(kv)
			out = append(out, m+" "+it[".id"]+" "+strings.Join(kv, " "))
		}
	}
	return out
}

const (
	filter = "/ip firewall filter"
	sched  = "/system scheduler"
)

// defconfInput is the defconf input chain plus two wgboot rules, as items
// *1..*7 of the fake's filter menu.
var defconfInput = map[string][]string{
	filter: {
		"chain=input|action=accept|comment=defconf: accept established,related,untracked",
		"chain=input|action=drop|comment=defconf: drop invalid",
		"chain=input|action=accept|comment=wgboot: wireguard|disabled=no",
		"chain=input|action=accept|comment=defconf: accept ICMP",
		"chain=input|action=accept|comment=wgboot: api from vpn|disabled=yes",
		"chain=input|action=drop|comment=defconf: drop all not coming from LAN",
		"chain=forward|action=drop|comment=defconf: drop invalid",
	},
	sched:         {"name=wgboot-rollback|interval=0s|on-event=x"},
	"/ip address": {},
}

func TestScriptRun(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		wantCalls []string
		wantLogs  []string
		wantSleep []time.Duration
		wantState []string // nil: not checked
	}{
		{
			name: "rollback removes tagged rules and its own scheduler",
			src: `/ip firewall filter remove [find where comment~"^wgboot:"]
:log warning "wgboot: rolled back"
/system scheduler remove [find name="wgboot-rollback"]`,
			wantCalls: []string{filter + " remove numbers=*3,*5", sched + " remove numbers=*8"},
			wantLogs:  []string{"warning: wgboot: rolled back"},
			wantState: []string{
				filter + " *1 action=accept chain=input comment=defconf: accept established,related,untracked",
				filter + " *2 action=drop chain=input comment=defconf: drop invalid",
				filter + " *4 action=accept chain=input comment=defconf: accept ICMP",
				filter + " *6 action=drop chain=input comment=defconf: drop all not coming from LAN",
				filter + " *7 action=drop chain=forward comment=defconf: drop invalid",
			},
		},
		{
			name:      "running the rollback twice is harmless",
			src:       "/ip firewall filter remove [find where comment~\"^wgboot:\"]; /ip firewall filter remove [find where comment~\"^wgboot:\"]",
			wantCalls: []string{filter + " remove numbers=*3,*5"},
		},
		{
			name: "relative commands after a menu line, semicolons",
			src: `/ip firewall filter
disable [find where comment="defconf: drop invalid" and chain=input]; enable *5
set *1 log=yes`,
			wantCalls: []string{filter + " disable numbers=*2", filter + " enable numbers=*5", filter + " set numbers=*1 log=yes"},
		},
		{
			name:      "and, or, ! and parentheses",
			src:       `/ip firewall filter remove [find where chain=input and (comment~"ICMP\$" or action=drop) and !(comment~"LAN")]`,
			wantCalls: []string{filter + " remove numbers=*2,*4"},
		},
		{
			name:      "boolean properties and != ",
			src:       `/ip firewall filter remove [find where disabled and comment!=""]`,
			wantCalls: []string{filter + " remove numbers=*5"},
		},
		{
			name:      "place-before with a find in another menu context",
			src:       `/ip firewall filter add chain=input action=accept protocol=udp dst-port=13231 comment="wgboot: wg" place-before=[/ip firewall filter find where comment="defconf: drop all not coming from LAN"]`,
			wantCalls: []string{filter + " add chain=input action=accept protocol=udp dst-port=13231 comment=wgboot: wg place-before=*6"},
		},
		{
			name: "foreach with $i and a local counter",
			src: `/ip firewall filter
:local n 0
:foreach i in=[find where comment~"^defconf:" and chain=input] do={
  set $i comment="old: $i"
  :set n ($n = 0)
}
:log info "n is $n"`,
			wantCalls: []string{
				filter + " set numbers=*1 comment=old: *1", filter + " set numbers=*2 comment=old: *2",
				filter + " set numbers=*4 comment=old: *4", filter + " set numbers=*6 comment=old: *6",
			},
			wantLogs: []string{"info: n is false"},
		},
		{
			name: "globals, delay, put, error topics",
			src: `:global wgbootState "armed"
:delay 1s
:delay 00:05:00
:put "ignored $wgbootState"
:log error "state=$wgbootState \$notavar \"q\""
{ :global wgbootState; :log debug $wgbootState }`,
			wantLogs:  []string{`error: state=armed $notavar "q"`, "debug: armed"},
			wantSleep: []time.Duration{time.Second, 5 * time.Minute},
		},
		{
			name: "if / else with comparisons and :len",
			src: `:local ids [/ip firewall filter find where comment~"^wgboot:"]
:if ([:len $ids] > 1) do={ :log info "many" } else={ :log info "few" }
:if ([:len $ids] = 0) do={ :log info "none" } else={ :log info "some" }
:if ($ids = "x" or true) do={ :log info "or works" }
:if (!false && "a" != "b") do={ :log info "not works" }`,
			wantLogs: []string{"info: many", "info: some", "info: or works", "info: not works"},
		},
		{
			name:      "ids as targets, move with destination and positional destination, numbers= argument",
			src:       "/ip firewall filter\nset *7 disabled=no\nmove *7 destination=*3\nmove *6 *1\nremove numbers=*5",
			wantCalls: []string{filter + " set numbers=*7 disabled=no", filter + " move numbers=*7 destination=*3", filter + " move numbers=*6 destination=*1", filter + " remove numbers=*5"},
		},
		{
			name:      "add returns the new id",
			src:       `:local id [/ip firewall filter add chain=input action=accept comment="wgboot: x"]; /ip firewall filter move $id destination=*1`,
			wantCalls: []string{filter + " add chain=input action=accept comment=wgboot: x", filter + " move numbers=*9 destination=*1"},
		},
		{
			name:      "escapes and interpolation in strings",
			src:       `:local who "tech"; /ip address add address=10.77.0.1/24 interface=wg0 comment="wgboot: \"$who\" \$5 \_ \\ \41$[:len "abc"]"`,
			wantCalls: []string{`/ip address add address=10.77.0.1/24 interface=wg0 comment=wgboot: "tech" $5   \ A3`},
		},
		{
			name:     "do on-error catches a failing command",
			src:      `:do { /ip firewall filter remove *99 } on-error={ :log warning "nothing to remove" }`,
			wantLogs: []string{"warning: nothing to remove"},
			// The failing call is still made.
			wantCalls: []string{filter + " remove numbers=*99"},
		},
		{
			name: "undo script in the engine's shape: unset, move back, remove own schedulers",
			src: `:log warning "wgboot: rolling back run t1"
/ip firewall filter remove [find where comment="wgboot: wireguard"]
/ip firewall filter unset *1 value-name=log
/ip firewall filter set [find where comment="defconf: drop invalid" and chain=input] disabled=no
/ip firewall filter move *6 destination=*4
/system scheduler remove [find where name="wgboot-rollback"]
`,
			wantCalls: []string{
				filter + " remove numbers=*3",
				filter + " unset numbers=*1 value-name=log",
				filter + " set numbers=*2 disabled=no",
				filter + " move numbers=*6 destination=*4",
				sched + " remove numbers=*8",
			},
			wantLogs: []string{"warning: wgboot: rolling back run t1"},
		},
		{
			name: "comments and blank lines",
			src:  "# rollback\n\n   # indented comment\n/ip firewall filter\n\n  remove *3 # trailing\n",
			wantCalls: []string{
				filter + " remove numbers=*3",
			},
		},
		{
			name:      "line continuation in a script",
			src:       "/ip firewall filter remove \\\n    [find where comment=\"defconf: drop\\\n    \\_invalid\" and chain=forward]",
			wantCalls: []string{filter + " remove numbers=*7"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseScript(tt.src)
			if err != nil {
				t.Fatalf("ParseScript: %v", err)
			}
			f := newFake(defconfInput)
			if err := s.Run(context.Background(), f); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(tt.wantCalls, f.calls); diff != "" {
				t.Errorf("Exec calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLogs, f.logs); diff != "" {
				t.Errorf("logs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSleep, f.sleeps); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if tt.wantState != nil {
				if diff := cmp.Diff(tt.wantState, f.dump()); diff != "" {
					t.Errorf("state (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestScriptRunErrors(t *testing.T) {
	tests := []struct {
		name, src string
		fail      map[string]string
		want      string
		wantCalls int
	}{
		{"no such item stops the script", ":log info a\n\n/ip firewall filter remove *99\n/ip firewall filter remove *1",
			nil, "rsc: script line 3: /ip firewall filter remove: no such item", 1},
		{"device error from Exec", "/ip firewall filter\nadd chain=input action=accept\nadd chain=input action=bogus",
			map[string]string{filter + " add": "input does not match any value of action"},
			"rsc: script line 2: /ip firewall filter add: input does not match any value of action", 1},
		{"find in an unknown menu", "/ip firewal filter remove [find]", nil,
			"rsc: script line 1: /ip firewal filter find: no such command prefix", 0},
		{"undefined variable", "/ip firewall filter\nremove $nope", nil,
			"rsc: script line 2: /ip firewall filter remove: undefined variable $nope (declare it with :local or :global)", 0},
		{"bad duration", ":delay soon", nil,
			`rsc: script line 1: :delay: rsc: bad duration "soon": expected a number at "soon" (use a form like 5m, 1d2h3m4s, 500ms or 00:05:00)`, 0},
		{"if on a non-boolean", `:if ("x") do={}`, nil, `rsc: script line 1: :if: condition: "x" is not true or false`, 0},
		{":error", `:error "stop here"`, nil, "rsc: script line 1: :error: stop here", 0},
		{"error inside foreach names the inner line", "/ip firewall filter\n:foreach i in=[find where chain=forward] do={\n  remove $i\n  remove *99\n}",
			nil, "rsc: script line 4: /ip firewall filter remove: no such item", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseScript(tt.src)
			if err != nil {
				t.Fatalf("ParseScript: %v", err)
			}
			f := newFake(defconfInput)
			f.fail = tt.fail
			err = s.Run(context.Background(), f)
			got := "<nil>"
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Run error (-want +got):\n%s", diff)
			}
			var re *RunError
			if err != nil && !errors.As(err, &re) {
				t.Errorf("error %T is not a *RunError", err)
			}
			if len(f.calls) != tt.wantCalls {
				t.Errorf("%d Exec calls, want %d: %q", len(f.calls), tt.wantCalls, f.calls)
			}
		})
	}
}

func TestScriptCancel(t *testing.T) {
	s, err := ParseScript(":delay 5m\n/ip firewall filter remove *1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := newFake(defconfInput)
	err = s.Run(ctx, f)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("commands ran after cancel: %q", f.calls)
	}
}

func TestParseScriptErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unterminated string", ":log info \"abc\n", "rsc: script line 1: unterminated quoted string"},
		{"relative command without menu", ":log info x\nremove *1", "rsc: script line 2: remove without a menu (write the menu first, like /ip firewall filter remove ...)"},
		{"unknown builtin", ":frob x", "rsc: script line 1: unknown command :frob"},
		{"unknown command", "/ip firewall filter\nzap *1", `rsc: script line 2: unknown command "zap"`},
		{"missing closing brace", ":foreach i in=[/ip address find] do={\n :log info $i\n", "rsc: script line 1: block opened here has no closing }"},
		{"missing bracket", "/ip firewall filter remove [find where chain=input\n", "rsc: script line 1: missing ] after command substitution"},
		{"stray brace", ":log info x }", "rsc: script line 1: unexpected '}' after command"},
		{"log without topic", ":log \"x\"", `rsc: script line 1: :log needs a topic: info, warning, error or debug (found "")`},
		{"foreach without do", ":foreach i in=[/ip address find]", "rsc: script line 1: :foreach needs in= and do={...}"},
		{"if without parentheses", ":if true do={}", "rsc: script line 1: :if needs a condition in parentheses, like :if ($x = 1) do={...}"},
		{"dollar without name", ":log info \"a $ b\"", `rsc: script line 1: expected a variable name after $ (write \$ for a literal dollar sign)`},
		{"bad regexp", "/ip firewall filter remove [find where comment~\"[\"]", "rsc: script line 1: bad regular expression \"[\": error parsing regexp: missing closing ]: `[`"},
		{"menu alone in brackets", ":local x [/ip address]", "rsc: script line 1: a menu alone inside [ ] has no value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseScript(tt.src)
			got := "<nil>"
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseScript error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestScriptFromExport runs a scheduler's on-event value taken from an
// export, which is how the simulator runs the rollback it finds there.
func TestScriptFromExport(t *testing.T) {
	f, err := ParseString(`/system scheduler
add interval=0s name=wgboot-rollback on-event=\
    "/ip firewall filter remove [find where comment~\"^wgboot:\"]\r\
    \n/system scheduler remove [find name=\"wgboot-rollback\"]" start-time=startup
`)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := f.Blocks[0].Commands[0].Get("on-event")
	s, err := ParseScript(src)
	if err != nil {
		t.Fatalf("ParseScript(%q): %v", src, err)
	}
	tgt := newFake(defconfInput)
	if err := s.Run(context.Background(), tgt); err != nil {
		t.Fatal(err)
	}
	want := []string{filter + " remove numbers=*3,*5", sched + " remove numbers=*8"}
	if diff := cmp.Diff(want, tgt.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// nopTarget accepts everything; the fuzz target uses it to run what parses.
type nopTarget struct{}

func (nopTarget) Find(string, func(func(string) (string, bool)) bool) ([]string, error) {
	return []string{"*1", "*2"}, nil
}
func (nopTarget) Exec(context.Context, string, string, []Arg) (string, error) { return "*3", nil }
func (nopTarget) Log(context.Context, string, string)                         {}
func (nopTarget) Sleep(context.Context, time.Duration) error                  { return nil }

func FuzzParseScript(f *testing.F) {
	f.Add(`/ip firewall filter remove [find where comment~"^wgboot:"]` + "\n/system scheduler remove [find name=\"wgboot-rollback\"]")
	f.Add(":foreach i in=[/ip address find where !dynamic] do={ :log info \"addr $i\"; :delay 1s }")
	f.Add(":local x [:len [/ip route find]]; :if ($x > 0 and (true || !false)) do={ :put $x } else={ :error \"none\" }")
	f.Add(":do { /ip firewall filter move *7 destination=*3 } on-error={ :log warning \"\\$x \\\"\" }")
	f.Add("/ip firewall filter\nadd chain=input place-before=[find where comment=\"a\\\n    b\"]; set *1F disabled=no")
	f.Fuzz(func(t *testing.T, src string) {
		s, err := ParseScript(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), "rsc: script line ") {
				t.Fatalf("parse error %v is not a *SyntaxError naming the script line", err)
			}
			return
		}
		// Running must not panic; loops are bounded because foreach only
		// walks finite lists.
		_ = s.Run(context.Background(), nopTarget{})
	})
}
