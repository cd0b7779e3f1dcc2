package onboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Durations are written to JSON as Go duration strings ("5m0s", "1.5s"),
// which a person and a script both read, not as nanoseconds. Reading takes
// both, so journals an older wgboot wrote still load. The struct types
// keep time.Duration fields; these methods only change their encoding.

// jsonDuration reads a duration written either way.
func jsonDuration(raw json.RawMessage, field string) (time.Duration, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return 0, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("onboard: %s: %w", field, err)
		}
		if s == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("onboard: %s %q is not a duration like 5m0s", field, s)
		}
		return d, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("onboard: %s: give a duration like \"5m0s\": %w", field, err)
	}
	return time.Duration(n), nil
}

// omitZero is d as text, "" for zero (for omitempty fields).
func omitZero(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// MarshalJSON writes Elapsed as a duration string.
func (ev Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return json.Marshal(struct {
		plain
		Elapsed string `json:"elapsed,omitempty"`
	}{plain(ev), omitZero(ev.Elapsed)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (ev *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	aux := struct {
		*plain
		Elapsed json.RawMessage `json:"elapsed,omitempty"`
	}{plain: (*plain)(ev)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	d, err := jsonDuration(aux.Elapsed, "elapsed")
	ev.Elapsed = d
	return err
}

// MarshalJSON writes ConfirmTimeout as a duration string.
func (s Settings) MarshalJSON() ([]byte, error) {
	type plain Settings
	return json.Marshal(struct {
		plain
		ConfirmTimeout string `json:"confirm_timeout"`
	}{plain(s), s.ConfirmTimeout.String()})
}

// UnmarshalJSON reads what MarshalJSON writes, and nanoseconds.
func (s *Settings) UnmarshalJSON(b []byte) error {
	type plain Settings
	aux := struct {
		*plain
		ConfirmTimeout json.RawMessage `json:"confirm_timeout"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	d, err := jsonDuration(aux.ConfirmTimeout, "confirm_timeout")
	s.ConfirmTimeout = d
	return err
}

// MarshalJSON writes Age as a duration string.
func (h Handshake) MarshalJSON() ([]byte, error) {
	type plain Handshake
	return json.Marshal(struct {
		plain
		Age string `json:"age"`
	}{plain(h), h.Age.String()})
}

// UnmarshalJSON reads what MarshalJSON writes, and nanoseconds.
func (h *Handshake) UnmarshalJSON(b []byte) error {
	type plain Handshake
	aux := struct {
		*plain
		Age json.RawMessage `json:"age"`
	}{plain: (*plain)(h)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	d, err := jsonDuration(aux.Age, "age")
	h.Age = d
	return err
}
