package onboard

import "testing"

// status names every peer as `wgboot peer list` does: the name property
// (RouterOS 7.15+), else the name in wgboot's tag, else "technician" for the
// run's own peer; a peer wgboot did not add and that has no name stays
// nameless (the CLI shows its address).
func TestStatusPeerNames(t *testing.T) {
	const run = "r1"
	iface := Row{"name": "wgboot", "listen-port": "13231", "comment": tag(run, "wg-interface")}
	tests := []struct {
		name string
		peer Row
		want string
	}{
		{"technician, before 7.15", Row{"comment": tag(run, "wg-peer")}, "technician"},
		{"technician named on the router", Row{"name": "laptop", "comment": tag(run, "wg-peer")}, "laptop"},
		{"added peer, before 7.15", Row{"comment": tag(run, peerKeyPrefix+"alice")}, "alice"},
		{"added peer, 7.15+", Row{"name": "alice", "comment": tag(run, peerKeyPrefix+"alice")}, "alice"},
		{"someone else's peer", Row{"comment": "branch office"}, ""},
		{"someone else's named peer", Row{"name": "branch", "comment": ""}, "branch"},
		{"another run's tag", Row{"comment": tag("r0", peerKeyPrefix+"old")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Row{"interface": "wgboot", "allowed-address": "10.77.0.3/32", "public-key": "K="}
			for k, v := range tt.peer {
				p[k] = v
			}
			r := &Router{WireGuard: []Row{iface}, Peers: []Row{p}}
			s := statusOf(r, false)
			if len(s.Peers) != 1 {
				t.Fatalf("peers %v", s.Peers)
			}
			if got := s.Peers[0]["name"]; got != tt.want {
				t.Errorf("name %q, want %q", got, tt.want)
			}
		})
	}
}
