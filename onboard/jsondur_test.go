package onboard

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Durations in JSON are Go duration strings ("5m0s"), and the numbers
// (nanoseconds) an older wgboot wrote still read.
func TestDurationsJSON(t *testing.T) {
	ev := Event{Time: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Step: StepPlan, Kind: KindDone, Message: "m",
		Plan:      &Plan{Settings: Settings{Subnet: "10.77.0.0/24", ConfirmTimeout: 5 * time.Minute}},
		Handshake: &Handshake{Done: true, Age: 1500 * time.Millisecond}, Elapsed: 2 * time.Second}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"confirm_timeout":"5m0s"`, `"age":"1.5s"`, `"elapsed":"2s"`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("%s does not hold %s", b, w)
		}
	}
	var got Event
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ev, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// No elapsed: still left out.
	b, _ = json.Marshal(Event{Step: StepApply, Kind: KindInfo})
	if strings.Contains(string(b), "elapsed") {
		t.Errorf("zero elapsed written: %s", b)
	}
	// An older journal's numbers.
	var s Settings
	if err := json.Unmarshal([]byte(`{"subnet":"10.77.0.0/24","confirm_timeout":300000000000}`), &s); err != nil || s.ConfirmTimeout != 5*time.Minute {
		t.Errorf("old settings: %+v, %v", s, err)
	}
	for _, bad := range []string{`{"confirm_timeout":"5 minutes"}`, `{"confirm_timeout":true}`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
