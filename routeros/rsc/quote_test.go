package rsc

import (
	"context"
	"testing"
	"time"
)

// logTarget is a router whose every menu holds one item, named name; it
// records what :log writes and which commands run.
type logTarget struct {
	name string // the one item of every menu has this name
	logs []string
	ran  []string
}

func (l *logTarget) Find(_ string, where func(get func(string) (string, bool)) bool) ([]string, error) {
	if where == nil || where(func(p string) (string, bool) { return l.name, p == "name" }) {
		return []string{"*1"}, nil
	}
	return []string{}, nil
}

func (l *logTarget) Exec(_ context.Context, menu, verb string, args []Arg) (string, error) {
	l.ran = append(l.ran, menu+" "+verb)
	return "", nil
}
func (l *logTarget) Log(_ context.Context, _ string, m string)  { l.logs = append(l.logs, m) }
func (l *logTarget) Sleep(context.Context, time.Duration) error { return nil }

// quoteRoundTrip checks that v, written with QuoteString into a script as a
// message and as a find literal, reads back as exactly v and runs nothing
// else.
func quoteRoundTrip(t *testing.T, v string) {
	t.Helper()
	q := QuoteString(v)
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		t.Fatalf("QuoteString(%q) = %s: not in double quotes", v, q)
	}
	src := ":log info " + q + "\n/interface set [find where name=" + q + "] disabled=yes\n"
	s, err := ParseScript(src)
	if err != nil {
		t.Fatalf("QuoteString(%q) = %s does not parse in a script: %v", v, q, err)
	}
	lt := &logTarget{name: v}
	if err := s.Run(context.Background(), lt); err != nil {
		t.Fatalf("QuoteString(%q): run: %v", v, err)
	}
	if len(lt.logs) != 1 || lt.logs[0] != v {
		t.Fatalf("QuoteString(%q) = %s reads back as %q", v, q, lt.logs)
	}
	if len(lt.ran) != 1 || lt.ran[0] != "/interface set" {
		t.Fatalf("QuoteString(%q) = %s: the find did not find exactly its name, or something else ran: %q", v, q, lt.ran)
	}
}

func TestQuoteString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ether1", `"ether1"`},
		{"123", `"123"`},
		{"*1", `"*1"`},
		{"yes", `"yes"`},
		{"", `""`},
		{"ether1; fibre", `"ether1; fibre"`},
		{`x" ; /user add name=evil group=full ; :put "`, `"x\" ; /user add name=evil group=full ; :put \""`},
		{"$(/system reboot)", `"\$(/system reboot)"`},
		{"[/system reboot]", `"[/system reboot]"`},
		{"{a}?\t\\", `"{a}\?\t\\"`},
		{"wän", `"w\C3\A4n"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := QuoteString(tt.in); got != tt.want {
				t.Errorf("QuoteString(%q) = %s, want %s", tt.in, got, tt.want)
			}
			quoteRoundTrip(t, tt.in)
		})
	}
}

func FuzzQuoteString(f *testing.F) {
	for _, s := range []string{"ether1", "a; b", `x" ; /system reboot ; :put "`, "$[x]", "\x00\xff", "\\\n", "{}?#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) { quoteRoundTrip(t, v) })
}
