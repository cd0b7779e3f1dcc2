package firewall

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateRule(t *testing.T) {
	tests := []struct {
		name  string
		table string
		rule  Rule
		want  *ValidationError // nil: valid
	}{
		{"defconf rule", "", r("chain=input action=accept connection-state=established,related,untracked"), nil},
		{"user chain", "", r("chain=wgboot-in action=accept"), nil},
		{"jump with target", "", r("chain=input action=jump jump-target=wgboot-in"), nil},
		{"full api rule", "filter", r("chain=input action=accept protocol=tcp dst-port=8728-8729 src-address-list=!wgboot in-interface=wg0 log=yes log-prefix=x disabled=no"), nil},
		{"dstnat rule", "nat", r("chain=dstnat action=dst-nat protocol=tcp dst-port=80 to-addresses=192.168.88.2 to-ports=8080"), nil},
		{"raw notrack", "raw", r("chain=prerouting action=notrack"), nil},
		{"protocol number", "", r("chain=input protocol=47"), nil},
		{"negated protocol", "", r("chain=input protocol=!icmp"), nil},
		{"sctp ports", "", r("chain=input protocol=sctp dst-port=9"), nil},
		{"unknown matcher passes", "", r("chain=input limit=10,5:packet"), nil},
		{"missing chain", "", r("action=accept"),
			&ValidationError{"chain", "missing value(s) of argument(s) chain"}},
		{"invalid action", "", r("chain=input action=allow"),
			&ValidationError{"action", "input does not match any value of action"}},
		{"drop in nat", "nat", r("chain=dstnat action=drop"),
			&ValidationError{"action", "input does not match any value of action"}},
		{"masquerade in filter", "filter", r("chain=input action=masquerade"),
			&ValidationError{"action", "input does not match any value of action"}},
		{"jump without target", "", r("chain=input action=jump"),
			&ValidationError{"jump-target", "failure: no target chain specified"}},
		{"invalid protocol", "", r("chain=input protocol=tcpp"),
			&ValidationError{"protocol", "input does not match any value of protocol"}},
		{"protocol out of range", "", r("chain=input protocol=256"),
			&ValidationError{"protocol", "input does not match any value of protocol"}},
		{"dst-port without protocol", "", r("chain=input dst-port=8729"),
			&ValidationError{"dst-port", "failure: ports can be specified if proto is tcp,udp,udp-lite,dccp,sctp"}},
		{"src-port with icmp", "", r("chain=input protocol=icmp src-port=1"),
			&ValidationError{"src-port", "failure: ports can be specified if proto is tcp,udp,udp-lite,dccp,sctp"}},
		{"port syntax", "", r("chain=input protocol=tcp dst-port=80,,81"),
			&ValidationError{"dst-port", "invalid value for argument dst-port"}},
		{"port out of range", "", r("chain=input protocol=tcp dst-port=65536"),
			&ValidationError{"dst-port", "value of range out of range (0..65535)"}},
		{"reversed port range", "", r("chain=input protocol=tcp dst-port=90-80"),
			&ValidationError{"dst-port", "invalid value for argument dst-port"}},
		{"address syntax", "", r("chain=input src-address=10.0.0.300"),
			&ValidationError{"src-address", "value of range expects range of ip addresses"}},
		{"prefix syntax", "", r("chain=input dst-address=10.0.0.0/33"),
			&ValidationError{"dst-address", "value of range expects range of ip addresses"}},
		{"mixed range", "", r("chain=input dst-address=10.0.0.1-2001:db8::1"),
			&ValidationError{"dst-address", "value of range expects range of ip addresses"}},
		{"to-ports out of range", "nat", r("chain=dstnat action=redirect protocol=tcp to-ports=70000"),
			&ValidationError{"to-ports", "value of range out of range (0..65535)"}},
		{"to-ports negated", "nat", r("chain=dstnat action=redirect protocol=tcp to-ports=!80"),
			&ValidationError{"to-ports", "invalid value for argument to-ports"}},
		{"connection-state value", "", r("chain=input connection-state=established,open"),
			&ValidationError{"connection-state", "input does not match any value of connection-state"}},
		{"connection-nat-state value", "", r("chain=input connection-nat-state=nat"),
			&ValidationError{"connection-nat-state", "input does not match any value of connection-nat-state"}},
		{"dst-address-type value", "", r("chain=input dst-address-type=mine"),
			&ValidationError{"dst-address-type", "input does not match any value of dst-address-type"}},
		{"ipsec-policy value", "", r("chain=input ipsec-policy=in"),
			&ValidationError{"ipsec-policy", "input does not match any value of ipsec-policy"}},
		{"disabled value", "", r("chain=input disabled=maybe"),
			&ValidationError{"disabled", "input does not match any value of disabled"}},
		{"to-addresses value", "nat", r("chain=dstnat action=dst-nat to-addresses=host"),
			&ValidationError{"to-addresses", "value of range expects range of ip addresses"}},
		{"negated nothing", "", r("chain=input in-interface=!"),
			&ValidationError{"in-interface", "input does not match any value of in-interface"}},
		{"value error before missing chain", "", r("protocol=xyz"),
			&ValidationError{"protocol", "input does not match any value of protocol"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.table == "" {
				err = ValidateRule(tt.rule)
			} else {
				err = ValidateTableRule(tt.table, tt.rule)
			}
			var got *ValidationError
			if err != nil && !errors.As(err, &got) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ValidateRule(%v) (-want +got):\n%s", tt.rule, diff)
			}
			if got != nil && err.Error() != got.Message {
				t.Errorf("Error() = %q, want the trap text %q", err.Error(), got.Message)
			}
		})
	}
}
