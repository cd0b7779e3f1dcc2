package routeros

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func TestCommandPath(t *testing.T) {
	tests := []struct{ menu, verb, want string }{
		{"/ip firewall filter", "print", "/ip/firewall/filter/print"},
		{"/ip/firewall/filter", "print", "/ip/firewall/filter/print"},
		{"ip firewall filter", "add", "/ip/firewall/filter/add"},
		{"/interface wireguard peers", "set", "/interface/wireguard/peers/set"},
		{"/ip  firewall\taddress-list ", "remove", "/ip/firewall/address-list/remove"},
		{"/ip/service/", "", "/ip/service"},
		{"/", "export", "/export"},
		{"", "login", "/login"},
	}
	for _, tt := range tests {
		if got := CommandPath(tt.menu, tt.verb); got != tt.want {
			t.Errorf("CommandPath(%q, %q) = %q, want %q", tt.menu, tt.verb, got, tt.want)
		}
	}
}

func TestBuilders(t *testing.T) {
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"add ordered", AddCmd("/ip firewall filter", Args{{"chain", "input"}, {"action", "accept"}, {"comment", "wgboot: api via vpn"}, {"place-before", "*3"}}),
			[]string{"/ip/firewall/filter/add", "=chain=input", "=action=accept", "=comment=wgboot: api via vpn", "=place-before=*3"}},
		{"set by id", SetCmd("/ip firewall filter", "*1F", Args{{"disabled", "yes"}}),
			[]string{"/ip/firewall/filter/set", "=.id=*1F", "=disabled=yes"}},
		{"set by name", SetCmd("/ip service", "api-ssl", Args{{"certificate", "wgboot"}}),
			[]string{"/ip/service/set", "=numbers=api-ssl", "=certificate=wgboot"}},
		{"generic", Cmd("/system scheduler", "add", Args{{"name", "wgboot-rollback"}, {"interval", "0"}}),
			[]string{"/system/scheduler/add", "=name=wgboot-rollback", "=interval=0"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestHelpersWire records the words the typed helpers put on the wire.
func TestHelpersWire(t *testing.T) {
	f := &fakeRouter{Handle: func(words []string) [][]string {
		switch words[0] {
		case "/ip/firewall/filter/print":
			return [][]string{{"!re", "=.id=*1", "=chain=input"}, {"!re", "=.id=*2", "=chain=forward"}, {"!done"}}
		case "/ip/firewall/filter/add":
			return [][]string{{"!done", "=ret=*1F"}}
		case "/ip/address/add":
			return [][]string{{"!done"}}
		case "/ip/firewall/filter/remove":
			return [][]string{{"!trap", "=message=no such item (4)"}, {"!done"}}
		}
		return [][]string{{"!done"}}
	}}
	ctx := context.Background()
	f.User, f.Password = "wgboot", "pw"
	c := dialFake(t, ctx, Config{Addr: f.start(t), User: "wgboot", Password: "pw"})
	rep, err := c.Run(ctx, "/ip/firewall/filter/print", "=.proplist=.id,chain", "?chain=input")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]map[string]string{{".id": "*1", "chain": "input"}, {".id": "*2", "chain": "forward"}}, rep.Re); diff != "" {
		t.Errorf("print (-want +got):\n%s", diff)
	}
	id, err := c.Add(ctx, "/ip firewall filter", Args{{"chain", "input"}, {"action", "accept"}, {"comment", "wgboot: x"}})
	if err != nil || id != "*1F" {
		t.Errorf("Add = %q, %v; want *1F", id, err)
	}
	if _, err := c.Add(ctx, "/ip address", Args{{"address", "10.77.0.1/24"}, {"interface", "wg"}}); err == nil {
		t.Errorf("Add without ret succeeded")
	}
	if err := c.Set(ctx, "/ip service", "api-ssl", Args{{"address", "10.77.0.0/24"}}); err != nil {
		t.Error(err)
	}
	if _, err := c.Run(ctx, "/ip/firewall/filter/move", "=numbers=*1F", "=destination=*1"); err != nil {
		t.Error(err)
	}
	if _, err := c.Run(ctx, "/ip/firewall/filter/remove", "=numbers=*1F,*20"); !IsNotFound(err) {
		t.Errorf("remove = %v, want not found", err)
	}
	var b strings.Builder
	for _, cmd := range f.commands() {
		b.WriteString(redact(cmd))
		b.WriteByte('\n')
	}
	golden(t, b.String())
}
