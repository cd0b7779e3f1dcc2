package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRollbackScheduler arms a one-shot rollback on an accelerated clock,
// as wgboot does, and checks that it reverts the tagged rules and removes
// its own scheduler.
func TestRollbackScheduler(t *testing.T) {
	r := startRouter(t, Options{ClockSpeed: 600})
	c := dial(t, apiAddr(r, 0), "admin", "")
	run := func(words ...string) map[string]string {
		t.Helper()
		rep, err := c.RunArgs(words)
		if err != nil {
			t.Fatalf("%v: %v", words, err)
		}
		if len(rep.Re) > 0 {
			return rep.Re[0].Map
		}
		return rep.Done.Map
	}
	clk := run("/system/clock/print")
	now, err := time.Parse("2006-01-02 15:04:05", clk["date"]+" "+clk["time"])
	if err != nil {
		t.Fatalf("clock %v: %v", clk, err)
	}
	at := now.Add(2 * time.Minute)
	run("/ip/firewall/filter/add", "=chain=forward", "=action=drop", "=comment=wgboot: harden")
	run("/ip/firewall/filter/add", "=chain=forward", "=action=accept", "=comment=keep me")
	src := `/ip firewall filter remove [find where comment~"^wgboot:"]
:foreach i in=[/ip firewall filter find where comment="keep me"] do={ /ip firewall filter set $i comment="kept \"really\"" }
:log warning "wgboot: rolled back"
/system scheduler remove [find name="wgboot-rollback"]`
	run("/system/scheduler/add", "=name=wgboot-rollback", "=start-date="+at.Format("2006-01-02"), "=start-time="+at.Format("15:04:05"), "=interval=0", "=on-event="+src)
	if got := run("/system/scheduler/print")["next-run"]; got == "" {
		t.Errorf("next-run is empty")
	}
	waitFor(t, "the rollback to remove its scheduler", func() bool {
		rep, err := c.Run("/system/scheduler/print")
		return err == nil && len(rep.Re) == 0
	})
	rep, err := c.Run("/ip/firewall/filter/print", "=.proplist=comment")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rows(rep) {
		got = append(got, m["comment"])
	}
	if diff := cmp.Diff([]string{`kept "really"`}, got); diff != "" {
		t.Errorf("rules after rollback (-want +got):\n%s", diff)
	}
	rep, err = c.Run("/log/print", "?message=wgboot: rolled back")
	if err != nil || len(rep.Re) != 1 || !strings.Contains(rep.Re[0].Map["topics"], "warning") {
		t.Errorf("rollback log line: %v %v", rep, err)
	}
}

func TestScriptsAndReboot(t *testing.T) {
	cfg := `/system scheduler
add name=boot on-event=":log info \"booted\"" start-time=startup
add name=badboot on-event="/ip route add gateway=192.0.2.1 distance=999" start-time=startup
/system script
add name=bad source="/ip address add address=10.9.9.1/24 interface=nope"
add name=good source="/ip firewall address-list add list=from-script address=10.0.0.9"
`
	r := startRouter(t, Options{Config: cfg})
	c := dial(t, apiAddr(r, 0), "admin", "")
	if _, err := c.Run("/system/script/run", "=number=good"); err != nil {
		t.Fatalf("run good: %v", err)
	}
	if _, err := c.Run("/system/script/run", "=number=bad"); err == nil {
		t.Errorf("a failing script ran without error")
	}
	waitFor(t, "a script error in the log", func() bool {
		rep, err := c.Run("/log/print", "?topics=script,error", "?#.", "?message=script error: input does not match any value of interface (/ip/address/add; line 1) (script bad)")
		return err == nil && len(rep.Re) == 1
	})
	waitFor(t, "the failing scheduler's log lines", func() bool {
		rep, err := c.Run("/log/print", "?topics=script,error", "?message=executing script from scheduler (badboot) failed, please check it manually")
		if err != nil || len(rep.Re) != 1 {
			return false
		}
		rep, err = c.Run("/log/print", "?topics=script,error,debug")
		return err == nil && len(rep.Re) == 1 && strings.HasPrefix(rep.Re[0].Map["message"], "(scheduler:badboot) value of distance out of range (1..255) (/ip/route/add; line 1)")
	})
	waitFor(t, "the startup scheduler", func() bool {
		rep, err := c.Run("/log/print", "?message=booted")
		return err == nil && len(rep.Re) == 1
	})
	if _, err := c.Run("/system/reboot"); err != nil {
		t.Fatal(err)
	}
	// The session is cut; a new one sees the same configuration and a second boot.
	waitFor(t, "the session to be cut", func() bool {
		_, err := c.Run("/system/identity/print")
		return err != nil
	})
	waitFor(t, "the router to come back", func() bool {
		cl, err := dialErr(apiAddr(r, 0), "admin", "")
		if err != nil {
			return false
		}
		defer cl.Close()
		rep, err := cl.Run("/log/print", "?message=booted")
		if err != nil || len(rep.Re) != 2 {
			return false
		}
		rep, err = cl.Run("/ip/firewall/address-list/print", "?list=from-script")
		return err == nil && len(rep.Re) == 1
	})
}

