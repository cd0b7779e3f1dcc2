package sim

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/firewall"
)

// The packet path compiles the address lists once per change of the
// table: every way the table changes (add, set, disable, enable, remove,
// an entry's timeout running out) reaches the next packet's verdict.
func TestAddressListChangesReachPackets(t *testing.T) {
	r := startRouter(t, Options{Listen: []Listen{{Iface: "ether1", Addr: testAddr()}}})
	admin := dial(t, apiAddr(r, 0), "admin", "")
	run := func(words ...string) string {
		t.Helper()
		rep, err := admin.RunArgs(words)
		if err != nil {
			t.Fatalf("%v: %v", words, err)
		}
		return rep.Done.Map["ret"]
	}
	run("/ip/firewall/filter/add", "=chain=input", "=src-address-list=blocked", "=action=drop")
	src := netip.MustParseAddr("198.51.100.7")
	verdict := func() string {
		return r.evaluate(firewall.Packet{InInterface: "ether1", Src: src, Dst: netip.MustParseAddr("192.0.2.1"), Protocol: "tcp", SrcPort: 40000, DstPort: 8728}, false).Action
	}
	steps := []struct {
		name  string
		words []string
		want  string
	}{
		{"empty list", nil, "accept"},
		{"other entry", []string{"/ip/firewall/address-list/add", "=list=blocked", "=address=192.0.2.0/24"}, "accept"},
		{"entry added", []string{"/ip/firewall/address-list/add", "=list=blocked", "=address=198.51.100.0/25"}, "drop"},
		{"entry disabled", []string{"/ip/firewall/address-list/disable", "=numbers=*2"}, "accept"},
		{"entry enabled", []string{"/ip/firewall/address-list/enable", "=numbers=*2"}, "drop"},
		{"entry moved away", []string{"/ip/firewall/address-list/set", "=numbers=*2", "=address=198.51.100.128/25"}, "accept"},
		{"entry moved back", []string{"/ip/firewall/address-list/set", "=numbers=*2", "=address=198.51.100.7"}, "drop"},
		{"entry removed", []string{"/ip/firewall/address-list/remove", "=numbers=*2"}, "accept"},
		{"entry with a timeout", []string{"/ip/firewall/address-list/add", "=list=blocked", "=address=198.51.100.7", "=timeout=1s"}, "drop"},
	}
	for _, s := range steps {
		if s.words != nil {
			run(s.words...)
		}
		if got := verdict(); got != s.want {
			t.Fatalf("%s: %s, want %s", s.name, got, s.want)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for verdict() != "accept" {
		if time.Now().After(deadline) {
			t.Fatal("an expired entry still drops the packet")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// bigListConfig holds n address-list entries (with a duplicate when dup).
func bigListConfig(n int, dup bool) string {
	var b strings.Builder
	b.WriteString("/ip firewall address-list\n")
	for i := range n {
		fmt.Fprintf(&b, "add address=%d.%d.%d.1 list=blocklist\n", 1+i/65536, i/256%256, i%256)
	}
	if dup {
		b.WriteString("add address=1.0.0.1 list=blocklist\n")
	}
	b.WriteString("remove [find address=1.0.0.1]\nadd address=1.0.0.1 list=blocklist\n")
	b.WriteString("/ip firewall filter\nadd action=drop chain=input src-address-list=blocklist\n")
	return b.String()
}

// A configuration still refuses a duplicate entry while its import is
// indexed, and accepts one added again after a remove.
func TestBigListConfigDuplicates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Start(ctx, Options{Config: bigListConfig(3000, false)})
	if err != nil {
		t.Fatalf("config with re-added entry: %v", err)
	}
	r.Close()
	if _, err := Start(ctx, Options{Config: bigListConfig(3000, true)}); err == nil || !strings.Contains(err.Error(), "already have such entry") {
		t.Fatalf("config with a duplicate entry: %v, want already have such entry", err)
	}
}

// BenchmarkPacketBigList is one packet through the input path of a router
// whose drop rule names a 50,000-entry list; BenchmarkBootBigList loads
// that configuration.
func BenchmarkPacketBigList(b *testing.B) {
	r, err := Start(b.Context(), Options{Config: bigListConfig(50000, false)})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	p := firewall.Packet{InInterface: "ether1", Src: netip.MustParseAddr("203.0.113.9"), Dst: netip.MustParseAddr("192.0.2.1"), Protocol: "tcp", SrcPort: 40000, DstPort: 8728}
	r.evaluate(p, false)
	b.ReportAllocs()
	for b.Loop() {
		r.evaluate(p, false)
	}
}

func BenchmarkBootBigList(b *testing.B) {
	cfg := bigListConfig(50000, false)
	for b.Loop() {
		r, err := Start(b.Context(), Options{Config: cfg})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
