package fleet

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestRunEmptyPassword: a password variable set to "" is an empty password
// (RouterOS admin often has none), not a missing one. The router here is a
// closed port, so the run fails later, at connect.
func TestRunEmptyPassword(t *testing.T) {
	inv := &Inventory{Pool: netip.MustParsePrefix("10.77.0.0/16"), SubnetBits: 24,
		Routers: []Router{{Address: "127.0.0.1:1", TOFU: true, User: "admin", PasswordEnv: "PW_EMPTY", ConfirmTimeout: time.Minute, Local: "netstack"}}}
	lookup := func(k string) (string, bool) { return "", k == "PW_EMPTY" }
	res, err := Run(context.Background(), inv, Options{StateDir: t.TempDir(), LookupEnv: lookup})
	if err == nil || res[0].Err == nil {
		t.Fatalf("got %v / %v, want a connect failure", err, res[0].Err)
	}
	if strings.Contains(res[0].Err.Error(), "no password") {
		t.Errorf("an empty password was taken for a missing one: %v", res[0].Err)
	}
}
