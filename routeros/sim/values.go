package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseDuration reads a RouterOS duration: "1w2d3h4m5s", "500ms", "00:05:00",
// "1d00:00:10", or a bare number of seconds.
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("sim: empty duration")
	}
	var total time.Duration
	// A "d" prefix may come before a clock part: 1d00:00:10.
	if i := strings.LastIndexByte(s, 'd'); i >= 0 && strings.Contains(s[i+1:], ":") {
		d, err := parseDuration(s[:i+1])
		if err != nil {
			return 0, err
		}
		total += d
		s = s[i+1:]
	}
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) != 3 {
			return 0, fmt.Errorf("sim: invalid duration %q", s)
		}
		mult := []time.Duration{time.Hour, time.Minute, time.Second}
		for i, p := range parts {
			if i == 2 {
				f, err := strconv.ParseFloat(p, 64)
				if err != nil || f < 0 || p == "" {
					return 0, fmt.Errorf("sim: invalid duration %q", s)
				}
				total += time.Duration(f * float64(time.Second))
				continue
			}
			n, err := strconv.ParseUint(p, 10, 32)
			if err != nil {
				return 0, fmt.Errorf("sim: invalid duration %q", s)
			}
			total += time.Duration(n) * mult[i]
		}
		return total, nil
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return total + time.Duration(n)*time.Second, nil
	}
	units := []struct {
		suf string
		d   time.Duration
	}{{"ms", time.Millisecond}, {"us", time.Microsecond}, {"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 {
			return 0, fmt.Errorf("sim: invalid duration %q", s)
		}
		n, _ := strconv.ParseUint(rest[:i], 10, 32)
		rest = rest[i:]
		matched := false
		for _, u := range units {
			if strings.HasPrefix(rest, u.suf) {
				total += time.Duration(n) * u.d
				rest = rest[len(u.suf):]
				matched = true
				break
			}
		}
		if !matched {
			return 0, fmt.Errorf("sim: invalid duration %q", s)
		}
	}
	return total, nil
}

// formatDuration writes d as RouterOS prints it over the API: "1w2d3h4m5s",
// "150ms", "0s".
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	units := []struct {
		suf string
		d   time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}}
	for _, u := range units {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.suf)
			d -= n * u.d
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

// parseBool accepts the spellings RouterOS takes for a boolean.
func parseBool(s string) (bool, bool) {
	switch s {
	case "yes", "true":
		return true, true
	case "no", "false":
		return false, true
	}
	return false, false
}

// versionAtLeast compares dotted RouterOS versions numerically ("7.9" < "7.18");
// suffixes such as "rc1" or " (stable)" are ignored.
func versionAtLeast(v, min string) bool {
	a, b := versionParts(v), versionParts(min)
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x > y
		}
	}
	return true
}

func versionParts(v string) []int {
	if i := strings.IndexAny(v, " rcbeta"); i >= 0 {
		v = v[:i]
	}
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			break
		}
		out = append(out, n)
	}
	return out
}

func formatID(n uint32) string { return "*" + strings.ToUpper(strconv.FormatUint(uint64(n), 16)) }

func parseID(s string) (uint32, bool) {
	if len(s) < 2 || s[0] != '*' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}
