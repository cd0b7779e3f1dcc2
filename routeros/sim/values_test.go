package sim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		text string
	}{
		{"5m", 5 * time.Minute, "5m"},
		{"1d2h3m4s", 26*time.Hour + 3*time.Minute + 4*time.Second, "1d2h3m4s"},
		{"00:05:00", 5 * time.Minute, "5m"},
		{"1d00:00:10", 24*time.Hour + 10*time.Second, "1d10s"},
		{"90", 90 * time.Second, "1m30s"},
		{"1w", 7 * 24 * time.Hour, "1w"},
		{"150ms", 150 * time.Millisecond, "150ms"},
		{"0s", 0, "0s"},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if diff := cmp.Diff(tt.text, formatDuration(got)); diff != "" {
			t.Errorf("formatDuration(%v) (-want +got):\n%s", got, diff)
		}
	}
	for _, bad := range []string{"", "5x", "m", "1:2", "-5s", "1d:"} {
		if _, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) accepted", bad)
		}
	}
}

func TestVersionAtLeast(t *testing.T) {
	tests := []struct {
		v, min string
		want   bool
	}{
		{"7.18", "7.18", true}, {"7.9", "7.18", false}, {"7.20.6", "7.18", true},
		{"7.17.2", "7.18", false}, {"7.18rc1", "7.18", true}, {"8.0", "7.24", true},
	}
	for _, tt := range tests {
		if got := versionAtLeast(tt.v, tt.min); got != tt.want {
			t.Errorf("versionAtLeast(%q, %q) = %v", tt.v, tt.min, got)
		}
	}
}

func FuzzDuration(f *testing.F) {
	for _, s := range []string{"5m", "1d2h", "00:01:02", "1d00:00:10", "90", "1w2d", "150ms", ":::", "9999999999s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err != nil || d < 0 || d > 100*365*24*time.Hour {
			return
		}
		// What rossim prints, it must read back.
		back, err := parseDuration(formatDuration(d))
		if err != nil || back != d.Truncate(time.Millisecond) {
			t.Errorf("%q -> %v -> %q -> %v, %v", s, d, formatDuration(d), back, err)
		}
	})
}

func FuzzQuery(f *testing.F) {
	for _, s := range []string{"?name=x", "?-name", "?#|!", "?<.id=*5", "?#0.&", "?>port=80"} {
		f.Add(s, "?#|")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		q, err := parseQuery([]string{a, b})
		if err != nil {
			return
		}
		_, _ = q.match(func(k string) (string, bool) { return k, k != "" })
	})
}
