package sim

import (
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFaults(t *testing.T) {
	r := startRouter(t, Options{DropAfterCommands: 3, TrapOn: []string{"/ip/route/add"}, Latency: 20 * time.Millisecond})
	c := dial(t, apiAddr(r, 0), "admin", "")
	other := dial(t, apiAddr(r, 0), "admin", "")
	if _, err := c.Run("/ip/route/add", "=gateway=192.0.2.1"); trapMsg(err) != "failure: fault injected by rossim --trap-on" {
		t.Errorf("trap-on: %v", err)
	}
	if _, err := c.Run("/system/identity/print"); err != nil { // command 2
		t.Fatal(err)
	}
	// Command 3 is carried out, then every API connection is severed.
	if _, err := c.Run("/ip/firewall/address-list/add", "=list=x", "=address=10.0.0.1"); err == nil {
		t.Errorf("the 3rd command was answered; the link should have died")
	}
	if _, err := other.Run("/system/identity/print"); err == nil {
		t.Errorf("another session survived drop-after-commands")
	}
	c3 := dial(t, apiAddr(r, 0), "admin", "")
	rep, err := c3.Run("/ip/firewall/address-list/print", "=.proplist=address")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]map[string]string{{"address": "10.0.0.1"}}, rows(rep)); diff != "" {
		t.Errorf("the severed command was not carried out (-want +got):\n%s", diff)
	}
	if s := r.Stats(); s.Severed < 2 {
		t.Errorf("Stats.Severed = %d, want >= 2", s.Severed)
	}
}

func TestUsersAndPolicy(t *testing.T) {
	cfg := `/user group
add name=ro policy=read,api,!write
/user
add name=viewer group=ro password=v
add name=lanonly group=full password=l address=192.168.88.0/24
`
	r := startRouter(t, Options{Config: cfg, Listen: []Listen{{Iface: "ether1", Addr: testAddr(), Src: netip.MustParseAddr("203.0.113.9")}}})
	v := dial(t, apiAddr(r, 0), "viewer", "v")
	if _, err := v.Run("/ip/address/print"); err != nil {
		t.Errorf("read with read policy: %v", err)
	}
	if _, err := v.Run("/ip/firewall/filter/add", "=chain=input"); trapMsg(err) != "not enough permissions (9)" {
		t.Errorf("write without write policy: %v", err)
	}
	if _, err := dialErr(apiAddr(r, 0), "lanonly", "l"); trapMsg(err) != "invalid user name or password (6)" {
		t.Errorf("login from outside the user's address: %v", err)
	}
}

