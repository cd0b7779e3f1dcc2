package sim

import (
	"testing"
	"time"
)

// BenchmarkCommand measures one API round trip (print of a single-item
// menu), without and with injected latency.
func BenchmarkCommand(b *testing.B) {
	for _, lat := range []time.Duration{0, 5 * time.Millisecond} {
		b.Run(lat.String(), func(b *testing.B) {
			r, err := Start(b.Context(), Options{Latency: lat, Listen: []Listen{{Iface: "ether1", Addr: testAddr()}}})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			c, err := dialErr(apiAddr(r, 0), "admin", "")
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Run("/system/identity/print"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStart measures starting and closing a router from the defconf-sized config.
func BenchmarkStart(b *testing.B) {
	cfg := "/interface bridge\nadd name=bridge\n/ip address\nadd address=192.168.88.1/24 interface=bridge\n/ip firewall filter\nadd chain=input action=drop in-interface=ether1\n"
	for i := 0; i < b.N; i++ {
		r, err := Start(b.Context(), Options{Config: cfg, Listen: []Listen{{Iface: "ether1", Addr: testAddr()}}})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
