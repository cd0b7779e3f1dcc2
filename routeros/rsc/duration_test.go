package rsc

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"5m", 5 * time.Minute},
		{"1d2h3m4s", 24*time.Hour + 2*time.Hour + 3*time.Minute + 4*time.Second},
		{"500ms", 500 * time.Millisecond},
		{"1s500ms", 1500 * time.Millisecond},
		{"1w", 7 * 24 * time.Hour},
		{"1w2d", 9 * 24 * time.Hour},
		{"00:05:00", 5 * time.Minute},
		{"1d00:05:00", 24*time.Hour + 5*time.Minute},
		{"1w2d03:04:05", 9*24*time.Hour + 3*time.Hour + 4*time.Minute + 5*time.Second},
		{"36:00:00", 36 * time.Hour},
		{"00:00:01.5", 1500 * time.Millisecond},
		{"30", 30 * time.Second},
		{"0s", 0},
		{"0", 0},
		{"25s", 25 * time.Second},
		{"10us", 10 * time.Microsecond},
		{"7ns", 7},
		{"-5s", -5 * time.Second},
		{" 1h ", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err != nil {
				t.Fatalf("ParseDuration(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseDuration(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `rsc: bad duration "": empty (use a form like 5m, 1d2h3m4s, 500ms or 00:05:00)`},
		{"5x", `rsc: bad duration "5x": unknown unit at "x" (use a form like 5m, 1d2h3m4s, 500ms or 00:05:00)`},
		{"m5", `rsc: bad duration "m5": expected a number at "m5" (use a form like 5m, 1d2h3m4s, 500ms or 00:05:00)`},
		{"00:61:00", `rsc: bad duration "00:61:00": bad minutes "61" (use a form like 5m, 1d2h3m4s, 500ms or 00:05:00)`},
		{"00:05", `rsc: bad duration "00:05": clock form needs hh:mm:ss (use a form like 5m, 1d2h3m4s, 500ms or 00:05:00)`},
		{"00:00:00.", `rsc: bad duration "00:00:00.": bad fraction "" (use a form like 5m, 1d2h3m4s, 500ms or 00:05:00)`},
		{"99999999999999999999s", `rsc: bad duration "99999999999999999999s": number too large (use a form like 5m, 1d2h3m4s, 500ms or 00:05:00)`},
		{"9999999999w", `rsc: bad duration "9999999999w": too long (use a form like 5m, 1d2h3m4s, 500ms or 00:05:00)`},
		{"1h-5m", `rsc: bad duration "1h-5m": expected a number at "-5m" (use a form like 5m, 1d2h3m4s, 500ms or 00:05:00)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseDuration(tt.in)
			got := "<nil>"
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseDuration(%q) error (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{5 * time.Minute, "5m"},
		{500 * time.Millisecond, "500ms"},
		{1500 * time.Millisecond, "1s500ms"},
		{24*time.Hour + 2*time.Hour + 3*time.Minute + 4*time.Second, "1d2h3m4s"},
		{9 * 24 * time.Hour, "1w2d"},
		{25 * time.Second, "25s"},
		{-90 * time.Second, "-1m30s"},
		{1500 * time.Nanosecond, "1us500ns"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FormatDuration(tt.in)); diff != "" {
				t.Errorf("FormatDuration(%v) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"5m", "1d2h3m4s", "500ms", "00:05:00", "1w2d03:04:05.25", "30", "-1s", "9999999999w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		out := FormatDuration(d)
		back, err := ParseDuration(out)
		if err != nil {
			t.Fatalf("ParseDuration(FormatDuration(%v) = %q): %v", d, out, err)
		}
		if back != d {
			t.Fatalf("round trip of %q: %v -> %q -> %v", s, d, out, back)
		}
	})
}
