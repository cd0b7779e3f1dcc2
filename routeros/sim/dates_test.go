package sim

import (
	"strings"
	"testing"
)

// TestDateForms: before 7.10 the clock prints mmm/dd/yyyy and start-date
// takes only that form (rossim refuses ISO there: a conservative choice,
// not verified on hardware); from 7.10 both are taken and ISO is printed.
func TestDateForms(t *testing.T) {
	tests := []struct {
		version, in string
		want        string // printed start-date; "" = refused
	}{
		{"7.1", "dec/06/2030", "dec/06/2030"},
		{"7.8", "dec/06/2030", "dec/06/2030"},
		{"7.8", "Dec/06/2030", "dec/06/2030"},
		{"7.8", "2030-12-06", ""},
		{"7.9.2", "2030-12-06", ""},
		{"7.10", "2030-12-06", "2030-12-06"},
		{"7.10", "dec/06/2030", "2030-12-06"},
		{"7.20.6", "2030-12-06", "2030-12-06"},
		{"7.20.6", "2030-13-06", ""},
		{"7.8", "dec/32/2030", ""},
		{"7.8", "", "now"},
	}
	for _, tt := range tests {
		t.Run(tt.version+" "+tt.in, func(t *testing.T) {
			r := startRouter(t, Options{Version: tt.version})
			c := dial(t, apiAddr(r, 0), "admin", "")
			clk, err := c.Run("/system/clock/print")
			if err != nil {
				t.Fatal(err)
			}
			date := clk.Re[0].Map["date"]
			iso := strings.Contains(date, "-")
			if wantISO := versionAtLeast(tt.version, "7.10"); iso != wantISO {
				t.Errorf("clock prints %q on %s", date, tt.version)
			}
			words := []string{"/system/scheduler/add", "=name=x", "=start-time=12:00:00", "=on-event=:log info x"}
			if tt.in != "" {
				words = append(words, "=start-date="+tt.in)
			}
			_, err = c.RunArgs(words)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), "start-date") {
					t.Fatalf("start-date %q on %s: %v, want refused", tt.in, tt.version, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("start-date %q on %s: %v", tt.in, tt.version, err)
			}
			rep, err := c.Run("/system/scheduler/print")
			if err != nil {
				t.Fatal(err)
			}
			got := rep.Re[0].Map["start-date"]
			if tt.want == "now" {
				tt.want = date
			}
			if got != tt.want {
				t.Errorf("start-date %q prints %q, want %q", tt.in, got, tt.want)
			}
			if tt.in != "" && rep.Re[0].Map["next-run"] == "" {
				t.Errorf("no next-run for start-date %q", tt.in)
			}
			if _, err := c.Run("/system/scheduler/set", "=numbers=x", "=start-date="+tt.in); tt.in != "" && err != nil {
				t.Errorf("set start-date %q: %v", tt.in, err)
			}
		})
	}
}
