package rsc

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxDuration bounds parsed durations so sums cannot overflow.
const maxDuration = time.Duration(1<<63 - 1)

var durationUnits = []struct {
	name string
	d    time.Duration
}{
	// Longest names first so "ms" is not read as minutes.
	{"ms", time.Millisecond}, {"us", time.Microsecond}, {"ns", time.Nanosecond},
	{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour},
	{"m", time.Minute}, {"s", time.Second},
}

// ParseDuration reads a RouterOS duration: unit form ("5m", "1d2h3m4s",
// "500ms", "1w"), clock form ("00:05:00", "1d00:05:00", "1w2d03:04:05",
// fractions "00:00:01.5"), or a bare number of seconds ("30"). A leading
// "-" negates.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("rsc: bad duration %q: %s (use a form like 5m, 1d2h3m4s, 500ms or 00:05:00)", orig, why)
	}
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	if s == "" {
		return bad("empty")
	}
	var total time.Duration
	add := func(n uint64, unit time.Duration) bool {
		if n > uint64(maxDuration/unit) {
			return false
		}
		d := time.Duration(n) * unit
		if total > maxDuration-d {
			return false
		}
		total += d
		return true
	}
	// Unit part: digits followed by a unit, repeated; a clock part
	// hh:mm:ss[.frac] may end it.
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return bad(fmt.Sprintf("expected a number at %q", s))
		}
		if i < len(s) && s[i] == ':' {
			d, err := parseClock(s)
			if err != nil {
				return bad(err.Error())
			}
			if total > maxDuration-d {
				return bad("too long")
			}
			total += d
			s = ""
			break
		}
		n, err := strconv.ParseUint(s[:i], 10, 64)
		if err != nil {
			return bad("number too large")
		}
		rest := s[i:]
		if rest == "" {
			// A bare number counts seconds.
			if !add(n, time.Second) {
				return bad("too long")
			}
			s = ""
			break
		}
		matched := false
		for _, u := range durationUnits {
			if strings.HasPrefix(rest, u.name) {
				if !add(n, u.d) {
					return bad("too long")
				}
				s = rest[len(u.name):]
				matched = true
				break
			}
		}
		if !matched {
			return bad(fmt.Sprintf("unknown unit at %q", rest))
		}
	}
	if neg {
		total = -total
	}
	return total, nil
}

// parseClock reads hh:mm:ss[.frac] (hours may exceed 24; mm and ss < 60).
func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("clock form needs hh:mm:ss")
	}
	h, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil {
		return 0, fmt.Errorf("bad hours %q", parts[0])
	}
	m, err := strconv.ParseUint(parts[1], 10, 8)
	if err != nil || m > 59 || len(parts[1]) != 2 {
		return 0, fmt.Errorf("bad minutes %q", parts[1])
	}
	secPart, frac, hasFrac := strings.Cut(parts[2], ".")
	sec, err := strconv.ParseUint(secPart, 10, 8)
	if err != nil || sec > 59 || len(secPart) != 2 {
		return 0, fmt.Errorf("bad seconds %q", parts[2])
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	if hasFrac {
		if frac == "" || len(frac) > 9 {
			return 0, fmt.Errorf("bad fraction %q", frac)
		}
		for _, ch := range frac {
			if ch < '0' || ch > '9' {
				return 0, fmt.Errorf("bad fraction %q", frac)
			}
		}
		ns, _ := strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		d += time.Duration(ns)
	}
	return d, nil
}

// FormatDuration writes d the way RouterOS prints durations: "1w2d3h4m5s",
// "500ms", "1s500ms", "0s" for zero. Sub-millisecond parts are written in
// us and ns so that ParseDuration(FormatDuration(d)) == d.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	u := uint64(d)
	if d < 0 {
		b.WriteByte('-')
		u = uint64(-(d + 1)) + 1 // also right for the minimum duration
	}
	units := []struct {
		name string
		d    uint64
	}{
		{"w", uint64(7 * 24 * time.Hour)}, {"d", uint64(24 * time.Hour)}, {"h", uint64(time.Hour)},
		{"m", uint64(time.Minute)}, {"s", uint64(time.Second)}, {"ms", uint64(time.Millisecond)},
		{"us", uint64(time.Microsecond)}, {"ns", 1},
	}
	for _, un := range units {
		if n := u / un.d; n > 0 {
			b.WriteString(strconv.FormatUint(n, 10))
			b.WriteString(un.name)
			u -= n * un.d
		}
	}
	return b.String()
}