func TestFilesExportBackup(t *testing.T) {
	r := startRouter(t, Options{Config: "/system identity\nset name=files\n"})
	c := dial(t, apiAddr(r, 0), "admin", "")
	rep, err := c.Run("/export")
	if err != nil || len(rep.Re) != 0 || len(rep.Done.Map) != 0 {
		t.Errorf("/export without file= gave %v %v, want a bare !done", rep, err)
	}
	if _, err := c.Run("/export", "=file=cfg"); err != nil {
		t.Fatal(err)
	}
	rep, err = c.Run("/file/print", "?name=cfg.rsc")
	if err != nil || len(rep.Re) != 1 || !strings.Contains(rep.Re[0].Map["contents"], "set name=files") {
		t.Fatalf("cfg.rsc: %v %v", rep, err)
	}
	contents := rep.Re[0].Map["contents"]
	var read strings.Builder
	for off := 0; ; off += 64 {
		rep, err := c.Run("/file/read", "=file=cfg.rsc", "=chunk-size=64", "=offset="+itoa(off))
		if err != nil {
			t.Fatal(err)
		}
		d := rep.Re[0].Map["data"]
		if d == "" {
			break
		}
		read.WriteString(d)
	}
	if read.String() != contents {
		t.Errorf("/file/read chunks differ from contents")
	}
	if _, err := c.Run("/system/backup/save", "=name=b1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b1.backup", func() bool {
		rep, err := c.Run("/file/print", "?name=b1.backup")
		return err == nil && len(rep.Re) == 1 && rep.Re[0].Map["type"] == "backup"
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestExportHidesSensitive(t *testing.T) {
	r := startRouter(t, Options{Config: "/interface wireguard\nadd name=wg1 listen-port=13301\n"})
	c := dial(t, apiAddr(r, 0), "admin", "")
	for _, tt := range []struct {
		args []string
		want bool
	}{{[]string{"=file=plain"}, false}, {[]string{"=file=full", "=show-sensitive="}, true}} {
		if _, err := c.RunArgs(append([]string{"/export"}, tt.args...)); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(tt.args[0], "=file=") + ".rsc"
		rep, err := c.Run("/file/print", "?name="+name)
		if err != nil || len(rep.Re) != 1 {
			t.Fatalf("%s: %v", name, err)
		}
		if got := strings.Contains(rep.Re[0].Map["contents"], "private-key="); got != tt.want {
			t.Errorf("%s has private-key: %v, want %v", name, got, tt.want)
		}
	}
	if !strings.Contains(r.Export(), "private-key=") {
		t.Errorf("Export() must keep keys so that a load gives the same state")
	}
	if got := r.Info().WireGuard["wg1"]; got != 13301 {
		t.Errorf("Info().WireGuard[wg1] = %d", got)
	}
}

func TestJournalGolden(t *testing.T) {
	r := startRouter(t, Options{})
	c := dial(t, apiAddr(r, 0), "admin", "")
	for _, w := range [][]string{
		{"/interface/wireguard/add", "=name=wg0", "=private-key=" + "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="},
		{"/user/set", "=numbers=admin", "=password=n3w"},
		{"/ip/firewall/filter/print", "?chain=input", "?#!"},
		{"/nope/print"},
	} {
		_, _ = c.RunArgs(w)
	}
	got := strings.Join(r.Journal(), "\n") + "\n"
	golden := "testdata/TestJournalGolden.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("journal (-want +got):\n%s", diff)
	}
}

// TestBackupEncryption: a backup saved with a password holds none of the
// configuration in the clear; without one (or with dont-encrypt) it does,
// secrets included, as on RouterOS 7. A file goes with /file remove by
// its exact name.
func TestBackupEncryption(t *testing.T) {
	key := "GB9zAKxqmsJ31VInXUOSTmy71eiz92UlqKEzCf0TYVg="
	r := startRouter(t, Options{Config: "/interface wireguard\nadd name=wg1 listen-port=13301 private-key=\"" + key + "\"\n"})
	c := dial(t, apiAddr(r, 0), "admin", "")
	tests := []struct {
		name  string
		args  []string
		plain bool
		trap  string
	}{
		{"no password", []string{"=name=b1"}, true, ""},
		{"dont-encrypt", []string{"=name=b2", "=dont-encrypt=yes"}, true, ""},
		{"password", []string{"=name=b3", "=password=Xy7-random"}, false, ""},
		{"password and encryption", []string{"=name=b4", "=password=Xy7-random", "=encryption=aes-sha256"}, false, ""},
		{"password but dont-encrypt", []string{"=name=b5", "=password=Xy7-random", "=dont-encrypt=yes"}, true, ""},
		{"unknown parameter", []string{"=name=b6", "=passphrase=x"}, false, "unknown parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.RunArgs(append([]string{"/system/backup/save"}, tt.args...))
			if got := trapMsg(err); got != tt.trap {
				t.Fatalf("save: trap %q, want %q", got, tt.trap)
			}
			if tt.trap != "" {
				return
			}
			name := strings.TrimPrefix(tt.args[0], "=name=") + ".backup"
			var contents string
			waitFor(t, name, func() bool {
				rep, err := c.Run("/file/print", "?name="+name)
				if err == nil && len(rep.Re) == 1 {
					contents = rep.Re[0].Map["contents"]
					return true
				}
				return false
			})
			if got := strings.Contains(contents, key); got != tt.plain {
				t.Errorf("the backup holds the private key in the clear: %v, want %v", got, tt.plain)
			}
			if strings.Contains(contents, "Xy7-random") {
				t.Error("the backup holds its password")
			}
			if _, err := c.Run("/file/remove", "=numbers="+name); err != nil {
				t.Fatalf("remove %s: %v", name, err)
			}
			if rep, err := c.Run("/file/print", "?name="+name); err != nil || len(rep.Re) != 0 {
				t.Errorf("%s still listed after remove: %v", name, err)
			}
		})
	}
	if _, err := c.Run("/file/remove", "=numbers=nope.rsc"); trapMsg(err) != "no such item (4)" {
		t.Errorf("remove of a missing file: %v, want no such item", err)
	}
}
