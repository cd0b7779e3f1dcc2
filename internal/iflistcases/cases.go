// Package iflistcases holds the interface-list table (testdata/cases.json)
// that the firewall, onboard and routeros/sim tests all check their
// interface-list resolution against: one set of messy routers, one answer,
// the one RouterOS gives. It is for tests only.
package iflistcases

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed testdata/cases.json
var casesJSON []byte

// Table is the whole file: the interfaces every case has, and the cases.
type Table struct {
	Interfaces []string `json:"interfaces"`
	Dynamic    []string `json:"dynamic"` // of Interfaces, the dynamic ones
	Cases      []Case   `json:"cases"`
}

// Case is one router's lists and members and the resolved lists RouterOS
// shows for it.
type Case struct {
	Name  string `json:"name"`
	Lists []struct {
		Name    string `json:"name"`
		Include string `json:"include"`
		Exclude string `json:"exclude"`
	} `json:"lists"`
	// Members are [list, interface] or [list, interface, "disabled"].
	Members [][]string          `json:"members"`
	Want    map[string][]string `json:"want"`
}

// Load reads the table.
func Load() (Table, error) {
	var t Table
	if err := json.Unmarshal(casesJSON, &t); err != nil {
		return Table{}, fmt.Errorf("iflistcases: %w", err)
	}
	for _, c := range t.Cases {
		for _, m := range c.Members {
			if len(m) < 2 || len(m) > 3 || len(m) == 3 && m[2] != "disabled" {
				return Table{}, fmt.Errorf("iflistcases: case %q: member %q is not [list, interface] or [list, interface, \"disabled\"]", c.Name, m)
			}
		}
	}
	return t, nil
}