func TestClockSet(t *testing.T) {
	r := startRouter(t, Options{})
	c := dial(t, apiAddr(r, 0), "admin", "")
	if _, err := c.Run("/system/clock/set", "=date=2030-01-02", "=time=23:59:58"); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Run("/system/clock/print")
	if err != nil {
		t.Fatal(err)
	}
	got := rep.Re[0].Map["date"] + " " + rep.Re[0].Map["time"]
	if got != "2030-01-02 23:59:58" && got != "2030-01-02 23:59:59" && got != "2030-01-03 00:00:00" {
		t.Errorf("clock after set = %q", got)
	}
	if _, err := c.Run("/system/clock/set", "=time=99:00:00"); trapMsg(err) != "invalid value for argument time" {
		t.Errorf("bad time: %v", err)
	}
}

func TestAddressListTimeout(t *testing.T) {
	r := startRouter(t, Options{ClockSpeed: 600})
	c := dial(t, apiAddr(r, 0), "admin", "")
	if _, err := c.Run("/ip/firewall/address-list/add", "=list=tmp", "=address=10.0.0.1", "=timeout=1m"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run("/ip/firewall/address-list/add", "=list=tmp", "=address=10.0.0.2"); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Run("/ip/firewall/address-list/print", "?address=10.0.0.1", "=.proplist=dynamic,timeout")
	if err != nil || rep.Re[0].Map["dynamic"] != "true" || rep.Re[0].Map["timeout"] == "" {
		t.Errorf("entry with timeout: %v %v", rep, err)
	}
	if strings.Contains(r.Export(), "10.0.0.1") {
		t.Errorf("a dynamic entry was exported")
	}
	waitFor(t, "the entry to expire", func() bool {
		rep, err := c.Run("/ip/firewall/address-list/print", "=.proplist=address")
		return err == nil && len(rep.Re) == 1 && rep.Re[0].Map["address"] == "10.0.0.2"
	})
}

// AdvanceClock fires a one-shot scheduler that is due by the new time.
func TestAdvanceClock(t *testing.T) {
	r := startRouter(t, Options{})
	c := dial(t, apiAddr(r, 0), "admin", "")
	clk, err := c.Run("/system/clock/print")
	if err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse("2006-01-02 15:04:05", clk.Re[0].Map["date"]+" "+clk.Re[0].Map["time"])
	if err != nil {
		t.Fatal(err)
	}
	at := now.Add(time.Hour)
	if _, err := c.Run("/system/scheduler/add", "=name=later", "=start-date="+at.Format("2006-01-02"), "=start-time="+at.Format("15:04:05"),
		"=interval=0", "=on-event=/ip firewall address-list add list=fired address=10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	r.AdvanceClock(time.Hour + time.Minute)
	waitFor(t, "the scheduler to fire", func() bool {
		rep, err := c.Run("/ip/firewall/address-list/print", "?list=fired")
		return err == nil && len(rep.Re) == 1
	})
}
