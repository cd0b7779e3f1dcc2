package rsc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWhereMatch(t *testing.T) {
	item := map[string]string{
		"name": "ether1", "comment": "wgboot: api from vpn", "disabled": "true", "dynamic": "false",
		"dst-port": "8729", "chain": "input",
	}
	get := func(p string) (string, bool) { v, ok := item[p]; return v, ok }
	eq := func(p, v string) *Where { return &Where{Op: "=", Prop: p, Value: v} }
	tests := []struct {
		name string
		w    *Where
		want bool
	}{
		{"nil matches all", nil, true},
		{"empty matches all", &Where{}, true},
		{"equal", eq("name", "ether1"), true},
		{"not equal value", eq("name", "ether2"), false},
		{"yes equals true", eq("disabled", "yes"), true},
		{"no equals false", eq("dynamic", "no"), true},
		{"absent equals empty", eq("log-prefix", ""), true},
		{"!=", &Where{Op: "!=", Prop: "chain", Value: "forward"}, true},
		{"regexp", &Where{Op: "~", Prop: "comment", Value: "^wgboot:"}, true},
		{"regexp miss", &Where{Op: "~", Prop: "comment", Value: "^defconf"}, false},
		{"bad regexp never matches", &Where{Op: "~", Prop: "comment", Value: "("}, false},
		{"has true", &Where{Op: "has", Prop: "disabled"}, true},
		{"has false", &Where{Op: "has", Prop: "dynamic"}, false},
		{"has absent", &Where{Op: "has", Prop: "invalid"}, false},
		{"numeric <", &Where{Op: "<", Prop: "dst-port", Value: "10000"}, true},
		{"numeric >=", &Where{Op: ">=", Prop: "dst-port", Value: "8729"}, true},
		{"text >", &Where{Op: ">", Prop: "name", Value: "ether0"}, true},
		{"and", &Where{Op: "and", Args: []*Where{eq("name", "ether1"), eq("chain", "input")}}, true},
		{"and fails", &Where{Op: "and", Args: []*Where{eq("name", "ether1"), eq("chain", "forward")}}, false},
		{"or", &Where{Op: "or", Args: []*Where{eq("name", "x"), eq("chain", "input")}}, true},
		{"not", &Where{Op: "not", Args: []*Where{eq("name", "x")}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.w.Match(get); got != tt.want {
				t.Errorf("Match = %v, want %v (where %s)", got, tt.want, tt.w)
			}
		})
	}
}

func TestWhereString(t *testing.T) {
	tests := []struct {
		name string
		w    *Where
		want string
	}{
		{"nil", nil, ""},
		{"comparison quoted when needed", &Where{Op: "~", Prop: "comment", Value: "^wgboot: "}, `comment~"^wgboot: "`},
		{"not has", &Where{Op: "not", Args: []*Where{{Op: "has", Prop: "dynamic"}}}, "!dynamic"},
		{"nested", &Where{Op: "and", Args: []*Where{
			{Op: "=", Prop: "a", Value: "1"},
			{Op: "or", Args: []*Where{{Op: "=", Prop: "b", Value: "2"}, {Op: "not", Args: []*Where{{Op: "=", Prop: "c", Value: "3"}}}}},
		}}, "a=1 and (b=2 or !(c=3))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.w.String()); diff != "" {
				t.Errorf("String (-want +got):\n%s", diff)
			}
		})
	}
}
