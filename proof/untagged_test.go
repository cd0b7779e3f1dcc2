package proof

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUntaggedAddsModifiedRule(t *testing.T) {
	before := "/ip firewall filter\nadd action=accept chain=input dst-port=8729 protocol=tcp src-address=192.0.2.9\nadd action=drop chain=input\n"
	tests := []struct {
		name  string
		after string
		want  []string
	}{
		{
			name:  "tagged creations",
			after: before + "add action=accept chain=input comment=\"wgboot:ab12 wg-accept\" dst-port=13231 protocol=udp\n",
		},
		{
			name:  "a modified user rule is not a creation",
			after: "/ip firewall filter\nadd action=accept chain=input dst-port=8729 protocol=tcp src-address-list=wgboot-vpn\nadd action=drop chain=input\n",
		},
		{
			name:  "an untagged creation",
			after: before + "add action=accept chain=input dst-port=8728 protocol=tcp\n",
			want:  []string{"/ip firewall filter add action=accept chain=input dst-port=8728 protocol=tcp"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := untaggedAdds(before, tt.after)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("untaggedAdds (-want +got):\n%s", diff)
			}
		})
	}
}
