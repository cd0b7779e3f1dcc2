package sim

import (
	"testing"
	"time"
)

// RouterOS parses a whole script before it runs any of it: a script with
// an unterminated string or a bad escape anywhere does nothing at all,
// whether run by name or by the scheduler. rossim must refuse the same
// scripts, so that a broken rollback script in a test really does nothing
// (finding 16).
func TestScriptSyntaxErrorRunsNothing(t *testing.T) {
	// Each line alone would run: an entry, then an injected user.
	ran := "/ip firewall address-list add list=ran address=10.0.0.1\n/user add name=evil group=full\n"
	tests := []struct{ name, broken string }{
		{"unterminated string", `:log info "abc`},
		{"unterminated at a continuation", ":log info \"abc\\"},
		{"unknown escape", `:log info "\q"`},
		{"lowercase hex escape", `:log info "\c3\a9"`},
		{"one hex digit", `:log info "\F"`},
		{"bare dollar", `:log info "$ x"`},
		{"quote cut at ;", `/ip firewall filter remove [find where comment="wgboot:r harden-ether1`},
		{"unclosed find", `/ip firewall filter remove [find where comment="x"`},
		{"unclosed block", `:if (true) do={ :log info "x"`},
		{"text after a quoted value", `/interface set "ether1"x disabled=no`},
	}
	r := startRouter(t, Options{ClockSpeed: 600})
	c := dial(t, apiAddr(r, 0), "admin", "")
	clk, err := c.Run("/system/clock/print")
	if err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse("2006-01-02 15:04:05", clk.Re[0].Map["date"]+" "+clk.Re[0].Map["time"])
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		src := ran + tt.broken + "\n"
		name := "s" + itoa(i)
		if _, err := c.Run("/system/script/add", "=name="+name, "=source="+src); err != nil {
			t.Fatalf("%s: add: %v", tt.name, err)
		}
		if _, err := c.Run("/system/script/run", "=number="+name); err == nil {
			t.Errorf("%s: the script ran without error", tt.name)
		}
		at := now.Add(time.Minute)
		if _, err := c.Run("/system/scheduler/add", "=name="+name, "=start-date="+at.Format("2006-01-02"), "=start-time="+at.Format("15:04:05"),
			"=interval=0", "=on-event="+src); err != nil {
			t.Fatalf("%s: scheduler add: %v", tt.name, err)
		}
	}
	// Every script failed twice (run by name, then by its scheduler): the
	// scheduler's failure is logged as RouterOS logs it.
	waitFor(t, "every scheduler to fire and fail", func() bool {
		rep, err := c.Run("/log/print", "?topics=script,error")
		return err == nil && len(rep.Re) == 2*len(tests)
	})
	for _, chk := range []struct{ path, query string }{{"/ip/firewall/address-list/print", "?list=ran"}, {"/user/print", "?name=evil"}} {
		rep, err := c.Run(chk.path, chk.query)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Re) != 0 {
			t.Errorf("a line of a script that does not parse ran: %s %s found %v", chk.path, chk.query, rows(rep))
		}
	}
}

// A user is found by its name at login, whatever the name looks like: an
// id, a number, quotes and separators (the hostile-name corpus in proof).
func TestLoginByName(t *testing.T) {
	for _, name := range []string{"*1", "*1F", "0", `x" ; /user add name=evil`, "tab\there"} {
		t.Run(name, func(t *testing.T) {
			r := startRouter(t, Options{User: name, Password: "pw"})
			c := dial(t, apiAddr(r, 0), name, "pw")
			if _, err := c.Run("/system/identity/print"); err != nil {
				t.Fatal(err)
			}
			if _, err := dialErr(apiAddr(r, 0), "*1", "pw"); name != "*1" && err == nil {
				t.Errorf("the id *1 logged in as the user %q", name)
			}
		})
	}
}
